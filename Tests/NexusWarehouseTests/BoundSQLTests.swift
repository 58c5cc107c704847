import Foundation
import Testing
import NexusCore
import NexusSQL
import NexusWarehouse

/// Statements assembled from typed identifiers and bound values: what each dialect is sent,
/// and what SQLite does with values that would break a statement spliced into text.
struct BoundSQLTests {
    static let hostile = "O'Brien\\'; DROP TABLE t; --"

    @Test func eachDialectGetsItsPlaceholdersAndQuotes() {
        let table = "my \"odd\" table"
        let sql: SQL = "SELECT \(id: "userId") FROM \(id: table) WHERE a = \(BoundSQLTests.hostile) AND b > \(42) AND c = \(nil as String?)"
        let sqlite = sql.rendered(SQLiteDialect())
        #expect(sqlite.text == #"SELECT "userId" FROM "my ""odd"" table" WHERE a = ?1 AND b > ?2 AND c = ?3"#)
        #expect(sqlite.values == [.text(BoundSQLTests.hostile), .integer(42), .null])
        #expect(sql.rendered(PostgresDialect()).text == #"SELECT "userId" FROM "my ""odd"" table" WHERE a = $1 AND b > $2 AND c = $3"#)
        #expect(sql.rendered(SnowflakeDialect()).text == #"SELECT "userId" FROM "my ""odd"" table" WHERE a = ? AND b > ? AND c = ?"#)
        // Fragments keep their own values, in order.
        let inner: SQL = "x = \(1)"
        let outer: SQL = "SELECT 1 WHERE \(inner) AND y = \(2)"
        #expect(outer.rendered(PostgresDialect()).text == "SELECT 1 WHERE x = $1 AND y = $2")
    }

    /// Where a value must be written into text (a view's definition), each dialect spells the
    /// literal it reads back exactly: Snowflake reads backslash escapes, so it doubles them.
    @Test func literalsReadBackExactly() throws {
        #expect(SQLiteDialect().literal("a'b\\") == #"'a''b\'"#)
        #expect(PostgresDialect().literal("a'b\\") == #"'a''b\'"#)
        #expect(SnowflakeDialect().literal("a'b\\") == #"'a''b\\'"#)
        let w = try SQLiteWarehouse(path: tempDir() + "/w.sqlite")
        #expect(try w.query("SELECT \(SQLiteDialect().literal(BoundSQLTests.hostile))").rows == [[.text(BoundSQLTests.hostile)]])
    }

    @Test func boundValuesRunOnSQLite() throws {
        let w = try SQLiteWarehouse(path: tempDir() + "/w.sqlite")
        try w.execute("CREATE TABLE \(id: "t") (name TEXT, n INTEGER, x REAL)" as SQL)
        try w.execute("INSERT INTO \(id: "t") VALUES (\(BoundSQLTests.hostile), \(7), \(0.5)), (\("100%_sure"), \(8), \(nil as String?))" as SQL)
        #expect(try w.query("SELECT n FROM t WHERE name = \(BoundSQLTests.hostile)" as SQL).rows == [[.integer(7)]])
        // LIKE text with its wildcards escaped matches itself only.
        try w.execute("INSERT INTO t VALUES (\("100x_sure"), \(9), \(nil as String?))" as SQL)
        let like = try w.query("SELECT n FROM t WHERE name LIKE \(likeEscaped("100%_") + "%") ESCAPE '\\' ORDER BY n" as SQL)
        #expect(like.rows == [[.integer(8)]])
        var seen: [String] = []
        try w.stream("SELECT name FROM t WHERE n >= \(8) ORDER BY n" as SQL) { seen.append($0.string(0) ?? "") }
        #expect(seen == ["100%_sure", "100x_sure"])
        #expect(try w.query("SELECT count(*) FROM t" as SQL).rows == [[.integer(3)]], "the hostile value dropped nothing")
    }

    /// The seed-state upsert: a second row with the same key replaces the first (SQLite here,
    /// PostgreSQL in PostgresWarehouseTests); Snowflake's spelling is a MERGE.
    @Test func upsertReplacesByKey() throws {
        let w = try SQLiteWarehouse(path: tempDir() + "/w.sqlite")
        try w.execute("CREATE TABLE s (name TEXT PRIMARY KEY, size INTEGER, hash TEXT)")
        let d = w.dialect
        let sql = d.upsert(into: "s", columns: ["name", "size", "hash"], key: "name", placeholders: (1...3).map(d.placeholder))
        try w.executeMany(sql, [[.text("a"), .integer(1), .text("h1")], [.text("b"), .integer(2), .text("h2")], [.text("a"), .integer(3), .text("h3")]])
        #expect(try w.query("SELECT name, size, hash FROM s ORDER BY name").rows == [[.text("a"), .integer(3), .text("h3")], [.text("b"), .integer(2), .text("h2")]])
        // nexus's state tables have unquoted column names (upper case in Snowflake): unquoted here too.
        #expect(SnowflakeDialect().upsert(into: "s", columns: ["name", "size"], key: "name", placeholders: ["?", "?"])
                == #"MERGE INTO "s" t USING (SELECT ? AS name, ? AS size) s ON t.name = s.name WHEN MATCHED THEN UPDATE SET t.size = s.size WHEN NOT MATCHED THEN INSERT (name, size) VALUES (s.name, s.size)"#)
        #expect(SnowflakeDialect().upsert(into: "s", columns: ["output", "key", "hash"], keys: ["output", "key"], select: "SELECT 1 AS output, 2 AS key, 3 AS hash")
                == #"MERGE INTO "s" t USING (SELECT 1 AS output, 2 AS key, 3 AS hash) s ON t.output = s.output AND t.key = s.key WHEN MATCHED THEN UPDATE SET t.hash = s.hash WHEN NOT MATCHED THEN INSERT (output, key, hash) VALUES (s.output, s.key, s.hash)"#)
    }
}
