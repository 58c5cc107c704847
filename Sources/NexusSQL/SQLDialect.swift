import NexusCore

/// Every SQL spelling difference between warehouses lives behind this protocol.
///
/// Generators ask the dialect; they never branch on a warehouse's name. Only the
/// built-in dialects conform: do not declare new conformances outside nexus.
public protocol SQLDialect: Sendable {
    /// A short name for messages (`sqlite`, `postgres`, `snowflake`).
    var name: String { get }
    /// The declared type for a logical column type.
    func typeName(_ type: ColumnType) -> String
    /// md5 of a text expression as lowercase hex.
    func md5(_ expression: String) -> String
    /// An expression cast to text.
    func castText(_ expression: String) -> String
    /// An expression read as a timestamp; a value that is not one fails the statement with
    /// an error naming relation, column and the row's key.
    func checkedTimestamp(_ expression: String, relation: String, column: String, key: String) -> String
    /// An expression read as a boolean (`true`/`false`, `1`/`0`).
    func checkedBoolean(_ expression: String, relation: String, column: String, key: String) -> String
    /// An expression cast to a floating-point number.
    func castReal(_ expression: String) -> String
    /// A model's rendered SQL, adapted to what this warehouse needs to run it as Snowflake would.
    func adapt(_ sql: String) -> String
    /// A timestamp without time zone, as Customer.io's Reverse ETL reads it.
    func timestampNTZ(_ expression: String) -> String
    /// A JSON object from key/value expressions, leaving out NULL values (Snowflake's OBJECT_CONSTRUCT).
    func objectConstruct(_ pairs: [(key: String, value: String)]) -> String
    /// An expression that sorts and compares by the bytes of its UTF-8 text, as nexus's tie-
    /// breaks do everywhere (a server's default collation may follow a language instead).
    func byteOrder(_ expression: String) -> String
    /// A boolean constant as a boolean column stores it.
    func booleanLiteral(_ value: Bool) -> String
    /// A timestamp constant (microseconds since the epoch, UTC) as a timestamp column stores it.
    func timestampLiteral(_ micros: Int64) -> String
    /// A statement that inserts one row of `columns` (values in `placeholders`, in order) into
    /// `table`, or replaces the row with the same `key`.
    func upsert(into table: String, columns: [String], key: String, placeholders: [String]) -> String
    /// A statement that inserts the rows of `select` (its columns named as `columns`) into
    /// `table`, replacing rows with the same `keys`; `select` holds each key at most once.
    func upsert(into table: String, columns: [String], keys: [String], select: String) -> String
    /// `expression` without spaces, tabs and line breaks at either end.
    func trimBlanks(_ expression: String) -> String
    /// The values of `expression` in a group joined by `separator`, in the order of `orderBy`.
    func stringAgg(_ expression: String, separator: String, orderBy: String) -> String
    /// The placeholder of the `n`th bound value (from 1) as the warehouse's driver reads it.
    func placeholder(_ n: Int) -> String
    /// A column definition: an integer primary key the warehouse numbers itself, never
    /// reusing a number (not even after rows are deleted).
    func identityColumn(_ name: String) -> String
    /// How a work table (an engine's intermediate, dropped by the end of the run) is created:
    /// PostgreSQL's `CREATE UNLOGGED TABLE` skips the write-ahead log, which a table that a
    /// crash may lose costs nothing to skip.
    var createWorkTable: String { get }
    /// Whether the warehouse has indexes (Snowflake has none: micro-partitions and pruning).
    var hasIndexes: Bool { get }
    /// Whether DDL (DROP, RENAME, CREATE) can be rolled back with a transaction: on SQLite and
    /// PostgreSQL a publish is one transaction; Snowflake commits each DDL statement on its own.
    var transactionalDDL: Bool { get }
    /// What follows `CREATE TABLE t (…)` for a table read and written by its primary key:
    /// SQLite's `WITHOUT ROWID` stores rows in the key's order; elsewhere nothing.
    var keyedTableOptions: String { get }
    /// A quoted identifier, which the warehouse reads back exactly as written (case kept).
    /// Standard SQL's double quotes unless a dialect says otherwise.
    func quote(_ identifier: String) -> String
    /// A string literal the warehouse reads back as exactly `value`. Standard SQL's single
    /// quotes unless a dialect says otherwise (Snowflake also reads backslash escapes).
    func literal(_ value: String) -> String
    /// An expression that is 0 when `condition` holds and otherwise fails the statement, for
    /// checks in SQL run by hand (compiled runs): PostgreSQL and Snowflake fail converting the
    /// message to a number, so their error quotes it; SQLite, which converts any text to a
    /// number, fails reading it as JSON ("malformed JSON"), and the check's comment says why.
    func failUnless(_ condition: String, _ message: String) -> String
}

