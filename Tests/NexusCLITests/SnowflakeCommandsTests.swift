import Foundation
import Testing
import NexusTesting

/// Every command on a Snowflake build (the stand-in) says what it says on the same project
/// built on SQLite; the native engine builds there too; and each Snowflake setting that is
/// wrong (account, schema, statement timeout) gets one line naming it, the build kept.
struct SnowflakeCommandsTests {
    let cli = CLITests()

    /// `dir`'s nexus.yml with its warehouse block replaced by `warehouse` (YAML lines).
    static func point(_ dir: String, at warehouse: String, engine: String? = nil) throws {
        try replaceWarehouse(inProject: dir, with: warehouse + (engine.map { "engine: \($0)\n" } ?? ""), dropEngine: true)
    }

    @Test func theCommandsReadASnowflakeBuildAsTheyReadSQLite() throws {
        let server = try FakeSnowflake()
        let dir = try cli.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try cli.nexus(["generate", "--persons", "40", "--seed", "9", "--customerio", "--out", "lite"], in: dir).status == 0)
        try FileManager.default.copyItem(atPath: dir + "/lite", toPath: dir + "/snow")
        try SnowflakeCommandsTests.point(dir + "/snow", at: server.warehouseYAML())
        for p in ["lite", "snow"] {
            let r = try cli.nexus(["run", "--project", p], in: dir)
            #expect(r.status == 0, "\(p): \(r.stderr)")
        }
        // The same answers from both warehouses.
        let email = try #require(try String(contentsOfFile: dir + "/lite/seeds/clinic_entity_identifiers.csv", encoding: .utf8)
            .split(separator: "\n").lazy.compactMap { line -> String? in
                let f = line.split(separator: ",", omittingEmptySubsequences: false)
                return f.count > 5 && f[4] == "email" ? String(f[5]) : nil
            }.first, "an email in the generated seeds")
        let commands: [[String]] = [
            ["show", "nexus_entities", "--limit", "5"],
            ["explain", "email", email],
            ["explain", "email", email, "--format", "dot"],
            ["doctor"],
            ["customerio", "queries", "--dialect", "snowflake"],
        ]
        for c in commands {
            let lite = try cli.nexus(c + ["--project", "lite"], in: dir), snow = try cli.nexus(c + ["--project", "snow"], in: dir)
            #expect(lite.status == 0 && snow.status == 0, "\(c): \(lite.stderr) \(snow.stderr)")
            #expect(snow.stdout == lite.stdout, "\(c.joined(separator: " ")) differs:\n\(snow.stdout)\n---\n\(lite.stdout)")
        }
        for p in ["lite", "snow"] {
            let r = try cli.nexus(["export", "cio_persons", "cio_events", "--format", "jsonl", "--out", "out-" + p, "--project", p], in: dir)
            #expect(r.status == 0, "\(r.stderr)")
        }
        for f in ["cio_persons.jsonl", "cio_events.jsonl"] {
            let lite = try String(contentsOfFile: dir + "/out-lite/" + f, encoding: .utf8), snow = try String(contentsOfFile: dir + "/out-snow/" + f, encoding: .utf8)
            #expect(!lite.isEmpty && Set(snow.split(separator: "\n")) == Set(lite.split(separator: "\n")), "\(f)")
        }
        let report = try cli.nexus(["report", "--project", "snow", "--out", "snow.html"], in: dir)
        let page = (try? String(contentsOfFile: dir + "/snow.html", encoding: .utf8)) ?? ""
        #expect(report.status == 0 && page.contains("nexus_edge_quality"), "\(report.stderr)")

        // The native engine on Snowflake (rows read through the SQL API, written back as
        // bound INSERTs): the same nexus tables as the SQL engine's.
        let before = try cli.nexus(["show", "nexus_entities", "--limit", "1000", "--project", "snow"], in: dir)
        try SnowflakeCommandsTests.point(dir + "/snow", at: server.warehouseYAML(), engine: "native")
        let native = try cli.nexus(["run", "--project", "snow"], in: dir)
        #expect(native.status == 0 && native.stderr.contains("identity resolution"), "\(native.stderr)")
        let after = try cli.nexus(["show", "nexus_entities", "--limit", "1000", "--project", "snow"], in: dir)
        #expect(after.stdout == before.stdout && after.stdout.contains(" of "))
    }

    @Test func wrongSnowflakeSettingsNameWhatToCheckAndKeepTheBuild() throws {
        let server = try FakeSnowflake()
        let dir = try cli.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/models", withIntermediateDirectories: true)
        try ("name: settings\n" + server.warehouseYAML()).write(toFile: dir + "/nexus.yml", atomically: true, encoding: .utf8)
        try "select 1 as x".write(toFile: dir + "/models/m.sql", atomically: true, encoding: .utf8)
        #expect(try cli.nexus(["run", "--project", dir]).status == 0)

        // A statement longer than statement_timeout: cancelled by Snowflake, named.
        try SnowflakeCommandsTests.point(dir, at: server.warehouseYAML() + "  statement_timeout: 1\n")
        try "select system$wait(5) as x".write(toFile: dir + "/models/m.sql", atomically: true, encoding: .utf8)
        let slow = try cli.nexus(["run", "--project", dir])
        #expect(slow.status == 1 && slow.stderr.contains("warehouse.statement_timeout (1 s)") && slow.stderr.contains("account nexus-test"), "\(slow.stderr)")
        #expect(slow.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }.count == 1)
        #expect(try cli.nexus(["show", "m", "--project", dir]).stdout.contains("1 of 1 rows"), "the last build is kept")

        // A schema that is not there.
        try SnowflakeCommandsTests.point(dir, at: server.warehouseYAML(schema: "NOPE"))
        let schema = try cli.nexus(["run", "--project", dir])
        #expect(schema.status == 1 && schema.stderr.contains("check warehouse.database NEXUS and warehouse.schema NOPE for user nexus_ci on Snowflake account nexus-test"), "\(schema.stderr)")

        // Another account than the user's: the login is refused, naming the account.
        try SnowflakeCommandsTests.point(dir, at: server.warehouseYAML().replacingOccurrences(of: "account: nexus-test", with: "account: other-acct"))
        let account = try cli.nexus(["show", "m", "--project", dir])
        #expect(account.status == 1 && account.stderr.contains("Snowflake account other-acct") && account.stderr.contains("account identifier"), "\(account.stderr)")

        // Back to the right settings: the build is as the first run left it.
        try SnowflakeCommandsTests.point(dir, at: server.warehouseYAML())
        #expect(try cli.nexus(["show", "m", "--project", dir]).stdout.contains("1 of 1 rows"))
    }
}
