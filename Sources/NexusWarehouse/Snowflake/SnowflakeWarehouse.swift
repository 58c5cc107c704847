import Foundation
import NexusCore
import NexusSQL

/// A Snowflake database and schema, through the SQL API v2 (`SnowflakeClient`).
///
/// Every relation and column nexus makes is quoted, so its names keep the case nexus gives
/// them (Snowflake upper-cases unquoted names). Each API request is its own session, and
/// Snowflake commits each DDL statement on its own: `transaction` runs its statements as they
/// come (each commits), and the publish is made safe another way (docs/decisions.md).
/// Snowflake has no indexes and no planner statistics to keep: those calls do nothing.
public final class SnowflakeWarehouse: Warehouse {
    public let client: SnowflakeClient
    public let dialect: any SQLDialect = SnowflakeDialect()

    public init(client: SnowflakeClient) { self.client = client }

    public var location: String {
        let s = client.settings
        return "snowflake account \(s.account), database \(s.database), schema \(s.schema) (user \(s.user))"
    }

    public func changeCounter() -> UInt32? { nil }

    // MARK: statements

    /// The statements of a script, split at top-level semicolons (one per request: the API
    /// runs one statement per request unless told how many to expect).
    static func statements(_ sql: String) -> [String] {
        var out: [String] = [], current = ""
        for t in SQLLexer.tokens(sql) {
            if t.kind == .punct && t.text == ";" {
                if !current.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { out.append(current) }
                current = ""
            } else {
                current += t.text
            }
        }
        if !current.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { out.append(current) }
        return out
    }

    /// A bound value as the API takes it.
    static func binding(_ v: SQLValue) -> [String: Any] {
        switch v {
        case .null: return ["type": "TEXT", "value": NSNull()]
        case .integer(let i): return ["type": "FIXED", "value": String(i)]
        case .real(let d): return ["type": "REAL", "value": String(d)]
        case .text(let s): return ["type": "TEXT", "value": s]
        }
    }

    @discardableResult
    func run(_ sql: String, _ values: [SQLValue] = []) throws -> SnowflakeClient.Result {
        let started = StatementTrace.start()
        defer { StatementTrace.end(started, sql) }
        return try client.run(sql, bindings: values.map(SnowflakeWarehouse.binding))
    }

    public func execute(_ sql: String) throws {
        for s in SnowflakeWarehouse.statements(sql) { try run(s) }
    }

    public func executeCounting(_ sql: String) throws -> Int {
        let r = try run(sql)
        // DML answers one row of counts ("number of rows inserted", "... updated", ...).
        guard r.columns.first?.name.hasPrefix("number of rows") == true else { return 0 }
        return r.first.first?.compactMap { $0.flatMap { Int($0) } }.reduce(0, +) ?? 0
    }

    public func execute(_ sql: SQL) throws {
        let (text, values) = sql.rendered(dialect)
        try run(text, values)
    }

    public func query(_ sql: String) throws -> QueryResult { try collect(try run(sql)) }

    public func query(_ sql: SQL) throws -> QueryResult {
        let (text, values) = sql.rendered(dialect)
        return try collect(try run(text, values))
    }

    func collect(_ r: SnowflakeClient.Result) throws -> QueryResult {
        var rows: [[SQLValue]] = []
        try each(r) { rows.append($0) }
        return QueryResult(columns: r.columns.map(\.name), rows: rows)
    }

    /// Every row of a result, partition by partition (only one partition in memory).
    func each(_ r: SnowflakeClient.Result, _ body: ([SQLValue]) throws -> Void) throws {
        let kinds = r.columns
        for p in 0..<r.partitions {
            let rows = p == 0 ? r.first : try client.partition(r.handle, p)
            for row in rows { try body(zip(row, kinds).map { SnowflakeWarehouse.value($0.0, $0.1) }) }
        }
    }

