import Foundation
import Testing
import NexusBuild
import NexusCore
import NexusProject
import NexusScaffold
import NexusTesting
import NexusWarehouse
import NexusEngine
import NexusOutputs

/// Whole runs on the Snowflake stand-in (Snowflake's SQL API v2 over fakesnow, see
/// `FakeSnowflake`) against the same project on SQLite: every nexus table and every model,
/// the Customer.io outputs included, row for row after a canonical sort.
///
/// What fakesnow cannot show (it runs DuckDB): case-sensitive quoted names (DuckDB matches
/// names without regard to case, so a model's upper-cased columns would be found either way;
/// the case mapping is checked on its own in SnowflakeWarehouseTests), Snowflake's own
/// scripting and SWAP WITH (not used yet), and the spelling of a timestamp inside
/// OBJECT_CONSTRUCT: Snowflake writes `2025-03-15 06:22:11.000` (as nexus does on SQLite and
/// PostgreSQL), fakesnow `2025-03-15 06:22:11`. Those JSON values are compared with the
/// milliseconds taken off, and the test counts them, so the gap stays visible.
struct SnowflakeParityTests {
    @Test func theDemoBuildsOnSnowflakeAsOnSQLite() throws {
        let server = try FakeSnowflake()
        let base = NSTemporaryDirectory() + "nexus-sfparity-" + UUID().uuidString
        try DemoProject.write(to: base)
        let snow = try SnowflakeParityTests.copy(base, onto: server)
        defer { for d in [base, snow] { try? FileManager.default.removeItem(atPath: d) } }
        let sqlite = try PostgresParityTests.build(base), snowflake = try PostgresParityTests.build(snow)
        #expect(snowflake.engine == "sql")
        #expect((sqlite.rows["nexus_entities"]?.count ?? 0) > 300)
        let relaxed = SnowflakeParityTests.expectSameRows(sqlite.rows, snowflake.rows)
        // Only the relationship outputs' relationshipAttributes hold timestamps in JSON: one per row.
        let relationshipRows = ["cio_location_relationships", "customer_io_location_relationships"].map { sqlite.rows[$0]?.count ?? 0 }.reduce(0, +)
        #expect(relaxed > 0 && relaxed == relationshipRows, "JSON values compared without milliseconds: \(relaxed) of \(relationshipRows)")

        // A second run (a server keeps no build record: it builds again) publishes by swapping
        // each table with its published self, so none is ever missing; the rows stay the same.
        let swapsBefore = try server.stats().swaps
        let again = try PostgresParityTests.build(snow)
        let swapped = try server.stats().swaps - swapsBefore
        #expect(swapped >= 10, "tables swapped: \(swapped)")
        #expect(again.rows == snowflake.rows)
        // Sync from Snowflake sends exactly the calls the SQLite build sends (messageIds
        // included; timestamps inside relationshipAttributes become Unix seconds either way),
        // streaming each output partition by partition; a second sync sends nothing.
        let fromSQLite = try SnowflakeParityTests.sync(try Runner.openWarehouse(try Project.load(root: base)), base)
        let fromSnowflake = try SnowflakeParityTests.sync(try Runner.openWarehouse(try Project.load(root: snow)), snow)
        #expect(fromSnowflake.calls.count > 3000 && fromSnowflake.summary.failed == 0)
        #expect(fromSnowflake.calls == fromSQLite.calls)
        let twice = try SnowflakeParityTests.sync(try Runner.openWarehouse(try Project.load(root: snow)), snow)
        #expect(twice.calls.isEmpty && twice.summary.unchanged == fromSnowflake.calls.count)

        // A run that fails (a model reading a relation that is not there) leaves the last build
        // as it was, and no staging behind.
        try "select * from {{ ref('nexus_entities') }} join no_such_table using (entity_id)".write(toFile: snow + "/models/zz_broken.sql", atomically: true, encoding: .utf8)
        #expect(throws: NexusError.self) { try PostgresParityTests.build(snow) }
        try FileManager.default.removeItem(atPath: snow + "/models/zz_broken.sql")
        let w = try Runner.openWarehouse(try Project.load(root: snow))
        #expect(try w.relations().filter { $0.name.hasPrefix(Runner.stagePrefix) }.isEmpty)
        #expect(try w.integer("SELECT count(*) FROM \"nexus_entities\"") == (sqlite.rows["nexus_entities"]?.count ?? -1))
    }

