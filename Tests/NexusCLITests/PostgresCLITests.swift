import Foundation
import Testing
import NexusTesting
import NexusWarehouse

/// The commands that read a warehouse, against a PostgreSQL one (a real server): nexus.yml
/// names it, the password comes from a file, and what this version cannot do yet on
/// PostgreSQL says so in one line.
struct PostgresCLITests {
    let cli = CLITests()

    /// A connection to the test server, and a fresh schema there.
    func freshSchema() throws -> (server: PostgresServer, admin: PostgresWarehouse, schema: String) {
        let server = try PostgresServer.shared()
        let schema = "cli_" + UUID().uuidString.prefix(8).lowercased()
        var settings = PostgresWarehouse.Settings(host: server.host, port: server.port, database: server.database, user: server.user, sslmode: "disable")
        settings.passwordFile = server.passwordFile
        let admin = try PostgresWarehouse(settings)
        try admin.execute("CREATE SCHEMA \(schema)")
        return (server, admin, schema)
    }

    @Test func readingCommandsWorkAgainstPostgres() throws {
        let (server, admin, schema) = try freshSchema()
        try admin.execute("CREATE TABLE \(schema).customer_io_persons (\"userId\" text, plan text, \"timestamp\" timestamp)")
        try admin.execute("INSERT INTO \(schema).customer_io_persons VALUES ('ann@x.test', 'gold', '2025-01-02 03:04:05'), ('bo@x.test', NULL, '2025-01-03 00:00:00')")
        let dir = try cli.tempDir()
        try """
            name: pg_project
            warehouse:
              type: postgres
              host: \(server.host)
              port: \(server.port)
              database: \(server.database)
              user: \(server.user)
              schema: \(schema)
              password_file: \(server.passwordFile)
              sslmode: disable

            """.write(toFile: dir + "/nexus.yml", atomically: true, encoding: .utf8)
        // The model that built the table (elsewhere).
        try FileManager.default.createDirectory(atPath: dir + "/models", withIntermediateDirectories: true)
        try "select 'ann@x.test' as \"userId\"\n".write(toFile: dir + "/models/customer_io_persons.sql", atomically: true, encoding: .utf8)
        let show = try cli.nexus(["show", "customer_io_persons", "--project", dir])
        #expect(show.status == 0, "\(show.stderr)")
        #expect(show.stdout.contains("ann@x.test") && show.stdout.contains("2 of 2 rows"), "\(show.stdout)")
        let export = try cli.nexus(["export", "customer_io_persons", "--format", "jsonl", "--out", dir + "/out", "--project", dir])
        #expect(export.status == 0, "\(export.stderr)")
        let lines = try String(contentsOfFile: dir + "/out/customer_io_persons.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2 && lines.contains { $0.contains("\"userId\":\"ann@x.test\"") && $0.contains("\"plan\":\"gold\"") }, "\(lines)")
        let queries = try cli.nexus(["customerio", "queries", "--project", dir])
        #expect(queries.status == 0 && queries.stdout.contains("customer_io_persons: Identify sync"), "\(queries.stdout) \(queries.stderr)")
        #expect(!queries.stdout.contains("cannot read an embedded SQLite file"), "the query is for the PostgreSQL warehouse itself")
        // Not in this version on PostgreSQL: one line each, non-zero.
        let doctor = try cli.nexus(["doctor", "--project", dir])
        #expect(doctor.status == 0 && doctor.stdout.contains("customer_io_persons") && doctor.stdout.contains("warning(s)"), "\(doctor.stdout) \(doctor.stderr)")
        // A wrong password file: one line naming the server and the file.
        try "wrong\n".write(toFile: dir + "/bad-password", atomically: true, encoding: .utf8)
        let yml = try String(contentsOfFile: dir + "/nexus.yml", encoding: .utf8)
        try yml.replacingOccurrences(of: "password_file: \(server.passwordFile)", with: "password_file: bad-password").write(toFile: dir + "/nexus.yml", atomically: true, encoding: .utf8)
        let bad = try cli.nexus(["show", "customer_io_persons", "--project", dir])
        #expect(bad.status != 0 && bad.stderr.contains("\(server.host):\(server.port)/\(server.database)") && bad.stderr.contains("bad-password"), "\(bad.stderr)")
        #expect(bad.stderr.split(separator: "\n").count == 1)
    }

    /// A fresh schema on the test server and the demo pointed at it.
    func demoOnPostgres(engine: String? = nil) throws -> (dir: String, admin: PostgresWarehouse, schema: String) {
        let (server, admin, schema) = try freshSchema()
        let dir = try cli.tempDir()
        let demo = try cli.nexus(["demo", "demo"], in: dir)
        #expect(demo.status == 0, "\(demo.stderr)")
        try server.useInProject(dir + "/demo", schema: schema, engine: engine)
        return (dir + "/demo", admin, schema)
    }

    /// `nexus run` builds into PostgreSQL, and the reading commands read what it built.
    @Test func runBuildsTheDemoOnPostgres() throws {
        let (dir, admin, schema) = try demoOnPostgres()
        let run = try cli.nexus(["run", "--project", dir])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("building clinic_demo into postgres") && run.stderr.contains("read identifiers"), "the native engine is the default there too: \(run.stderr)")
        #expect(try admin.integer("SELECT count(*) FROM \(schema).nexus_entities") > 300)
        let explain = try cli.nexus(["explain", "email", "chain.walker@example.com", "--project", dir])
        #expect(explain.status == 0 && explain.stdout.contains("chain.walker@example.com"), "\(explain.stdout) \(explain.stderr)")
        let show = try cli.nexus(["show", "customer_io_persons", "--limit", "3", "--project", dir])
        #expect(show.status == 0 && show.stdout.contains("userId"), "\(show.stdout) \(show.stderr)")
        // Nothing of the build's staging is left in the schema.
        #expect(try admin.integer("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '\(schema)' AND c.relname LIKE '\\_\\_nexus%'") == 0)
    }

    /// A run killed in the middle of its build leaves the last build as it was, readable, and
    /// the next run (once the killed one's server session ends) builds and drops its staging.
    @Test func aKilledRunLeavesThePreviousBuildOnPostgres() throws {
        let (dir, admin, schema) = try demoOnPostgres()
        #expect(try cli.nexus(["run", "--project", dir]).status == 0)
        let before = try admin.query("SELECT entity_id FROM \(schema).nexus_entities ORDER BY entity_id").rows
        // A model that takes its time, so that the run is surely mid-build when killed.
        try "{{ config(materialized='table') }}\nselect 1 as x from (select pg_sleep(4)) s\n".write(toFile: dir + "/models/slow.sql", atomically: true, encoding: .utf8)
        let p = try cli.launch(["run", "--project", dir], env: ["SOURCE_DATE_EPOCH": "1800000000"])
        var staged = 0
        for _ in 0..<100 where staged == 0 {
            usleep(100_000)
            staged = try admin.integer("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '\(schema)' AND c.relname LIKE '\\_\\_nexus\\_stage\\_\\_%'")
        }
        #expect(staged > 0, "the run was building")
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        #expect(try admin.query("SELECT entity_id FROM \(schema).nexus_entities ORDER BY entity_id").rows == before, "the previous build, untouched")
        let again = try cli.nexus(["run", "--project", dir])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try admin.integer("SELECT count(*) FROM \(schema).slow") == 1)
        #expect(try admin.query("SELECT entity_id FROM \(schema).nexus_entities ORDER BY entity_id").rows == before)
        #expect(try admin.integer("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '\(schema)' AND c.relname LIKE '\\_\\_nexus%'") == 0)
    }

    /// `nexus sync customerio` on PostgreSQL: its state and log live in the schema, a second
    /// sync sends nothing, and the calls are the ones the same build on SQLite sends.
    @Test func syncWorksOnPostgresAndSendsWhatSQLiteSends() throws {
        let (dir, admin, schema) = try demoOnPostgres()
        let onPG = try FakeCustomerIO(), onSQLite = try FakeCustomerIO()
        let yml = dir + "/nexus.yml"
        let base = try String(contentsOfFile: yml, encoding: .utf8)
        try (base + "customerio:\n  endpoint: \(onPG.url)\n  requests_per_second: 200\n").write(toFile: yml, atomically: true, encoding: .utf8)
        #expect(try cli.nexus(["run", "--project", dir]).status == 0)
        let env = ["CUSTOMERIO_API_KEY": FakeCustomerIO.key]
        let dry = try cli.nexus(["sync", "customerio", "--dry-run", "--project", dir], env: env)
        #expect(dry.status == 0 && dry.stdout.contains("dry run: nothing sent"), "\(dry.stdout) \(dry.stderr)")
        let first = try cli.nexus(["sync", "customerio", "--project", dir], env: env)
        #expect(first.status == 0, "\(first.stdout) \(first.stderr)")
        let sent = try onPG.received().calls.count
        #expect(sent > 300)
        #expect(try admin.integer("SELECT count(*) FROM \(schema)._nexus_customerio_log WHERE status = 'sent'") == sent)
        let second = try cli.nexus(["sync", "customerio", "--project", dir], env: env)
        #expect(second.status == 0 && second.stdout.contains("sent 0,"), "\(second.stdout) \(second.stderr)")
        #expect(try onPG.received().calls.count == sent)
        #expect(try admin.integer("SELECT count(*) FROM \(schema)._nexus_customerio_state") == sent)
        // The same demo on SQLite sends the same calls (messageIds included).
        let sqliteDir = try cli.tempDir()
        #expect(try cli.nexus(["demo", "demo"], in: sqliteDir).status == 0)
        let sqliteYML = sqliteDir + "/demo/nexus.yml"
        try (try String(contentsOfFile: sqliteYML, encoding: .utf8) + "customerio:\n  endpoint: \(onSQLite.url)\n  requests_per_second: 200\n").write(toFile: sqliteYML, atomically: true, encoding: .utf8)
        #expect(try cli.nexus(["sync", "customerio", "--project", sqliteDir + "/demo"], env: env).status == 0)
        func canonical(_ calls: [[String: Any]]) throws -> [String] {
            try calls.map { call in
                var c = call
                c.removeValue(forKey: "sentAt")
                return String(decoding: try JSONSerialization.data(withJSONObject: c, options: [.sortedKeys]), as: UTF8.self)
            }.sorted()
        }
        #expect(try canonical(onPG.received().calls) == canonical(onSQLite.received().calls))
    }

    /// Two runs started together on one PostgreSQL schema: the second waits for the first's
    /// advisory lock, both succeed, and the tables are one build's.
    @Test func twoRunsAtOnceOnPostgresBothSucceed() throws {
        let (dir, admin, schema) = try demoOnPostgres()
        let env = ["SOURCE_DATE_EPOCH": "1800000000"]
        let out1 = dir + "/run1.err", out2 = dir + "/run2.err"
        func start(_ err: String) throws -> Process {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            p.arguments = ["-c", "exec \"\(CLITests.binary)\" run --project \"\(dir)\" 2> \"\(err)\" > /dev/null"]
            p.environment = ProcessInfo.processInfo.environment.merging(env) { _, b in b }
            try p.run()
            return p
        }
        let a = try start(out1), b = try start(out2)
        a.waitUntilExit(); b.waitUntilExit()
        let e1 = (try? String(contentsOfFile: out1, encoding: .utf8)) ?? "", e2 = (try? String(contentsOfFile: out2, encoding: .utf8)) ?? ""
        #expect(a.terminationStatus == 0 && b.terminationStatus == 0, "\(e1)\n\(e2)")
        let rows = try admin.query("SELECT entity_id FROM \(schema).nexus_entities ORDER BY entity_id").rows
        #expect(rows.count > 300)
        #expect(try cli.nexus(["run", "--project", dir]).status == 0)
        #expect(try admin.query("SELECT entity_id FROM \(schema).nexus_entities ORDER BY entity_id").rows == rows)
        #expect(try admin.integer("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '\(schema)' AND c.relname LIKE '\\_\\_nexus%'") == 0)
    }
}
