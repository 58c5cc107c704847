import Testing
import NexusSQL
import NexusWarehouse

/// Statements of a SQL file (as `nexus sql` and the compile tests read them) and values
/// written as literals (as `nexus compile` writes them).
struct SQLScriptTests {
    @Test func semicolonsEndStatementsOnlyOutsideQuotesCommentsAndBodies() {
        let script = """
            -- a leading comment; not a statement
            SELECT 'a;b', "c;d" FROM t;

            /* a block; comment */ INSERT INTO t VALUES ('it''s; fine');
            CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$;
            CREATE FUNCTION g() RETURNS int LANGUAGE sql AS $nexus$ SELECT 2; $nexus$;
            SELECT $1, x FROM t WHERE a = 'x
            y';
            ;
            SELECT 3 -- trailing; comment
            """
        let s = SQLScript.statements(script)
        #expect(s.map(\.line) == [2, 4, 5, 6, 7, 10])
        #expect(s[0].text == "SELECT 'a;b', \"c;d\" FROM t")
        #expect(s[1].text == "INSERT INTO t VALUES ('it''s; fine')")
        #expect(s[2].text.hasSuffix("$$ SELECT 1; $$") && s[3].text.hasSuffix("$nexus$ SELECT 2; $nexus$"))
        #expect(s[4].text.hasPrefix("SELECT $1, x") && s[4].text.hasSuffix("'x\ny'"))
        #expect(s[5].text == "SELECT 3 -- trailing; comment")
        #expect(SQLScript.statements("  \n-- only a comment\n;\n").isEmpty)
    }

    @Test func valuesBecomeLiteralsOfTheDialect() {
        let sql = "INSERT INTO t VALUES (?, ?, ?, ?) -- why?\n"
        let values: [SQLValue] = [.text("it's \\ here?"), .integer(-9_223_372_036_854_775_808), .real(0.1), .null]
        #expect(SQL.inlining(sql, values, dialect: SQLiteDialect()) == "INSERT INTO t VALUES ('it''s \\ here?', -9223372036854775808, 0.1, NULL) -- why?\n")
        #expect(SQL.inlining(sql, values, dialect: SnowflakeDialect()) == "INSERT INTO t VALUES ('it''s \\\\ here?', -9223372036854775808, 0.1, NULL) -- why?\n")
        let bound: SQL = "SELECT \(id: "a\"b") FROM t WHERE x = \("?") AND y = \(2)"
        #expect(bound.inlined(PostgresDialect()) == "SELECT \"a\"\"b\" FROM t WHERE x = '?' AND y = 2")
    }
}