extension SQLDialect {
    func pairList(_ pairs: [(key: String, value: String)]) -> String {
        pairs.map { "\(literal($0.key)), \($0.value)" }.joined(separator: ",\n    ")
    }
}

extension SQLDialect {
    /// SQLite (3.24+) and PostgreSQL spell it `INSERT … ON CONFLICT (key) DO UPDATE`.
    public func upsert(into table: String, columns: [String], key: String, placeholders: [String]) -> String {
        let updates = columns.filter { $0 != key }.map { "\(quote($0)) = excluded.\(quote($0))" }
        return "INSERT INTO \(quote(table)) (\(columns.map(quote).joined(separator: ", "))) VALUES (\(placeholders.joined(separator: ", "))) "
            + "ON CONFLICT (\(quote(key))) DO UPDATE SET \(updates.joined(separator: ", "))"
    }

    public func upsert(into table: String, columns: [String], keys: [String], select: String) -> String {
        let updates = columns.filter { !keys.contains($0) }.map { "\(quote($0)) = excluded.\(quote($0))" }
        return "INSERT INTO \(quote(table)) (\(columns.map(quote).joined(separator: ", "))) \(select) "
            + "ON CONFLICT (\(keys.map(quote).joined(separator: ", "))) DO UPDATE SET \(updates.joined(separator: ", "))"
    }

    /// The cast is of a CASE, not of the literal: PostgreSQL folds a constant cast while
    /// planning, so `CAST('…' AS INTEGER)` alone would fail even when the condition holds.
    public func failUnless(_ condition: String, _ message: String) -> String {
        "CAST(CASE WHEN \(condition) THEN '0' ELSE \(literal(message)) END AS INTEGER)"
    }

    /// Standard SQL: a double-quoted identifier, with embedded quotes doubled.
    public func quote(_ identifier: String) -> String {
        "\"" + identifier.replacingAll("\"", with: "\"\"") + "\""
    }

    /// Standard SQL: a single-quoted string literal, with embedded quotes doubled.
    public func literal(_ value: String) -> String {
        "'" + value.replacingAll("'", with: "''") + "'"
    }

    /// String concatenation of expressions.
    public func concat(_ parts: [String]) -> String {
        parts.count == 1 ? parts[0] : "(" + parts.joined(separator: " || ") + ")"
    }

    /// dbt-nexus's `create_nexus_id(kind, [expr…])`: prefix + md5 of the parts joined by `-`,
    /// each cast to text with NULL spelled as dbt_utils spells it.
    public func nexusID(prefix: String, expressions: [String]) -> String {
        var parts: [String] = []
        for (i, e) in expressions.enumerated() {
            if i > 0 { parts.append(literal("-")) }
            parts.append("coalesce(\(castText(e)), \(literal("_dbt_utils_surrogate_key_null_")))")
        }
        return concat([literal(prefix + "_"), md5(concat(parts))])
    }
}

