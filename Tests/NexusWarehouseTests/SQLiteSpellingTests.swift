import Foundation
import NexusCore
import NexusSQL
import NexusWarehouse
import Testing

/// Snowflake's functions in the SQL SQLite runs by itself: the same values as nexus's own
/// functions, on a connection that has none of them (as any other SQLite client).
struct SQLiteSpellingTests {
    let dialect = SQLiteDialect()

    /// Values `to_timestamp_ntz` reads, as SQL literals.
    static let inputs = [
        "NULL", "0", "1700000000", "-86401", "1700000000.25", "-0.5", "12.0000015",
        "'2025-01-15 10:30:00'", "'2025-01-15 10:30:00.123456'", "'2025-01-15 10:30:00.5'",
        "'2025-01-15T10:30:00Z'", "'2025-01-15t10:30:00.123z'", "'2025-01-15T10:30:00.1234567Z'",
        "'2025-01-15T10:30:00+02:00'", "'2025-01-15 10:30:00 -05:30'", "'2025-01-15 10:30:00 UTC'",
        "'2025-01-15'", "'2025-01-15 10:30'", "' 2025-01-15 10:30:00 '", "'2025-01-15 10:30:00,25'",
        "'1700000000'", "'2024-02-29 23:59:59.999999'", "'2025-12-31T23:30:00-01:00'",
    ]

    @Test func timestampsMatchNexusFunctionWithoutIt() throws {
        let nexus = try SQLiteWarehouse(path: ":memory:")
        let plain = try SQLiteWarehouse(path: ":memory:", nexusFunctions: false)
        for input in SQLiteSpellingTests.inputs {
            let expected = try nexus.query("SELECT to_timestamp_ntz(\(input))").rows[0][0]
            let sql = dialect.adapt("SELECT to_timestamp_ntz(\(input))")
            #expect(!sql.contains("to_timestamp_ntz("))
            let got = try plain.query(sql).rows[0][0]
            #expect(got == expected, "\(input)")
        }
        // Random instants in the forms a source gives them.
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<300 {
            let micros = Int64.random(in: -2_000_000_000_000_000...4_000_000_000_000_000, using: &rng)
            let canonical = Timestamp.format(micros)
            for text in [canonical, Timestamp.formatISO(micros), canonical.replacingOccurrences(of: " ", with: "T") + "+01:00"] {
                let expected = try nexus.query("SELECT to_timestamp_ntz('\(text)')").rows[0][0]
                #expect(try plain.query(dialect.adapt("SELECT to_timestamp_ntz('\(text)')")).rows[0][0] == expected, "\(text)")
            }
        }
    }

    /// A value that is no timestamp fails the statement in any client, naming the value.
    @Test func anUnreadableTimestampFailsNamingTheValue() throws {
        let plain = try SQLiteWarehouse(path: ":memory:", nexusFunctions: false)
        for bad in ["'soon'", "'2025-02-30 10:00:00'", "'2025-13-01'", "''"] {
            let error = #expect(throws: NexusError.self) { _ = try plain.query(dialect.adapt("SELECT to_timestamp_ntz(\(bad))")) }
            #expect(error?.message.contains("to_timestamp_ntz: cannot read") == true, "\(bad): \(error?.message ?? "")")
        }
    }

    /// Objects as Snowflake builds them, booleans and timestamps inside them included.
    @Test func objectsWithoutNexusFunctions() throws {
        let plain = try SQLiteWarehouse(path: ":memory:", nexusFunctions: false)
        let sql = dialect.adapt("""
            SELECT object_construct('b', true, 'f', case when 1 = 2 then true else false end, 'n', 2, 'x', 2.5,
                                    's', 'he said "hi"', 'gone', NULL, 't', to_timestamp_ntz('2025-01-15T10:30:00.123456Z'),
                                    'o', object_construct('k', 'v'), 'p', (true), 'c', CASE WHEN 1 = 1 THEN (false) END),
                   object_construct_keep_null('gone', NULL, 'T', TO_TIMESTAMP_NTZ('2025-01-15')),
                   true = 1, case when true then 'yes' end, 'object_construct(true)'
            """)
        #expect(SQLLexer.calledFunctions(sql).isDisjoint(with: ["object_construct", "to_timestamp_ntz", "nexus_true"]))
        let r = try plain.query(sql).rows[0]
        #expect(r[0] == .text(#"{"b":true,"f":false,"n":2,"x":2.5,"s":"he said \"hi\"","t":"2025-01-15 10:30:00.123","o":{"k":"v"},"p":true,"c":false}"#))
        #expect(r[1] == .text(#"{"gone":null,"T":"2025-01-15 00:00:00.000"}"#))
        #expect(r[2] == .integer(1))
        #expect(r[3] == .text("yes"))
        #expect(r[4] == .text("object_construct(true)"))
    }

    /// The lexer gives the text back whole, and finds calls only outside strings and comments.
    @Test func lexerKeepsTheTextAndFindsCalls() {
        let sql = "select md5(x), 'floor(1)', \"ceil\"(2), t.ln(3) -- power(2)\n/* mod(1) */ , Upper (y), [exp](1)"
        #expect(SQLLexer.tokens(sql).map(\.text).joined() == sql)
        #expect(SQLLexer.calledFunctions(sql) == ["md5", "upper"])
        #expect(dialect.adapt(sql) == sql)
    }
}