    /// A jsonv2 cell as nexus's values: numbers as numbers, booleans as 1 and 0, timestamps
    /// and dates in nexus's one spelling, everything else as text.
    static func value(_ cell: String?, _ column: SnowflakeClient.Column) -> SQLValue {
        guard let cell else { return .null }
        switch column.type {
        case "fixed":
            if column.scale == 0, let i = Int64(cell) { return .integer(i) }
            return Double(cell).map(SQLValue.real) ?? .text(cell)
        case "real":
            return Double(cell).map(SQLValue.real) ?? .text(cell)
        case "boolean":
            return .integer(cell == "true" || cell == "1" ? 1 : 0)
        case "timestamp_ntz", "timestamp_ltz", "timestamp_tz":
            // "<seconds>.<nanoseconds>" (then, for TIMESTAMP_TZ, " <offset minutes + 1440>").
            let number = cell.split(separator: " ").first.map(String.init) ?? cell
            let parts = number.split(separator: ".", maxSplits: 1)
            guard let seconds = Int64(parts[0]) else { return .text(cell) }
            let fraction = parts.count > 1 ? String(parts[1].prefix(6)).padding(toLength: 6, withPad: "0", startingAt: 0) : "0"
            let micros = seconds * 1_000_000 + (seconds < 0 && parts.count > 1 ? -1 : 1) * (Int64(fraction) ?? 0)
            return .text(Timestamp.format(micros))
        case "date":
            guard let days = Int64(cell) else { return .text(cell) }
            return .text(String(Timestamp.format(days * 86_400_000_000).prefix(10)))
        default:
            return .text(cell)
        }
    }

    final class Cursor: RowCursor {
        var values: [SQLValue] = []
        var columnCount: Int { values.count }
        func isNull(_ i: Int) -> Bool { values[i].isNull }
        func storage(_ i: Int) -> SQLStorage {
            switch values[i] { case .null: return .null; case .integer: return .integer; case .real: return .real; case .text: return .text }
        }
        func int64(_ i: Int) -> Int64 {
            switch values[i] { case .integer(let v): return v; case .real(let d): return Int64(d); case .text(let s): return Int64(s) ?? 0; case .null: return 0 }
        }
        func double(_ i: Int) -> Double {
            switch values[i] { case .integer(let v): return Double(v); case .real(let d): return d; case .text(let s): return Double(s) ?? 0; case .null: return 0 }
        }
        func withBytes<R>(_ i: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
            var s = values[i].string ?? ""
            return try s.withUTF8 { try body(UnsafeRawBufferPointer($0)) }
        }
        func string(_ i: Int) -> String? { values[i].string }
        func value(_ i: Int) -> SQLValue { values[i] }
    }

    public func stream(_ sql: SQL, header: ([String]) -> Void, _ body: (any RowCursor) throws -> Void) throws {
        let (text, values) = sql.rendered(dialect)
        try stream(try run(text, values), header: header, body)
    }

    public func stream(_ sql: String, header: ([String]) -> Void, _ body: (any RowCursor) throws -> Void) throws {
        try stream(try run(sql), header: header, body)
    }

    func stream(_ r: SnowflakeClient.Result, header: ([String]) -> Void, _ body: (any RowCursor) throws -> Void) throws {
        header(r.columns.map(\.name))
        let cursor = Cursor()
        try each(r) { cursor.values = $0; try body(cursor) }
    }

    // MARK: catalog

    public func columns(of relation: String) throws -> [ColumnInfo]? {
        let rows = try query("""
            SELECT column_name, data_type FROM information_schema.columns
            WHERE table_schema = \(client.settings.schema) AND table_name = \(relation) ORDER BY ordinal_position
            """ as SQL).rows
        if rows.isEmpty { return nil }
        return rows.map { ColumnInfo(name: $0[0].string ?? "", declaredType: $0[1].string ?? "") }
    }

    /// The schema's relations from the catalog: `information_schema.tables` lists views too on
    /// Snowflake; the views are also read from `information_schema.views`, which the test
    /// stand-in (fakesnow) needs, and UNION makes that no duplicate on Snowflake itself.
    func catalog(_ name: String?) throws -> [(name: String, kind: RelationKind)] {
        let schema = client.settings.schema
        let filter: SQL = name.map { " AND table_name = \($0)" } ?? ""
        return try query("""
            SELECT table_name, CASE WHEN table_type = 'VIEW' THEN 'VIEW' ELSE 'TABLE' END FROM information_schema.tables
            WHERE table_schema = \(schema)\(filter)
            UNION SELECT table_name, 'VIEW' FROM information_schema.views WHERE table_schema = \(schema)\(filter)
            ORDER BY 1
            """ as SQL).rows.map { ($0[0].string ?? "", $0[1].string == "VIEW" ? .view : .table) }
    }