/// The dialects nexus speaks, by name: the one place a name becomes a dialect.
public enum Dialects {
    public static let all: [any SQLDialect] = [SQLiteDialect(), PostgresDialect(), SnowflakeDialect()]

    /// The dialect called `name` (`sqlite`, `postgres`, `snowflake`), or nil.
    public static func named(_ name: String) -> (any SQLDialect)? {
        all.first { $0.name == name.lowercased() }
    }
}

/// The embedded default: SQLite, with nexus's functions registered on every connection.
public struct SQLiteDialect: SQLDialect {
    public init() {}
    public var name: String { "sqlite" }
    public func placeholder(_ n: Int) -> String { "?\(n)" }
    public func identityColumn(_ name: String) -> String { "\(quote(name)) INTEGER PRIMARY KEY AUTOINCREMENT" }
    public var keyedTableOptions: String { " WITHOUT ROWID" }
    public var createWorkTable: String { "CREATE TABLE" }
    /// SQLite reads any text as a number (`CAST('x' AS INTEGER)` is 0): the failure is JSON's.
    public func failUnless(_ condition: String, _ message: String) -> String {
        "json(CASE WHEN \(condition) THEN '0' ELSE \(literal(message)) END)"
    }
    public var hasIndexes: Bool { true }
    public var transactionalDDL: Bool { true }
    public func trimBlanks(_ e: String) -> String { "trim(\(e), ' ' || char(9, 10, 13))" }
    public func stringAgg(_ e: String, separator: String, orderBy: String) -> String { "group_concat(\(e), \(literal(separator)) ORDER BY \(orderBy))" }
    /// SQLite's BINARY collation is byte order.
    public func byteOrder(_ expression: String) -> String { expression }
    /// nexus stores booleans in SQLite as 1 and 0.
    public func booleanLiteral(_ value: Bool) -> String { value ? "1" : "0" }
    /// nexus stores timestamps in SQLite as canonical text.
    public func timestampLiteral(_ micros: Int64) -> String { literal(Timestamp.format(micros)) }
    public func typeName(_ type: ColumnType) -> String {
        switch type {
        case .text: return "TEXT"
        case .integer: return "INTEGER"
        case .real: return "REAL"
        case .boolean: return "BOOLEAN"
        case .timestamp: return "TIMESTAMP"
        case .date: return "DATE"
        }
    }
    public func md5(_ expression: String) -> String { "md5(\(expression))" }
    public func castText(_ expression: String) -> String { "cast(\(expression) as text)" }
    public func checkedTimestamp(_ expression: String, relation: String, column: String, key: String) -> String {
        "nexus_timestamp(\(expression), \(literal(relation)), \(literal(column)), \(castText(key)))"
    }
    public func checkedBoolean(_ expression: String, relation: String, column: String, key: String) -> String {
        "nexus_boolean(\(expression), \(literal(relation)), \(literal(column)), \(castText(key)))"
    }
    public func castReal(_ expression: String) -> String { "cast(\(expression) as real)" }
    /// Snowflake's functions as SQL SQLite runs by itself (`SQLiteSpelling`), so that views stay
    /// readable by any SQLite client.
    public func adapt(_ sql: String) -> String { SQLiteSpelling.rewrite(sql) }
    public func timestampNTZ(_ expression: String) -> String { "to_timestamp_ntz(\(expression))" }
    public func objectConstruct(_ pairs: [(key: String, value: String)]) -> String { "object_construct(\n    \(pairList(pairs)))" }
}