    /// Snowflake stores a model's unquoted names upper case (`select id as event_id` makes
    /// EVENT_ID); the core unions select each contract column by the source's own spelling.
    /// (fakesnow, on DuckDB, would find "event_id" either way: the SQL text is what is checked.)
    @Test func theCoreUnionsReadUpperCasedColumnsByTheirSpelling() throws {
        let server = try FakeSnowflake()
        let dir = NSTemporaryDirectory() + "nexus-sfcase-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try ("name: p\n" + server.warehouseYAML()).write(toFile: dir + "/nexus.yml", atomically: true, encoding: .utf8)
        let w = try Runner.openWarehouse(try Project.load(root: dir))
        try w.execute("""
            CREATE TABLE "s_events" AS SELECT 'e1' AS "EVENT_ID", to_timestamp_ntz('2025-01-01 00:00:00') AS "OCCURRED_AT", 'x' AS "EVENT_NAME",
                   'y' AS "EVENT_TYPE", 's' AS "SOURCE"
            """)
        #expect(try w.columns(of: "s_events")?.map(\.name) == ["EVENT_ID", "OCCURRED_AT", "EVENT_NAME", "EVENT_TYPE", "SOURCE"])
        let input = SourceInput(source: "s", relation: "s_events", physicalName: "s_events", file: nil, entityTypes: nil)
        let sql = try CoreTables(warehouse: w).unionSQL(kind: .events, inputs: [input], processedAt: 0)
        #expect(sql.contains("cast(\"EVENT_ID\" as varchar) AS \"event_id\"") && sql.contains("\"OCCURRED_AT\" AS \"occurred_at\""), "\(sql)")
        #expect(!sql.contains("\"event_id\" AS") && !sql.contains("(\"source\""), "\(sql)")
        #expect(try w.query(sql).rows.first?.first == .text("e1"))
    }

    /// Opening the warehouse: each mistake in one line naming what to check.
    @Test func openingMistakesNameTheSetting() throws {
        let dir = NSTemporaryDirectory() + "nexus-sfopen-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = try FakeSnowflake()
        func opening(_ yml: String) -> String {
            do {
                try ("name: p\n" + yml).write(toFile: dir + "/nexus.yml", atomically: true, encoding: .utf8)
                _ = try Runner.openWarehouse(try Project.load(root: dir))
                return "opened"
            } catch { return "\(error)" }
        }
        let good = server.warehouseYAML()
        #expect(opening(good) == "opened")
        #expect(opening(good.replacingOccurrences(of: server.url, with: "http://example.com")).contains("plain http: only a loopback address may be"))
        #expect(opening(good.replacingOccurrences(of: server.keyDir + "/key.p8", with: dir + "/none.p8")).contains("cannot read the Snowflake private key file \(dir)/none.p8"))
        let encrypted = server.warehouseYAML(encrypted: true)
        #expect(opening(encrypted).contains("NEXUS_TEST_SNOWFLAKE_PASSPHRASE (warehouse.private_key_passphrase_env) is not set"))
    }

    /// A copy of the project at `base` whose nexus.yml names the stand-in instead of its SQLite
    /// file, with no engine named (on Snowflake the default is the SQL engine).
    static func copy(_ base: String, onto server: FakeSnowflake) throws -> String {
        let snow = base + "-snowflake"
        try FileManager.default.copyItem(atPath: base, toPath: snow)
        try replaceWarehouse(inProject: snow, with: server.warehouseYAML())
        return snow
    }

