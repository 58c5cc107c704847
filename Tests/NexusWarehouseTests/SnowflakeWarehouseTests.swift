import Foundation
import Testing
import NexusCore
import NexusSQL
import NexusTesting
@testable import NexusWarehouse

/// The Snowflake warehouse through the SQL API v2 stand-in (`FakeSnowflake`): the key-pair
/// login, values in nexus's spellings, results in several partitions, asynchronous statements,
/// retries that do not run a statement twice, and errors that say what to check.
struct SnowflakeWarehouseTests {
    static func open(_ server: FakeSnowflake, key: String = "key.p8", passphrase: String? = nil, role: String? = FakeSnowflake.role,
                     warehouse: String? = FakeSnowflake.warehouse) throws -> SnowflakeWarehouse {
        let path = server.keyDir + "/" + key
        let k = try SnowflakeKey(pem: try Data(contentsOf: URL(fileURLWithPath: path)), passphrase: passphrase, path: path)
        var s = SnowflakeClient.Settings(account: FakeSnowflake.account, user: FakeSnowflake.user, role: role, warehouse: warehouse,
                                         database: FakeSnowflake.database, schema: "PUBLIC", baseURL: server.url)
        s.baseBackoff = 0.01
        return SnowflakeWarehouse(client: SnowflakeClient(settings: s, key: k))
    }

    @Test func valuesComeBackInNexussSpellings() throws {
        let server = try FakeSnowflake()
        let w = try SnowflakeWarehouseTests.open(server)
        try w.execute("""
            CREATE TABLE "t" ("n" NUMBER(38,0), "r" FLOAT, "b" BOOLEAN, "ts" TIMESTAMP_NTZ, "d" DATE, "s" VARCHAR, "userId" VARCHAR);
            INSERT INTO "t" VALUES (-9007199254740993, 1.5, TRUE, '2025-03-15 06:22:11.123456', '2025-03-15', 'it''s "x"' || chr(10) || 'é', 'u1')
            """)
        try w.executeMany("INSERT INTO \"t\" (\"n\", \"s\", \"userId\") VALUES (?, ?, ?)", [[.integer(2), .null, .text("u2")], [.integer(3), .text("c"), .text("u3")]])
        let r = try w.query("SELECT * FROM \"t\" ORDER BY \"n\"")
        #expect(r.columns == ["n", "r", "b", "ts", "d", "s", "userId"])
        #expect(r.rows.count == 3)
        #expect(r.rows[0] == [.integer(-9007199254740993), .real(1.5), .integer(1), .text("2025-03-15 06:22:11.123456"), .text("2025-03-15"), .text("it's \"x\"\né"), .text("u1")])
        #expect(r.rows[1] == [.integer(2), .null, .null, .null, .null, .null, .text("u2")])
        #expect(try w.columns(of: "t")?.map(\.name) == ["n", "r", "b", "ts", "d", "s", "userId"])
        #expect(try w.relationKind("t") == .table && w.relationKind("nope") == nil)
        try w.execute("CREATE VIEW \"v\" AS SELECT \"n\" FROM \"t\"")
        #expect(try w.relations().map(\.name) == ["t", "v"] && w.relationKind("v") == .view)
        #expect(try w.executeCounting("UPDATE \"t\" SET \"s\" = 'z' WHERE \"n\" > 1") == 2)
    }

    @Test func resultsInSeveralPartitionsStreamInOrder() throws {
        let server = try FakeSnowflake(["--partition-rows", "7"])
        let w = try SnowflakeWarehouseTests.open(server)
        try w.execute("CREATE TABLE \"p\" (\"i\" NUMBER(38,0), \"s\" VARCHAR)")
        try w.insertPipelined(into: "p", columns: ["i", "s"]) { sink in
            for i in 0..<100 { sink.bind(0, Int64(i)); sink.bind(1, i % 10 == 0 ? nil : "row \(i)"); try sink.insertRow() }
        }
        let r = try w.query("SELECT \"i\", \"s\" FROM \"p\" ORDER BY \"i\"")
        #expect(r.rows.map { $0[0] } == (0..<100).map { SQLValue.integer(Int64($0)) })
        #expect(r.rows[10][1] == .null && r.rows[11][1] == .text("row 11"))
        var scanned: [Int64] = []
        try w.scanPipelined("SELECT \"i\" FROM \"p\" ORDER BY \"i\"") { scanned.append($0.int64(0)) }
        #expect(scanned == Array(0..<100))
        var header: [String] = [], count = 0
        try w.stream("SELECT \"i\" AS \"I\" FROM \"p\"", header: { header = $0 }) { _ in count += 1 }
        #expect(header == ["I"] && count == 100)
    }