/// PostgreSQL.
public struct PostgresDialect: SQLDialect {
    public init() {}
    public var name: String { "postgres" }
    public func placeholder(_ n: Int) -> String { "$\(n)" }
    public func identityColumn(_ name: String) -> String { "\(quote(name)) bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY" }
    public var keyedTableOptions: String { "" }
    public var createWorkTable: String { "CREATE UNLOGGED TABLE" }
    public var hasIndexes: Bool { true }
    public var transactionalDDL: Bool { true }
    public func byteOrder(_ expression: String) -> String { "(\(expression)) COLLATE \"C\"" }
    public func trimBlanks(_ e: String) -> String { "btrim(\(e), ' ' || chr(9) || chr(10) || chr(13))" }
    public func stringAgg(_ e: String, separator: String, orderBy: String) -> String { "string_agg(\(e), \(literal(separator)) ORDER BY \(orderBy))" }
    public func booleanLiteral(_ value: Bool) -> String { value ? "true" : "false" }
    public func timestampLiteral(_ micros: Int64) -> String { "TIMESTAMP \(literal(Timestamp.format(micros)))" }
    public func typeName(_ type: ColumnType) -> String {
        switch type {
        case .text: return "text"
        case .integer: return "bigint"
        case .real: return "double precision"
        case .boolean: return "boolean"
        case .timestamp: return "timestamp"
        case .date: return "date"
        }
    }
    public func md5(_ expression: String) -> String { "md5(\(expression))" }
    public func castText(_ expression: String) -> String { "cast(\(expression) as text)" }
    public func checkedTimestamp(_ expression: String, relation: String, column: String, key: String) -> String {
        "cast(\(expression) as timestamp)"
    }
    public func checkedBoolean(_ expression: String, relation: String, column: String, key: String) -> String {
        "cast(\(expression) as boolean)"
    }
    public func castReal(_ expression: String) -> String { "cast(\(expression) as double precision)" }
    /// Snowflake's object functions rewritten (`PostgresSpelling`); `to_timestamp_ntz` is a
    /// function nexus creates in the schema.
    public func adapt(_ sql: String) -> String { PostgresSpelling.rewrite(sql) }
    public func timestampNTZ(_ expression: String) -> String { "cast(\(expression) as timestamp)" }
    /// Values go through `nexus_json_value` (created in the schema with `to_timestamp_ntz`),
    /// so that timestamps read as Snowflake writes them into an object.
    public func objectConstruct(_ pairs: [(key: String, value: String)]) -> String {
        "json_strip_nulls(json_build_object(\n    \(pairList(pairs.map { ($0.key, "nexus_json_value(\($0.value))") }))))"
    }
}

/// Snowflake.
public struct SnowflakeDialect: SQLDialect {
    public init() {}
    public var name: String { "snowflake" }
    /// The SQL API's bindings are positional `?`.
    public func placeholder(_ n: Int) -> String { "?" }
    /// Snowflake's sequences may leave gaps but never repeat; ORDER keeps them increasing.
    /// Unquoted, like the rest of nexus's state tables' columns (see `stateColumn`).
    public func identityColumn(_ name: String) -> String { "\(stateColumn(name)) NUMBER(38,0) IDENTITY ORDER PRIMARY KEY" }
    public var keyedTableOptions: String { "" }
    /// Transient: no Fail-safe storage kept for a table the run drops anyway.
    public var createWorkTable: String { "CREATE TRANSIENT TABLE" }
    public var hasIndexes: Bool { false }
    public var transactionalDDL: Bool { false }
    /// Snowflake compares text by its UTF-8 bytes unless a collation is set on the column.
    public func byteOrder(_ expression: String) -> String { "collate(\(expression), '')" }
    public func trimBlanks(_ e: String) -> String { "trim(\(e), ' ' || char(9) || char(10) || char(13))" }
    public func stringAgg(_ e: String, separator: String, orderBy: String) -> String { "listagg(\(e), \(literal(separator))) WITHIN GROUP (ORDER BY \(orderBy))" }
    public func booleanLiteral(_ value: Bool) -> String { value ? "true" : "false" }
    public func timestampLiteral(_ micros: Int64) -> String { "to_timestamp_ntz(\(literal(Timestamp.format(micros))))" }
    public func typeName(_ type: ColumnType) -> String {
        switch type {
        case .text: return "VARCHAR"
        case .integer: return "NUMBER(38,0)"
        case .real: return "FLOAT"
        case .boolean: return "BOOLEAN"
        case .timestamp: return "TIMESTAMP_NTZ"
        case .date: return "DATE"
        }
    }
    public func md5(_ expression: String) -> String { "md5(\(expression))" }
    public func castText(_ expression: String) -> String { "cast(\(expression) as varchar)" }
    public func checkedTimestamp(_ expression: String, relation: String, column: String, key: String) -> String {
        "to_timestamp_ntz(\(expression))"
    }
    public func checkedBoolean(_ expression: String, relation: String, column: String, key: String) -> String {
        "to_boolean(\(expression))"
    }
    public func castReal(_ expression: String) -> String { "cast(\(expression) as float)" }
    public func adapt(_ sql: String) -> String { sql }
    public func timestampNTZ(_ expression: String) -> String { "to_timestamp_ntz(\(expression))" }
    public func objectConstruct(_ pairs: [(key: String, value: String)]) -> String { "object_construct(\n    \(pairList(pairs)))" }
    /// A column of nexus's own state tables, which are created with unquoted names: Snowflake
    /// stores those upper case, and finds them again only when they are not quoted.
    func stateColumn(_ name: String) -> String {
        name.allSatisfy { $0 == "_" || ($0 >= "a" && $0 <= "z") || ($0 >= "0" && $0 <= "9") } ? name : quote(name)
    }

