import Foundation
import Testing
import NexusBuild
import NexusCore
import NexusEngine
import NexusProject
import NexusScaffold
import NexusWarehouse

/// `engine: sql` and the native engine build the same tables, row for row, through the whole
/// run: every nexus table and every model built on them (the Customer.io outputs included).
struct EngineParityTests {
    /// Builds the project at `root` with `engine`, returning every relation's rows as sorted text.
    static func build(_ root: String, engine: String) throws -> [String: [[String?]]] {
        let yml = root + "/nexus.yml"
        let text = try String(contentsOfFile: yml, encoding: .utf8)
        try (text + "\nengine: \(engine)\n").write(toFile: yml, atomically: true, encoding: .utf8)
        let project = try Project.load(root: root)
        let w = try Runner.openSQLite(project)
        let reporter = SilentReporter()
        try Runner(project: project, warehouse: w, reporter: reporter, processedAt: 0).run()
        var out: [String: [[String?]]] = [:]
        for name in project.nexusRelations + project.models.map(\.name) {
            out[name] = try w.query("SELECT * FROM \"\(name)\"").rows.map { $0.map(\.string) }.sorted { DifferentialTests.rowOrder($0, $1) }
        }
        out["(warnings)"] = [reporter.warnings.sorted()]
        return out
    }

    static func copy(_ make: (String) throws -> Void) throws -> (String, String) {
        let a = NSTemporaryDirectory() + "nexus-parity-" + UUID().uuidString, b = a + "-sql"
        try make(a)
        try FileManager.default.copyItem(atPath: a, toPath: b)
        return (a, b)
    }

    static func compare(_ native: [String: [[String?]]], _ sql: [String: [[String?]]]) {
        #expect(native.keys.sorted() == sql.keys.sorted())
        for (name, rows) in native.sorted(by: { $0.key < $1.key }) {
            #expect(rows == sql[name], "\(name): \(rows.count) rows native, \(sql[name]?.count ?? 0) with the SQL engine")
        }
    }

    @Test func theDemo() throws {
        let (a, b) = try EngineParityTests.copy { try DemoProject.write(to: $0) }
        let native = try EngineParityTests.build(a, engine: "native"), sql = try EngineParityTests.build(b, engine: "sql")
        #expect((native["nexus_entities"]?.count ?? 0) > 100)
        EngineParityTests.compare(native, sql)
    }

    @Test func aGeneratedClinicWithItsCustomerIOOutputs() throws {
        let (a, b) = try EngineParityTests.copy { _ = try SyntheticClinic(persons: 1500, seed: 9, customerIO: true).write(to: $0) }
        defer { for d in [a, b] { try? FileManager.default.removeItem(atPath: d) } }
        let native = try EngineParityTests.build(a, engine: "native"), sql = try EngineParityTests.build(b, engine: "sql")
        #expect((native["nexus_entities"]?.count ?? 0) >= 1500)
        EngineParityTests.compare(native, sql)
    }

    /// A killed SQL-engine run leaves work tables; they carry the staging prefix, so the next
    /// run drops them with the rest of the staging, and a finished run leaves none.
    @Test func aKilledRunsWorkTablesGoWithTheNextRun() throws {
        let f = Fixture()
        f.event("e1", day: 1, [("email", "a@x"), ("phone", "1")])
        f.yml += "engine: sql\n"
        let w = try f.run()
        #expect(try w.relations().filter { $0.name.hasPrefix("__nexus") }.isEmpty)
        try w.execute("CREATE TABLE \"\(SQLEngine.workPrefix)nodes\" (node INTEGER)")
        _ = try f.build(force: true)
        #expect(try w.relations().filter { $0.name.hasPrefix("__nexus") }.isEmpty)
        #expect(try w.count("SELECT count(*) FROM nexus_entities") == 1)
    }
}
