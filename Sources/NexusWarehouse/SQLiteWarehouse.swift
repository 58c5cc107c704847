import CSQLite
import Foundation
import NexusCore
import NexusSQL

let SQLITE_TRANSIENT_PTR = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// The embedded default warehouse: one plain SQLite file any SQLite client can open.
///
/// nexus registers `md5` and `to_timestamp_ntz` on every connection so that models
/// written for Snowflake run here unchanged.
public final class SQLiteWarehouse: Warehouse, @unchecked Sendable {
    let db: OpaquePointer
    public let path: String
    public let dialect: any SQLDialect = SQLiteDialect()

    /// Opens (creating when absent) the database file at `path`.
    ///
    /// - Parameter nexusFunctions: register nexus's SQL functions; false opens the file as
    ///   any other SQLite client would (tests use it to check that every relation stays readable).
    public init(path: String, nexusFunctions: Bool = true) throws {
        var handle: OpaquePointer?
        let rc = sqlite3_open_v2(path, &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nil)
        guard rc == SQLITE_OK, let handle else {
            let msg = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            if let handle { sqlite3_close_v2(handle) }
            throw NexusError("warehouse", "cannot open SQLite database: \(msg)", at: SourceLocation(file: path))
        }
        db = handle
        self.path = path
        sqlite3_busy_timeout(db, 10_000)
        if nexusFunctions { SQLiteFunctions.register(on: db) }
        // Larger pages suit a warehouse (long scans, bulk appends); it only applies to a new file.
        // secure_delete: SQLite as built here (sqlite-nio's build, like Debian's) has it on,
        // which zeroes (and so journals and writes) every page of a dropped table: replacing a
        // build's tables cost 20 s at 1,000,000 persons. FAST still scrubs deleted rows inside
        // pages that are written anyway; freed pages keep their bytes until the next build
        // reuses them.
        try execute("""
            PRAGMA secure_delete=FAST;
            PRAGMA page_size=65536;
            PRAGMA journal_mode=DELETE;
            PRAGMA synchronous=NORMAL;
            PRAGMA cache_size=-262144;
            PRAGMA temp_store=MEMORY;
            """)
    }

    deinit { sqlite3_close_v2(db) }

    /// SQLite's page cache for reading the built tables (models after the nexus step,
    /// exports, syncs): their plans look rows up by index all over tables larger than the
    /// build's 256 MB cache, and every miss is a read from the OS. The cache only grows as
    /// pages are read. At 1,000,000 persons, a membership join: 25 s with 256 MB, 10 s with 1 GB.
    public var location: String { path }

    /// Header bytes 24–27, bumped once by every committed write transaction in rollback-journal
    /// mode (bytes 18–19 are 1 then; in WAL mode the counter is not kept, and this is nil).
    public func changeCounter() -> UInt32? {
        guard let f = fopen(path, "rb") else { return nil }
        defer { fclose(f) }
        var header = [UInt8](repeating: 0, count: 100)
        guard fread(&header, 1, 100, f) == 100, header[18] == 1, header[19] == 1 else { return nil }
        return UInt32(header[24]) << 24 | UInt32(header[25]) << 16 | UInt32(header[26]) << 8 | UInt32(header[27])
    }

    public func useReadCache() throws {
        try execute("PRAGMA cache_size=-1048576")
    }

    /// Renames as SQLite did before 3.26 (`legacy_alter_table`): a rename leaves the text of
    /// views alone, since the views over the old tables are recreated in the same
    /// transaction, and the modern rename would check (and fail on) every view in the file.
    public func publish(_ body: () throws -> Void) throws {
        try execute("PRAGMA legacy_alter_table=ON")
        defer { try? execute("PRAGMA legacy_alter_table=OFF") }
        try transaction(body)
    }

    /// A file lock beside the warehouse file (`.nexus-lock`; syncs among themselves also
    /// `.nexus-sync-lock`), which every nexus process on this file sees.
    public func lock(_ purpose: WarehouseLock.Purpose, timeout: Double) throws -> WarehouseLock {
        try WarehouseLock.file(purpose, file: path + (purpose == .sync ? ".nexus-sync-lock" : ".nexus-lock"), warehouse: path, timeout: timeout)
    }