    public func relationKind(_ name: String) throws -> RelationKind? { try catalog(name).first?.kind }

    public func relations() throws -> [(name: String, kind: RelationKind)] { try catalog(nil) }

    // MARK: building

    public func createTable(_ table: String, as select: String) throws -> Int {
        try run(try createTableStatements(table, as: select)[0])
        return try integer("SELECT count(*) FROM \(dialect.quote(table))")
    }

    public func createTableStatements(_ table: String, as select: String) throws -> [String] {
        ["CREATE OR REPLACE TABLE \(dialect.quote(table)) AS \(select)"]
    }

    public func createTable(_ table: String, columns: [(name: String, type: String)], as select: String) throws -> Int {
        let defs = columns.map { "\(dialect.quote($0.name)) \($0.type)" }.joined(separator: ", ")
        try run("CREATE OR REPLACE TABLE \(dialect.quote(table)) (\(defs))")
        return try executeCounting("INSERT INTO \(dialect.quote(table)) (\(columns.map { dialect.quote($0.name) }.joined(separator: ", "))) \(select)")
    }

    /// Rows bound by `produce`, sent as multi-row INSERTs with array bindings (one request per
    /// batch of rows).
    public func insertPipelined(into table: String, columns: [String], _ produce: (BatchSink) throws -> Void) throws {
        let n = columns.count
        let sql = "INSERT INTO \(dialect.quote(table)) (\(columns.map { dialect.quote($0) }.joined(separator: ", "))) VALUES (\(Array(repeating: "?", count: n).joined(separator: ", ")))"
        try BatchPipeline.insert(columns: n, label: table, consume: { [self] b in
            // Every value as text: Snowflake casts TEXT bindings to the columns' types, and one
            // column of a batch may mix numbers and NULLs.
            var arrays = [[Any]](repeating: [], count: n)
            for r in 0..<b.rows {
                let row = BatchRow(batch: b, base: r * n)
                for c in 0..<n {
                    arrays[c].append(row.isNull(c) ? NSNull() : (row.string(c) ?? "") as Any)
                }
            }
            guard b.rows > 0 else { return }
            try client.run(sql, bindings: (0..<n).map { ["type": "TEXT", "value": arrays[$0]] })
        }, produce: produce)
    }

    public func scanPipelined(_ sql: String, _ body: (BatchRow) throws -> Void) throws {
        let r = try run(sql)
        let n = r.columns.count
        let sink = RowBatch(columns: n, capacity: 1)
        try each(r) { values in
            sink.reset()
            for (c, v) in values.enumerated() {
                switch v {
                case .null: sink.tags[c] = 0
                case .integer(let i): sink.tags[c] = 1; sink.words[c] = i
                case .real(let d): sink.tags[c] = 2; sink.words[c] = Int64(bitPattern: d.bitPattern)
                case .text(var s): s.withUTF8 { sink.putText(c, UnsafeRawBufferPointer($0)) }
                }
            }
            try body(BatchRow(batch: sink, base: 0))
        }
    }

    /// Each statement commits on its own (see the type's comment).
    public func transaction<R>(_ body: () throws -> R) throws -> R { try body() }

    public func executeMany(_ sql: String, _ rows: [[SQLValue]]) throws {
        guard let width = rows.first?.count, width > 0 else {
            for _ in rows { try run(sql) }
            return
        }
        // One request for every row: a column of values per placeholder.
        var columns = [[Any]](repeating: [], count: width)
        for row in rows { for (c, v) in row.enumerated() { columns[c].append(SnowflakeWarehouse.binding(v)["value"]!) } }
        try client.run(sql, bindings: columns.map { ["type": "TEXT", "value": $0] })
    }

    public func withSortsOnDisk<R>(_ body: () throws -> R) throws -> R { try body() }
    public func nexusOnlyFunctions(calledBy sql: String) -> [String] { [] }

    @discardableResult
    public func createIndex(_ index: IndexSpec, on table: String, name: String) throws -> String { name }
    public func indexes(on table: String) throws -> [[String]] { [] }
    public func analyze(_ tables: [String]) throws {}
    public func moveStatistics(_ renames: [(from: String, to: String)]) throws {}

    public func renameTable(_ from: String, to: String) throws {
        try run("ALTER TABLE \(dialect.quote(from)) RENAME TO \(dialect.quote(to))")
    }

}
