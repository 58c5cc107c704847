import Foundation
import Testing
import NexusTesting
import NexusWarehouse

/// The commands that read a warehouse, against a PostgreSQL one (a real server): nexus.yml
/// names it, the password comes from a file, and what this version cannot do yet on
/// PostgreSQL says so in one line.
struct PostgresCLITests {
    let cli = CLITests()

    @Test func readingCommandsWorkAgainstPostgres() throws {
        let server = try PostgresServer.shared()
        let schema = "cli_" + UUID().uuidString.prefix(8).lowercased()
        var settings = PostgresWarehouse.Settings(host: server.host, port: server.port, database: server.database, user: server.user, sslmode: "disable")
        settings.passwordFile = server.passwordFile
        let admin = try PostgresWarehouse(settings)
        try admin.execute("CREATE SCHEMA \(schema)")
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
        // The model that built the table (elsewhere: `nexus run` does not build on PostgreSQL yet).
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
        for (args, want) in [(["run"], "not in this version"), (["sync", "customerio", "--dry-run"], "works on the embedded SQLite warehouse")] {
            let r = try cli.nexus(args + ["--project", dir])
            #expect(r.status != 0 && r.stderr.contains(want) && r.stderr.split(separator: "\n").count == 1, "\(args): \(r.stderr)")
        }
        // A wrong password file: one line naming the server and the file.
        try "wrong\n".write(toFile: dir + "/bad-password", atomically: true, encoding: .utf8)
        let yml = try String(contentsOfFile: dir + "/nexus.yml", encoding: .utf8)
        try yml.replacingOccurrences(of: "password_file: \(server.passwordFile)", with: "password_file: bad-password").write(toFile: dir + "/nexus.yml", atomically: true, encoding: .utf8)
        let bad = try cli.nexus(["show", "customer_io_persons", "--project", dir])
        #expect(bad.status != 0 && bad.stderr.contains("\(server.host):\(server.port)/\(server.database)") && bad.stderr.contains("bad-password"), "\(bad.stderr)")
        #expect(bad.stderr.split(separator: "\n").count == 1)
    }
}
