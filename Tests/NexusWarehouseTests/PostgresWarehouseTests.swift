import Foundation
import Testing
import NexusCore
import NexusSQL
import NexusTesting
import NexusWarehouse

/// The PostgreSQL warehouse against a real server (see `PostgresServer`): each test in a
/// schema of its own.
struct PostgresWarehouseTests {
    static func settings(schema: String = "public") throws -> PostgresWarehouse.Settings {
        let s = try PostgresServer.shared()
        var settings = PostgresWarehouse.Settings(host: s.host, port: s.port, database: s.database, user: s.user, schema: schema, sslmode: "disable")
        settings.passwordFile = s.passwordFile
        return settings
    }

    /// A fresh schema, dropped when the test's warehouse is done with it.
    static func fresh() throws -> PostgresWarehouse {
        let name = "t_" + UUID().uuidString.prefix(8).lowercased()
        let admin = try PostgresWarehouse(settings())
        try admin.execute("CREATE SCHEMA \(name)")
        return try PostgresWarehouse(settings(schema: name))
    }

    static let awkward = ["plain", "tab\there", "line\nbreak", "back\\slash", "quote ' and \"", "ünïcødé ✓", "", "\\N"]

    @Test func boundValuesStreamingAndTheCatalog() throws {
        let w = try PostgresWarehouseTests.fresh()
        try w.execute("CREATE TABLE \(id: "Mixed Case") (name text, n bigint, x double precision, b boolean, t timestamp)" as SQL)
        for (k, v) in PostgresWarehouseTests.awkward.enumerated() {
            try w.execute("INSERT INTO \(id: "Mixed Case") VALUES (\(v), \(k), \(Double(k) / 4), \(k % 2 == 0 ? "true" : "false"), \("2024-01-0\(k + 1) 10:00:00.25"))" as SQL)
        }
        try w.execute("INSERT INTO \(id: "Mixed Case") VALUES (\(nil as String?), \(nil as String?), \(nil as String?), \(nil as String?), \(nil as String?))" as SQL)
        #expect(try w.relationKind("Mixed Case") == .table)
        #expect(try w.relationKind("mixed case") == nil, "names keep their case")
        #expect(try w.columns(of: "Mixed Case")?.map(\.name) == ["name", "n", "x", "b", "t"])
        #expect(try w.columns(of: "Mixed Case")?.map(\.declaredType) == ["text", "bigint", "double precision", "boolean", "timestamp"])
        // A value is never text of the statement: the quote-laden one finds its row.
        #expect(try w.query("SELECT n FROM \(id: "Mixed Case") WHERE name = \("quote ' and \"")" as SQL).rows == [[.integer(4)]])
        var rows: [[SQLValue]] = []
        var header: [String] = []
        try w.stream("SELECT name, n, x, b, t FROM \(id: "Mixed Case") ORDER BY n NULLS LAST" as SQL, header: { header = $0 }) { c in
            rows.append((0..<c.columnCount).map { c.value($0) })
        }
        #expect(header == ["name", "n", "x", "b", "t"])
        #expect(rows.count == PostgresWarehouseTests.awkward.count + 1)
        #expect(rows[0][3] == .integer(1) && rows[1][3] == .integer(0), "booleans read as 1 and 0")
        #expect(rows[1] == [.text("tab\there"), .integer(1), .real(0.25), .integer(0), .text("2024-01-02 10:00:00.25")])
        #expect(rows.last == [.null, .null, .null, .null, .null])
        // A failing statement in a stream is an error, and the connection takes the next one.
        #expect(throws: NexusError.self) { try w.stream("SELECT 1 / (n - 3) FROM \(id: "Mixed Case") ORDER BY n" as SQL) { _ in } }
        #expect(try w.integer("SELECT count(*) FROM \(id: "Mixed Case")" as SQL) == PostgresWarehouseTests.awkward.count + 1)
        try w.createIndex(IndexSpec(columns: ["n", "name"]), on: "Mixed Case", name: "mixed__n_name")
        #expect(try w.indexes(on: "Mixed Case") == [["n", "name"]])
        // DDL in a transaction that fails leaves nothing behind.
        #expect(throws: (any Error).self) {
            try w.transaction {
                try w.execute("CREATE TABLE gone (a int)")
                try w.execute("SELECT * FROM no_such_table")
            }
        }
        #expect(try w.relationKind("gone") == nil)
    }

    @Test func copyLoadsEveryValueAsItWas() throws {
        let w = try PostgresWarehouseTests.fresh()
        try w.execute("CREATE TABLE seeds (k int, v text)")
        var values = PostgresWarehouseTests.awkward.map { Optional($0) } + [nil]
        values += (0..<50_000).map { "row \($0)" }
        let n = try w.copy(into: "seeds", columns: ["k", "v"]) { send in
            for (k, v) in values.enumerated() { try send([String(k), v]) }
        }
        #expect(n == values.count)
        var back: [String?] = []
        try w.stream("SELECT v FROM seeds ORDER BY k") { back.append($0.string(0)) }
        #expect(back == values)
        // A bad row fails the load whole, with the server's reason; the connection goes on.
        #expect(throws: NexusError.self) {
            try w.copy(into: "seeds", columns: ["k", "v"]) { send in try send(["1", "a"]); try send(["not a number", "b"]) }
        }
        #expect(try w.integer("SELECT count(*) FROM seeds") == values.count)
        // The seed-state upsert, as the runner writes it: the same key replaces.
        try w.execute("CREATE TABLE state (name text PRIMARY KEY, size bigint)")
        let d = w.dialect
        let upsert = d.upsert(into: "state", columns: ["name", "size"], key: "name", placeholders: (1...2).map(d.placeholder))
        try w.executeMany(upsert, [[.text("a"), .integer(1)], [.text("a"), .integer(2)]])
        #expect(try w.query("SELECT name, size FROM state").rows == [[.text("a"), .integer(2)]])
    }

    /// The native engine's paths on PostgreSQL: batches in through COPY, back out through
    /// COPY, every kind of value as it went in (integers at both ends of their range,
    /// reals, booleans as 1 and 0, NULLs, text with tabs, line breaks and backslashes).
    @Test func pipelinedLoadAndScanRoundTrip() throws {
        let w = try PostgresWarehouseTests.fresh()
        try w.execute("CREATE TABLE t (k bigint, x double precision, b boolean, s text)")
        let ints: [Int64] = [0, 1, -1, 10, -987_654_321, Int64.max, Int64.min]
        let rows = 20_000
        try w.insertPipelined(into: "t", columns: ["k", "x", "b", "s"]) { sink in
            for r in 0..<rows {
                sink.bind(0, ints[r % ints.count] &+ (r < ints.count ? 0 : Int64(r)))
                if r % 5 == 0 { sink.bindNull(1) } else { sink.bind(1, Double(r) / 8) }
                sink.bind(2, Int64(r % 2))
                sink.bind(3, r % 7 == 0 ? nil : PostgresWarehouseTests.awkward[r % PostgresWarehouseTests.awkward.count] + " \(r)")
                try sink.insertRow()
            }
        }
        var seen = 0
        try w.scanPipelined("SELECT k, x, b, s FROM t ORDER BY ctid") { row in
            let r = seen
            #expect(row.int64(0) == ints[r % ints.count] &+ (r < ints.count ? 0 : Int64(r)))
            if r % 5 == 0 { #expect(row.isNull(1)) } else { #expect(row.string(1).flatMap(Double.init) == Double(r) / 8) }
            #expect(row.int64(2) == Int64(r % 2))
            #expect(row.string(3) == (r % 7 == 0 ? nil : PostgresWarehouseTests.awkward[r % PostgresWarehouseTests.awkward.count] + " \(r)"))
            seen += 1
        }
        #expect(seen == rows)
        // A scan stopped early leaves the connection ready for the next statement.
        var taken = 0
        struct Enough: Error {}
        #expect(throws: Enough.self) { try w.scanPipelined("SELECT k FROM t") { _ in taken += 1; if taken == 10 { throw Enough() } } }
        #expect(try w.integer("SELECT count(*) FROM t") == rows)
    }

    @Test func badSettingsAreOneLineNamingTheServer() throws {
        let good = try PostgresWarehouseTests.settings()
        func message(_ s: PostgresWarehouse.Settings) -> String {
            do { _ = try PostgresWarehouse(s); return "connected" } catch { return "\(error)" }
        }
        // The environment is not changed here (other tests' threads read it): HOME holds
        // something that is not the password.
        var wrong = good; wrong.passwordFile = nil; wrong.passwordEnv = "HOME"
        let m1 = message(wrong)
        #expect(m1.contains("\(good.host):\(good.port)/\(good.database)") && m1.contains("environment variable HOME"), "\(m1)")
        #expect(!m1.contains(ProcessInfo.processInfo.environment["HOME"] ?? "?"), "the password itself is never shown")
        var unset = good; unset.passwordFile = nil; unset.passwordEnv = "NEXUS_TEST_PG_UNSET_\(getpid())"
        #expect(message(unset).contains("which is not set"))
        var db = good; db.database = "no_such_db"
        #expect(message(db).contains("create the database, or check warehouse.database"), "\(message(db))")
        var schema = good; schema.schema = "no_such_schema"
        #expect(message(schema).contains("schema no_such_schema does not exist"), "\(message(schema))")
        var refused = good; refused.port = PostgresServer.freePort()
        let m4 = message(refused)
        #expect(m4.contains("is the server running") && m4.contains(":\(refused.port)"), "\(m4)")
        for m in [m1, m4] { #expect(!m.contains("\n"), "one line: \(m)") }
        var slow = good; slow.statementTimeout = 0.2
        let w = try PostgresWarehouse(slow)
        do { try w.execute("SELECT pg_sleep(3)"); Issue.record("no timeout") } catch { #expect("\(error)".contains("statement timeout"), "\(error)") }
    }

    /// A user without the rights a build needs: one line naming the warehouse, the user and
    /// the schema to grant on.
    @Test func aPermissionErrorNamesTheUserAndTheSchema() throws {
        let admin = try PostgresWarehouse(PostgresWarehouseTests.settings())
        let tag = UUID().uuidString.prefix(8).lowercased()
        let role = "ro_\(tag)", schema = "p_\(tag)"
        try admin.execute("CREATE SCHEMA \(schema)")
        try admin.execute("CREATE ROLE \(role) LOGIN PASSWORD 'ro-\(tag)'")
        try admin.execute("GRANT USAGE ON SCHEMA \(schema) TO \(role)")
        let file = NSTemporaryDirectory() + "nexus-ro-" + tag
        try "ro-\(tag)".write(toFile: file, atomically: true, encoding: .utf8)
        var settings = try PostgresWarehouseTests.settings(schema: schema)
        settings.user = role
        settings.passwordFile = file
        let w = try PostgresWarehouse(settings)
        do {
            try w.execute("CREATE TABLE t (x int)")
            Issue.record("a user without CREATE on the schema created a table")
        } catch {
            let m = "\(error)"
            #expect(m.contains("permission denied") && m.contains("grant user \(role)") && m.contains("schema \(schema)") && !m.contains("\n"), "\(m)")
        }
    }

    @Test func advisoryLocksWaitAndNameTheHolder() throws {
        let a = try PostgresWarehouseTests.fresh()
        let b = try PostgresWarehouse(a.settings)
        let held = try a.lock(.build, timeout: 1)
        do { _ = try b.lock(.build, timeout: 0.2); Issue.record("second build lock granted") } catch {
            #expect("\(error)".contains("is busy: nexus (host "), "\(error)")
        }
        do { _ = try b.lock(.read, timeout: 0.2); Issue.record("a read during a build") } catch {}
        held.release()
        let r1 = try a.lock(.read, timeout: 1), r2 = try b.lock(.read, timeout: 1)
        do { _ = try b.lock(.build, timeout: 0.2); Issue.record("a build during reads") } catch {}
        r1.release(); r2.release()
        let again = try b.lock(.build, timeout: 1)
        again.release()
        // A sync lock is its own: a sync can run beside a read.
        let s = try a.lock(.sync, timeout: 1)
        let r = try b.lock(.read, timeout: 1)
        s.release(); r.release()
    }

    /// The seed's Snowflake spellings run on PostgreSQL: `to_timestamp_ntz` as functions in the
    /// schema, `object_construct(_keep_null)` rewritten by the dialect.
    @Test func snowflakeSpellingsRunOnPostgres() throws {
        let w = try PostgresWarehouseTests.fresh()
        try w.createSnowflakeFunctions()
        try w.createSnowflakeFunctions()  // again: CREATE OR REPLACE
        let cases: [(String, String?)] = [
            ("to_timestamp_ntz('2024-01-02 03:04:05')", "2024-01-02 03:04:05"),
            ("to_timestamp_ntz('2024-01-02T03:04:05.25+02:00')", "2024-01-02 01:04:05.25"),
            ("to_timestamp_ntz('2024-01-02T03:04:05Z')", "2024-01-02 03:04:05"),
            ("to_timestamp_ntz('2024-01-02 03:04:05 UTC')", "2024-01-02 03:04:05"),
            ("to_timestamp_ntz(1700000000)", "2023-11-14 22:13:20"),
            ("to_timestamp_ntz('1700000000')", "2023-11-14 22:13:20"),
            ("to_timestamp_ntz(timestamp '2024-05-06 07:08:09')", "2024-05-06 07:08:09"),
            ("to_timestamp_ntz(timestamptz '2024-05-06 07:08:09+03')", "2024-05-06 04:08:09"),
            ("to_timestamp_ntz(date '2024-05-06')", "2024-05-06 00:00:00"),
            ("to_timestamp_ntz(NULL::text)", nil),
        ]
        for (expr, want) in cases {
            #expect(try w.query("SELECT \(expr)").rows.first?.first?.string == want, "\(expr)")
        }
        #expect(throws: NexusError.self) { try w.query("SELECT to_timestamp_ntz('not a time')") }
        let model = """
            select object_construct('a', 1, 'b', NULL, 'c', true, 'd', OBJECT_CONSTRUCT('x', NULL, 'y', 'z')) as attrs,
                   object_construct_keep_null('k', NULL) as kept, 'object_construct(' as text_stays
            """
        let r = try w.query(w.dialect.adapt(model)).rows[0]
        #expect(r[0].string == #"{"a":1,"c":true,"d":{"y":"z"}}"#, "\(r[0])")
        #expect(r[1].string == #"{"k" : null}"#)
        #expect(r[2].string == "object_construct(")
    }
}
