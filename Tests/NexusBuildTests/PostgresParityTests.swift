import Foundation
import Testing
import NexusBuild
import NexusCore
import NexusEngine
import NexusProject
import NexusSQL
import NexusScaffold
import NexusTesting
import NexusWarehouse

/// Whole runs on a real PostgreSQL server (see `PostgresServer`) against the same project on
/// SQLite: every nexus table and every model, the Customer.io outputs included, row for row
/// after a canonical sort, with both engines on PostgreSQL.
struct PostgresParityTests {
    /// Points the project at `root` to a fresh schema of the test server, with `engine`
    /// (nil: the warehouse's default).
    static func usePostgres(_ root: String, engine: String?) throws -> String {
        let server = try PostgresServer.shared()
        let schema = "b_" + UUID().uuidString.prefix(8).lowercased()
        var settings = PostgresWarehouse.Settings(host: server.host, port: server.port, database: server.database, user: server.user, sslmode: "disable")
        settings.passwordFile = server.passwordFile
        try PostgresWarehouse(settings).execute("CREATE SCHEMA \(schema)")
        try server.useInProject(root, schema: schema, engine: engine)
        return schema
    }

    /// Builds the project and reads every relation as canonical text rows: sorted, timestamps
    /// in nexus's one spelling, JSON objects with their keys sorted and no spaces.
    static func build(_ root: String) throws -> (rows: [String: [[String?]]], engine: String) {
        let project = try Project.load(root: root)
        let w = try Runner.openWarehouse(project)
        let reporter = SilentReporter()
        let runner = Runner(project: project, warehouse: w, reporter: reporter, processedAt: 0)
        try runner.run()
        var out: [String: [[String?]]] = [:]
        for name in project.nexusRelations + project.models.map(\.name) {
            out[name] = try w.query("SELECT * FROM \(w.dialect.quote(name))").rows
                .map { $0.map { canonical($0.string) } }.sorted { DifferentialTests.rowOrder($0, $1) }
        }
        out["(warnings)"] = [reporter.warnings.sorted()]
        // On a server the core relations' columns have the contract's types (a view over
        // sources that lack a column must not turn it into text).
        if !(w is SQLiteWarehouse) {
            for kind in SourceContract.Kind.allCases {
                let declared = Dictionary(uniqueKeysWithValues: (try w.columns(of: kind.coreTable) ?? []).map { ($0.name, ColumnType(declared: $0.declaredType)) })
                for c in kind.coreColumns {
                    #expect(declared[c.name] == c.type, "\(kind.coreTable).\(c.name): \(declared[c.name].map { "\($0)" } ?? "missing"), not \(c.type)")
                }
            }
        }
        return (out, Runner.engineName(project))
    }

    static func canonical(_ value: String?) -> String? {
        guard let value else { return nil }
        if value.count >= 19, value.count <= 32, value.first?.isNumber == true, value.contains(":"), let micros = Timestamp.parse(value) {
            return Timestamp.format(micros)
        }
        if value.first == "{", let data = value.data(using: .utf8), let object = try? JSONSerialization.jsonObject(with: data),
           let again = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) {
            return String(decoding: again, as: UTF8.self)
        }
        return value
    }

    static func projects(_ make: (String) throws -> Void) throws -> [String] {
        let base = NSTemporaryDirectory() + "nexus-pgparity-" + UUID().uuidString
        try make(base)
        for suffix in ["-pg-sql", "-pg-native"] { try FileManager.default.copyItem(atPath: base, toPath: base + suffix) }
        return [base, base + "-pg-sql", base + "-pg-native"]
    }

    static func check(_ make: (String) throws -> Void, atLeast entities: Int) throws {
        let dirs = try projects(make)
        defer { for d in dirs { try? FileManager.default.removeItem(atPath: d) } }
        _ = try usePostgres(dirs[1], engine: "sql")
        _ = try usePostgres(dirs[2], engine: nil)
        let sqlite = try build(dirs[0]), pgSQL = try build(dirs[1]), pgNative = try build(dirs[2])
        #expect(sqlite.engine == "native" && pgSQL.engine == "sql" && pgNative.engine == "native", "native is the default on both")
        #expect((sqlite.rows["nexus_entities"]?.count ?? 0) >= entities)
        for (label, other) in [("PostgreSQL, sql engine", pgSQL.rows), ("PostgreSQL, native engine", pgNative.rows)] {
            #expect(sqlite.rows.keys.sorted() == other.keys.sorted(), "\(label): relations")
            for (name, rows) in sqlite.rows.sorted(by: { $0.key < $1.key }) {
                let theirs = other[name] ?? []
                let diff = zip(rows, theirs).first { $0.0 != $0.1 }
                #expect(rows == theirs, "\(label): \(name): \(rows.count) rows on SQLite, \(theirs.count) here; first difference: \(diff.map { "\($0.0) vs \($0.1)" } ?? "-")")
            }
        }
    }

    @Test func theDemo() throws {
        try PostgresParityTests.check({ try DemoProject.write(to: $0) }, atLeast: 300)
    }

    @Test func aGeneratedClinicWithItsCustomerIOOutputs() throws {
        try PostgresParityTests.check({ _ = try SyntheticClinic(persons: 1200, seed: 5, customerIO: true).write(to: $0) }, atLeast: 1200)
    }

    /// One phone shared by 200 people: its report, and the filter's and the ignore list's
    /// partition, the same on PostgreSQL with either engine as on SQLite.
    @Test(arguments: ["{}", "{on_error: filter, ignore: {email: [user3@x.test, user4@x.test]}}"])
    func aSharedPhoneIsJudgedAlikeEverywhere(_ rules: String) throws {
        try PostgresParityTests.check({ dir in
            try EdgeQualityTests.writeClinic(to: dir, hub: true)
            let yml = dir + "/nexus.yml"
            try (try String(contentsOfFile: yml, encoding: .utf8) + "edge_quality: \(rules)\n").write(toFile: yml, atomically: true, encoding: .utf8)
        }, atLeast: 50)
    }

    /// A second run on a server builds again (it cannot tell whether its sources changed) and
    /// gives the same tables; unchanged seeds are not loaded again.
    @Test func aSecondRunOnPostgresGivesTheSameTables() throws {
        let dirs = try PostgresParityTests.projects { try DemoProject.write(to: $0) }
        defer { for d in dirs { try? FileManager.default.removeItem(atPath: d) } }
        _ = try PostgresParityTests.usePostgres(dirs[1], engine: "sql")
        let first = try PostgresParityTests.build(dirs[1])
        let project = try Project.load(root: dirs[1])
        let reporter = SilentReporter()
        #expect(try Runner(project: project, warehouse: try Runner.openWarehouse(project), reporter: reporter, processedAt: 0).run() == true)
        #expect(reporter.steps.filter { $0.kind == "seed" }.allSatisfy { $0.note == "unchanged" })
        #expect(try PostgresParityTests.build(dirs[1]).rows == first.rows)
    }
}