    public func nexusOnlyFunctions(calledBy sql: String) -> [String] {
        SQLLexer.calledFunctions(sql).intersection(SQLiteFunctions.names).sorted()
    }

    /// The version of the SQLite library nexus is built with (sqlite-nio's copy).
    public static var sqliteVersion: String { String(cString: sqlite3_libversion()) }

    /// SQLite sorts in memory here (`temp_store=MEMORY`, for the build's many small sorts);
    /// a sort of tens of millions of rows spills to temporary files instead.
    public func withSortsOnDisk<R>(_ body: () throws -> R) throws -> R {
        try execute("PRAGMA temp_store=FILE")
        defer { try? execute("PRAGMA temp_store=MEMORY") }
        return try body()
    }

    var lastError: String { String(cString: sqlite3_errmsg(db)) }

    func fail(_ sql: String) -> NexusError {
        SQLiteWarehouse.error(lastError)
    }

    /// An error from SQLite; a row error raised by nexus's own SQL functions
    /// (`relation R, row K, column C: message`) keeps its location.
    static func error(_ message: String) -> NexusError {
        let parts = message.split(separator: ":", maxSplits: 1).map(String.init)
        if parts.count == 2, parts[0].hasPrefix("relation ") {
            var loc = SourceLocation()
            for field in parts[0].components(separatedBy: ", ") {
                if field.hasPrefix("relation ") { loc.relation = String(field.dropFirst(9)) }
                else if field.hasPrefix("row ") { loc.row = String(field.dropFirst(4)) }
                else if field.hasPrefix("column ") { loc.columnName = String(field.dropFirst(7)) }
            }
            if loc.relation != nil { return NexusError("contract", parts[1].trimmingCharacters(in: .whitespaces), at: loc) }
        }
        return NexusError("sql", message)
    }

    public func execute(_ sql: String) throws {
        let started = StatementTrace.start()
        defer { StatementTrace.end(started, sql) }
        var err: UnsafeMutablePointer<CChar>?
        if sqlite3_exec(db, sql, nil, nil, &err) != SQLITE_OK {
            let msg = err.map { String(cString: $0) } ?? lastError
            sqlite3_free(err)
            throw SQLiteWarehouse.error(msg)
        }
    }

    public func executeCounting(_ sql: String) throws -> Int {
        try execute(sql)
        return Int(sqlite3_changes(db))
    }