    @Test func aSlowStatementIsPolledAndARetriedSubmitRunsOnce() throws {
        let server = try FakeSnowflake(["--lose-answer-of", "INSERT INTO \"once\""])
        let w = try SnowflakeWarehouseTests.open(server)
        // The first submit runs, and its answer is lost (503): the retry, with the same
        // requestId, gets that statement's result instead of running it again.
        try w.execute("CREATE TABLE \"once\" (\"i\" NUMBER(38,0))")
        let before = try server.stats()
        #expect(try w.executeCounting("INSERT INTO \"once\" VALUES (1)") == 1)
        let after = try server.stats()
        #expect(after.submits - before.submits == 2 && after.executed - before.executed == 1)
        #expect(try w.integer("SELECT count(*) FROM \"once\"") == 1)
        #expect(try w.query("SELECT system$wait(0.4)").rows == [[.text("waited")]])

        let busy = try FakeSnowflake(["--fail-first", "3", "--fail-status", "429"])
        let b = try SnowflakeWarehouseTests.open(busy)
        #expect(try b.integer("SELECT 41 + 1") == 42)
        #expect(try busy.stats().executed == 1)
    }

    @Test func loginProblemsSayWhatToCheck() throws {
        let server = try FakeSnowflake(), other = try FakeSnowflake()
        // Another user's key: refused, naming the user and account.
        let stranger = try SnowflakeWarehouseTests.open(server, key: "../" + URL(fileURLWithPath: other.keyDir).lastPathComponent + "/key.p8")
        #expect { try stranger.query("SELECT 1") } throws: { e in
            "\(e)".contains("Snowflake refused the key-pair login of user nexus_ci on Snowflake account nexus-test") && "\(e)".contains("RSA_PUBLIC_KEY")
        }
        // The encrypted key: needs its passphrase, and the right one.
        #expect { try SnowflakeWarehouseTests.open(server, key: "key-encrypted.p8") } throws: { "\($0)".contains("the key is encrypted") }
        #expect { try SnowflakeWarehouseTests.open(server, key: "key-encrypted.p8", passphrase: "wrong") } throws: { "\($0)".contains("the passphrase does not decrypt it") }
        let locked = try SnowflakeWarehouseTests.open(server, key: "key-encrypted.p8", passphrase: FakeSnowflake.passphrase)
        #expect(try locked.integer("SELECT 1") == 1)
        // Not a key at all.
        try "not a key".write(toFile: server.keyDir + "/junk.p8", atomically: true, encoding: .utf8)
        #expect { try SnowflakeWarehouseTests.open(server, key: "junk.p8") } throws: { "\($0)".contains("not a PEM private key") && "\($0)".contains("junk.p8") }
        // A role the user lacks, a warehouse it cannot use, a missing table.
        #expect { try SnowflakeWarehouseTests.open(server, role: "ADMIN").query("SELECT 1") } throws: { "\($0)".contains("check warehouse.role") }
        #expect { try SnowflakeWarehouseTests.open(server, warehouse: "OTHER_WH").query("SELECT 1") } throws: { "\($0)".contains("check warehouse.warehouse") }
        #expect { try SnowflakeWarehouseTests.open(server).query("SELECT * FROM \"missing\"") } throws: { e in
            "\(e)".contains("(Snowflake 002003, SQLSTATE 42S02)") && "\(e)".contains("statement: SELECT * FROM \"missing\"")
        }
        // Nobody there.
        var s = SnowflakeClient.Settings(account: "nexus-test", user: "nexus_ci", role: nil, warehouse: nil, database: "NEXUS", schema: "PUBLIC", baseURL: "http://127.0.0.1:9")
        s.maxRetries = 0
        let nowhere = SnowflakeWarehouse(client: SnowflakeClient(settings: s, key: try SnowflakeKey(pem: Data(contentsOf: URL(fileURLWithPath: server.keyDir + "/key.p8")), passphrase: nil, path: "key.p8")))
        #expect { try nowhere.query("SELECT 1") } throws: { "\($0)".contains("cannot reach Snowflake at http://127.0.0.1:9 (account nexus-test)") }
    }

    @Test func theJWTNamesTheAccountAsSnowflakeDoes() {
        #expect(SnowflakeKey.accountName("xy12345.us-east-1") == "XY12345")
        #expect(SnowflakeKey.accountName("myorg-myaccount") == "MYORG-MYACCOUNT")
        #expect(SnowflakeWarehouse.statements("SELECT ';' AS x; -- a; comment\nSELECT 2;") == ["SELECT ';' AS x", " -- a; comment\nSELECT 2"])
    }
}