    /// A generated clinic with its Customer.io outputs (seeds, not models): the same rows on the
    /// stand-in as on SQLite, in every nexus table and output.
    @Test func aGeneratedClinicBuildsOnSnowflakeAsOnSQLite() throws {
        let server = try FakeSnowflake()
        let base = NSTemporaryDirectory() + "nexus-sfclinic-" + UUID().uuidString
        _ = try SyntheticClinic(persons: 400, seed: 7, customerIO: true).write(to: base)
        let snow = try SnowflakeParityTests.copy(base, onto: server)
        defer { for d in [base, snow] { try? FileManager.default.removeItem(atPath: d) } }
        let sqlite = try PostgresParityTests.build(base), snowflake = try PostgresParityTests.build(snow)
        #expect(snowflake.engine == "sql" && sqlite.engine == "native")
        #expect((sqlite.rows["nexus_entities"]?.count ?? 0) >= 400)
        let relaxed = SnowflakeParityTests.expectSameRows(sqlite.rows, snowflake.rows)
        // The memberships output's relationshipAttributes hold timestamps: one per row.
        let memberships = sqlite.rows["cio_memberships"]?.count ?? 0
        #expect(relaxed > 0 && relaxed == memberships, "JSON values compared without milliseconds: \(relaxed) of \(memberships)")
    }

    /// Every relation's rows equal on both sides, except that a JSON object's
    /// `"… hh:mm:ss.000"` values on the SQLite side are compared without the milliseconds
    /// (fakesnow's spelling of a timestamp inside OBJECT_CONSTRUCT); returns how many such
    /// values there were, so that the gap stays counted.
    static func expectSameRows(_ sqlite: [String: [[String?]]], _ snowflake: [String: [[String?]]]) -> Int {
        var relaxed = 0
        #expect(sqlite.keys.sorted() == snowflake.keys.sorted())
        for (name, sqliteRows) in sqlite.sorted(by: { $0.key < $1.key }) {
            let rows = sqliteRows.map { $0.map { v -> String? in
                guard let v, v.hasPrefix("{"), v.contains(".000\"") else { return v }
                relaxed += 1
                return v.replacingOccurrences(of: ".000\"", with: "\"")
            } }
            let theirs = snowflake[name] ?? []
            let diff = zip(rows, theirs).first { $0.0 != $0.1 }
            #expect(rows == theirs, "\(name): \(rows.count) rows on SQLite, \(theirs.count) on Snowflake; first difference: \(diff.map { "\($0.0) vs \($0.1)" } ?? "-")")
        }
        return relaxed
    }

    /// Syncs every Customer.io output of the project at `root` to a fresh stand-in; the calls
    /// it received, canonical (sorted keys, without the send time), sorted.
    static func sync(_ w: any Warehouse, _ root: String) throws -> (calls: [String], summary: SyncSender.Summary) {
        let server = try FakeCustomerIO()
        let project = try Project.load(root: root)
        let names = try project.models.map(\.name).filter { try w.columns(of: $0).map { SyncShape(columns: $0.map(\.name)) != nil } ?? false }
        let planner = SyncPlanner(warehouse: w)
        var settings = SyncSender.Settings(baseURL: server.url, apiKey: FakeCustomerIO.key, requestsPerSecond: 500)
        settings.baseBackoff = 0.01
        let summary = try SyncSender(settings: settings, warehouse: w, runID: "parity").send(try planner.outputs(names), planner: planner, full: false, mode: .upsert)
        let calls = try server.received().calls.map { call in
            var c = call
            c.removeValue(forKey: "sentAt")
            return String(decoding: try JSONSerialization.data(withJSONObject: c, options: [.sortedKeys]), as: UTF8.self)
        }.sorted()
        return (calls, summary)
    }
}