    func prepare(_ sql: String) throws -> OpaquePointer {
        var stmt: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &stmt, nil) == SQLITE_OK, let stmt else {
            throw NexusError("sql", lastError)
        }
        return stmt
    }

    public func query(_ sql: String) throws -> QueryResult { try query(sql, values: []) }

    func query(_ sql: String, values: [SQLValue]) throws -> QueryResult {
        var rows: [[SQLValue]] = []
        var columns: [String]?
        try streamFast(sql, values: values) { row in
            rows.append((0..<row.columnCount).map { row.value($0) })
        } header: { cursor in
            columns = (0..<cursor.columnCount).map { cursor.name($0) }
        }
        return QueryResult(columns: columns ?? [], rows: rows)
    }

    public func stream(_ sql: String, header: ([String]) -> Void, _ body: (any RowCursor) throws -> Void) throws {
        try streamFast(sql, { try body($0) }, header: { c in header((0..<c.columnCount).map { c.name($0) }) })
    }

    /// Streams rows through the concrete cursor type, for the engine's hot loops.
    public func streamFast(_ sql: String, values: [SQLValue] = [], _ body: (SQLiteCursor) throws -> Void,
                           header: (SQLiteCursor) -> Void = { _ in }) throws {
        let stmt = try prepare(sql)
        defer { sqlite3_finalize(stmt) }
        SQLiteWarehouse.bind(values, to: stmt)
        let cursor = SQLiteCursor(stmt: stmt, columnCount: Int(sqlite3_column_count(stmt)))
        header(cursor)
        while true {
            let rc = sqlite3_step(stmt)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else { throw fail(sql) }
            try body(cursor)
        }
    }

    public func columns(of relation: String) throws -> [ColumnInfo]? {
        guard try relationKind(relation) != nil else { return nil }
        let r = try query("SELECT name, type FROM pragma_table_info(\(relation))" as SQL)
        return r.rows.map { ColumnInfo(name: $0[0].string ?? "", declaredType: $0[1].string ?? "") }
    }

    public func relationKind(_ name: String) throws -> RelationKind? {
        let r = try query("SELECT type FROM sqlite_master WHERE name = \(name) AND type IN ('table','view')" as SQL)
        guard let t = r.rows.first?[0].string else { return nil }
        return t == "view" ? .view : .table
    }

    public func relations() throws -> [(name: String, kind: RelationKind)] {
        try query("SELECT name, type FROM sqlite_master WHERE type IN ('table','view') ORDER BY name").rows.map {
            ($0[0].string ?? "", $0[1].string == "view" ? .view : .table)
        }
    }

    private let transactionDepth = TransactionDepth()

    public func transaction<R>(_ body: () throws -> R) throws -> R {
        try runTransaction(transactionDepth, begin: "BEGIN IMMEDIATE", body)
    }

    /// Creates `table` from a query, keeping the declared types of columns taken straight
    /// from other relations (SQLite's CREATE TABLE AS would reduce `TIMESTAMP` to `NUM`).
    /// Returns the number of rows inserted.
    public func createTable(_ table: String, as select: String) throws -> Int {
        let statements = try createTableStatements(table, as: select)
        try execute(statements[0])
        return try executeCounting(statements[1])
    }

    /// The new table's columns take the types SQLite declares for the query's columns
    /// (`CREATE TABLE … AS` would declare `NUM` and `TEXT` only).
    public func createTableStatements(_ table: String, as select: String) throws -> [String] {
        let stmt = try prepare(select)
        let n = Int(sqlite3_column_count(stmt))
        var defs: [String] = []
        for i in 0..<n {
            let name = String(cString: sqlite3_column_name(stmt, Int32(i)))
            let type = sqlite3_column_decltype(stmt, Int32(i)).map { String(cString: $0) } ?? ""
            defs.append(type.isEmpty ? dialect.quote(name) : "\(dialect.quote(name)) \(type)")
        }
        sqlite3_finalize(stmt)
        guard n > 0 else { throw NexusError("sql", "the model's SQL returns no columns") }
        return ["CREATE TABLE \(dialect.quote(table)) (\(defs.joined(separator: ", ")))", "INSERT INTO \(dialect.quote(table)) \(select)"]
    }

    public func createTable(_ table: String, columns: [(name: String, type: String)], as select: String) throws -> Int {
        try execute("CREATE TABLE \(dialect.quote(table)) (\(columns.map { "\(dialect.quote($0.name)) \($0.type)" }.joined(separator: ", ")))")
        return try executeCounting("INSERT INTO \(dialect.quote(table)) \(select)")
    }

    public func executeMany(_ sql: String, _ rows: [[SQLValue]]) throws {
        guard !rows.isEmpty else { return }
        let stmt = try prepare(sql)
        defer { sqlite3_finalize(stmt) }
        for row in rows {
            SQLiteWarehouse.bind(row, to: stmt)
            guard sqlite3_step(stmt) == SQLITE_DONE else { throw fail(sql) }
            sqlite3_reset(stmt)
        }
    }

    static func bind(_ values: [SQLValue], to stmt: OpaquePointer) {
        for (i, v) in values.enumerated() {
            let k = Int32(i + 1)
            switch v {
            case .null: sqlite3_bind_null(stmt, k)
            case .integer(let n): sqlite3_bind_int64(stmt, k, n)
            case .real(let d): sqlite3_bind_double(stmt, k, d)
            case .text(let t): sqlite3_bind_text(stmt, k, t, -1, SQLITE_TRANSIENT_PTR)
            }
        }
    }

    public func execute(_ sql: SQL) throws {
        let (text, values) = sql.rendered(dialect)
        try streamFast(text, values: values) { _ in }
    }

    public func query(_ sql: SQL) throws -> QueryResult {
        let (text, values) = sql.rendered(dialect)
        return try query(text, values: values)
    }

    public func stream(_ sql: SQL, header: ([String]) -> Void, _ body: (any RowCursor) throws -> Void) throws {
        let (text, values) = sql.rendered(dialect)
        try streamFast(text, values: values, { try body($0) }, header: { c in header((0..<c.columnCount).map { c.name($0) }) })
    }

    @discardableResult
    public func createIndex(_ index: IndexSpec, on table: String, name: String) throws -> String {
        var chosen = name
        var n = 1
        while try !query("SELECT 1 FROM sqlite_master WHERE name = \(chosen)" as SQL).rows.isEmpty {
            n += 1
            chosen = "\(name)_\(n)"
        }
        // The sort behind a large index spills to temporary files, and SQLite's sorter may
        // use helper threads: at 1,000,000 persons the nexus tables' indexes took 43 s with an
        // in-memory single-threaded sort and 28 s this way (2 cores).
        try withSortsOnDisk {
            try execute("PRAGMA threads=\(min(4, max(1, ProcessInfo.processInfo.activeProcessorCount)))")
            defer { try? execute("PRAGMA threads=0") }
            try execute(index.createStatement(name: chosen, table: table, dialect: dialect))
        }
        return chosen
    }

    public func indexes(on table: String) throws -> [[String]] {
        try query("SELECT name FROM pragma_index_list(\(table))" as SQL).rows.compactMap { $0[0].string }.map { index in
            try query("SELECT name FROM pragma_index_info(\(index)) ORDER BY seqno" as SQL).rows.map { $0[0].string ?? "" }
        }
    }

    /// Statistics from every row, not a sample (`analysis_limit`): nexus writes its tables
    /// clustered (participants by entity), so the first rows of an index are not typical of
    /// it (a sample of 1,000 rows put 501 participants on each entity instead of 8). Reading
    /// whole indexes costs about 3 s at 1,000,000 persons.
    public func analyze(_ tables: [String]) throws {
        guard !tables.isEmpty else { return }
        try execute("PRAGMA analysis_limit=0")
        for t in tables { try execute("ANALYZE \(dialect.quote(t))") }
    }

    public func moveStatistics(_ renames: [(from: String, to: String)]) throws {
        guard !renames.isEmpty, try relationKind("sqlite_stat1") == .table else { return }
        for r in renames {
            try execute("DELETE FROM sqlite_stat1 WHERE tbl = \(r.to)" as SQL)
            try execute("UPDATE sqlite_stat1 SET tbl = \(r.to) WHERE tbl = \(r.from)" as SQL)
        }
        // Statistics are read with the schema: load the moved ones now.
        try execute("ANALYZE sqlite_schema")
    }

    /// Number of rows changed by the last statement.
    public var changes: Int { Int(sqlite3_changes(db)) }
}