    /// Snowflake has no ON CONFLICT: a MERGE on the key.
    public func upsert(into table: String, columns: [String], key: String, placeholders: [String]) -> String {
        let source = zip(columns, placeholders).map { "\($0.1) AS \(stateColumn($0.0))" }.joined(separator: ", ")
        return merge(into: table, columns: columns, keys: [key], source: "SELECT \(source)")
    }

    public func upsert(into table: String, columns: [String], keys: [String], select: String) -> String {
        merge(into: table, columns: columns, keys: keys, source: select)
    }

    func merge(into table: String, columns: [String], keys: [String], source: String) -> String {
        let c = stateColumn
        let on = keys.map { "t.\(c($0)) = s.\(c($0))" }.joined(separator: " AND ")
        let updates = columns.filter { !keys.contains($0) }.map { "t.\(c($0)) = s.\(c($0))" }.joined(separator: ", ")
        return "MERGE INTO \(quote(table)) t USING (\(source)) s ON \(on) "
            + "WHEN MATCHED THEN UPDATE SET \(updates) "
            + "WHEN NOT MATCHED THEN INSERT (\(columns.map(c).joined(separator: ", "))) VALUES (\(columns.map { "s.\(c($0))" }.joined(separator: ", ")))"
    }

    /// Snowflake reads backslash escapes inside single quotes (`'a\'b'` is `a'b`): a
    /// backslash must be doubled too, or a value ending in one would end the literal early.
    public func literal(_ value: String) -> String {
        "'" + value.replacingAll("\\", with: "\\\\").replacingAll("'", with: "''") + "'"
    }
}

extension String {
    /// Replaces every occurrence of one string with another, without Foundation.
    public func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty, contains(target) else { return self }
        var out = ""
        var rest = Substring(self)
        while let r = rest.range(of: target) {
            out += rest[..<r.lowerBound]
            out += replacement
            rest = rest[r.upperBound...]
        }
        out += rest
        return out
    }
}

extension Substring {
    func range(of target: String) -> Range<Substring.Index>? {
        let t = Array(target.utf8)
        let u = self.utf8
        var i = u.startIndex
        while i != u.endIndex {
            var j = i
            var k = 0
            while k < t.count, j != u.endIndex, u[j] == t[k] { j = u.index(after: j); k += 1 }
            if k == t.count { return i..<j }
            i = u.index(after: i)
        }
        return nil
    }
}
