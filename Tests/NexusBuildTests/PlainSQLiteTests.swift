import Foundation
import Testing
import NexusBuild
import NexusCore
import NexusProject
import NexusScaffold
import NexusTesting
import NexusWarehouse

/// The warehouse is a plain SQLite file: every relation, the Customer.io views included,
/// opens in SQLite clients that have none of nexus's functions (Debian's `sqlite3` shell,
/// Python's `sqlite3` module), and they read the rows nexus reads.
struct PlainSQLiteTests {
    /// Runs a program (found on PATH) and returns its standard output; fails the test on a
    /// non-zero exit.
    func output(_ arguments: [String]) throws -> String {
        let r = try runCommand("/usr/bin/env", arguments)
        #expect(r.status == 0, "\(arguments.prefix(2)): \(r.stderr)")
        return r.stdout
    }

    /// Every relation of the built project at `dir`, read whole by both clients: row counts
    /// equal nexus's, and the shell's text of `checked` equals nexus's.
    func readEverything(_ dir: String, checked: String) throws {
        let path = dir + "/warehouse.sqlite"
        let w = try SQLiteWarehouse(path: path)
        let relations = try w.relations().map(\.name)
        #expect(relations.count > 15)
        // Python reads each relation whole (every column of every row) and prints its count.
        let script = """
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[1])
            for name in sys.argv[2:]:
                print(name, len(db.execute('SELECT * FROM "%s"' % name).fetchall()))
            """
        let python = try output(["python3", "-c", script, path] + relations)
        for (name, line) in zip(relations, python.split(separator: "\n")) {
            let expected = try w.query("SELECT * FROM \"\(name)\"").rows.count
            #expect(line == "\(name) \(expected)", "python: \(line)")
            let shell = try output(["sqlite3", "-readonly", "-noheader", "-list", path, "SELECT count(*) FROM (SELECT * FROM \"\(name)\" ORDER BY 1)"])
            #expect(shell == "\(expected)\n", "sqlite3 shell on \(name): \(shell)")
        }
        let shell = try output(["sqlite3", "-readonly", "-noheader", "-list", "-separator", "\t", path, "SELECT * FROM \"\(checked)\" ORDER BY 1, 2, 3"])
        let mine = try w.strings("SELECT * FROM \"\(checked)\" ORDER BY 1, 2, 3").map { $0.map { $0 ?? "" }.joined(separator: "\t") + "\n" }.joined()
        #expect(!mine.isEmpty)
        #expect(shell == mine)
    }

    @Test func theDemoOpensInPlainClients() throws {
        let dir = NSTemporaryDirectory() + "nexus-plain-" + UUID().uuidString
        try DemoProject.write(to: dir)
        let project = try Project.load(root: dir)
        let reporter = SilentReporter()
        try Runner(project: project, warehouse: try Runner.openSQLite(project), reporter: reporter, processedAt: 0).run()
        // The seed's Customer.io models stay views: their SQL is SQLite's own now.
        for name in ["customer_io_persons", "customer_io_events", "customer_io_locations", "customer_io_location_relationships"] {
            #expect(try SQLiteWarehouse(path: dir + "/warehouse.sqlite").relationKind(name) == .view)
        }
        try readEverything(dir, checked: "customer_io_location_relationships")
    }

    @Test func aGeneratedProjectWithTheSeedModelsOpensInPlainClients() throws {
        let dir = NSTemporaryDirectory() + "nexus-plain-" + UUID().uuidString
        _ = try SyntheticClinic(persons: 300, customerIO: true, seedOutputs: true).write(to: dir)
        let project = try Project.load(root: dir)
        try Runner(project: project, warehouse: try Runner.openSQLite(project), reporter: SilentReporter(), processedAt: 0).run()
        try readEverything(dir, checked: "customer_io_events")
    }

    /// A view that needs a function only nexus has (md5, here through create_nexus_id) is
    /// stored as a table, and the run says so.
    @Test func aViewCallingNexusOnlyFunctionsIsStoredAsATable() throws {
        let f = Fixture()
        f.event("e1", day: 1, [("email", "a@x.test")])
        f.extraFiles["models/ids.sql"] = """
            {{ config(materialized='view') }}
            select event_id, {{ nexus.create_nexus_id('thing', ['event_id']) }} as thing_id, floor(2.5) as f from {{ ref('nexus_events') }}
            """
        f.extraFiles["models/plain.sql"] = """
            {{ config(materialized='view') }}
            select event_id, to_timestamp_ntz(occurred_at) as t, true as yes from {{ ref('ids') }} join {{ ref('nexus_events') }} using (event_id)
            """
        let (w, reporter) = try f.runReporting()
        #expect(try w.relationKind("ids") == .table)
        #expect(try w.relationKind("plain") == .view)
        let note = try #require(reporter.steps.first { $0.name == "ids" }?.note)
        #expect(note.contains("stored as a table") && note.contains("floor, md5"), "\(note)")
        #expect(reporter.steps.first { $0.name == "plain" }?.note == nil)
        let plain = try SQLiteWarehouse(path: f.root + "/warehouse.sqlite", nexusFunctions: false)
        #expect(try plain.strings("SELECT event_id, t, yes FROM plain") == [["e1", "2025-01-01 00:00:00", "1"]])
        #expect(try plain.count("SELECT count(*) FROM ids WHERE thing_id LIKE 'thi_%' AND f = 2") == 1)
    }
}