/// A row of a SQLite statement.
public struct SQLiteCursor: RowCursor {
    let stmt: OpaquePointer
    public let columnCount: Int

    @inline(__always) public func isNull(_ i: Int) -> Bool { sqlite3_column_type(stmt, Int32(i)) == SQLITE_NULL }
    @inline(__always) public func int64(_ i: Int) -> Int64 { sqlite3_column_int64(stmt, Int32(i)) }
    @inline(__always) public func double(_ i: Int) -> Double { sqlite3_column_double(stmt, Int32(i)) }
    @inline(__always) public func type(_ i: Int) -> Int32 { sqlite3_column_type(stmt, Int32(i)) }
    public func storage(_ i: Int) -> SQLStorage {
        switch type(i) {
        case SQLITE_NULL: return .null
        case SQLITE_INTEGER: return .integer
        case SQLITE_FLOAT: return .real
        default: return .text
        }
    }

    @inline(__always)
    public func withBytes<R>(_ i: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        guard let p = sqlite3_column_text(stmt, Int32(i)) else { return try body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        let n = Int(sqlite3_column_bytes(stmt, Int32(i)))
        return try body(UnsafeRawBufferPointer(start: p, count: n))
    }

    public func string(_ i: Int) -> String? {
        if isNull(i) { return nil }
        return withBytes(i) { String(decoding: $0, as: UTF8.self) }
    }

    public func value(_ i: Int) -> SQLValue {
        switch sqlite3_column_type(stmt, Int32(i)) {
        case SQLITE_NULL: return .null
        case SQLITE_INTEGER: return .integer(int64(i))
        case SQLITE_FLOAT: return .real(double(i))
        default: return .text(string(i) ?? "")
        }
    }

    /// The column's name in the result.
    public func name(_ i: Int) -> String { String(cString: sqlite3_column_name(stmt, Int32(i))) }
}
