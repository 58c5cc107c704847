import NexusCore
import NexusSQL

/// One row of a streamed query; valid only inside the callback that receives it.
public protocol RowCursor {
    var columnCount: Int { get }
    func isNull(_ i: Int) -> Bool
    /// What the value is stored as (without converting it).
    func storage(_ i: Int) -> SQLStorage
    func int64(_ i: Int) -> Int64
    func double(_ i: Int) -> Double
    /// The value as text bytes (numbers are rendered as text); empty for NULL.
    func withBytes<R>(_ i: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
    func string(_ i: Int) -> String?
    func value(_ i: Int) -> SQLValue
}

/// How deep a warehouse's connection is in nested `transaction` calls (a reference, so that
/// a call nested inside another changes the same count).
final class TransactionDepth { var value = 0 }

/// The kind of a value as the warehouse holds it.
public enum SQLStorage: Sendable { case null, integer, real, text }

/// The storage backend (SQLite, PostgreSQL). Only nexus's own warehouses conform.
public protocol Warehouse: AnyObject {
    var dialect: any SQLDialect { get }
    /// Where the warehouse is, for messages: a file path, or user, host, port, database and schema.
    var location: String { get }
    /// A number that moves by one with every write transaction committed to the warehouse,
    /// by any client (SQLite's file change counter), or nil when the warehouse cannot say (a
    /// server): then nexus cannot tell whether anything wrote to it since the last build, and
    /// every run builds its models and nexus tables again (seeds still load only when their
    /// files changed).
    func changeCounter() -> UInt32?
    /// Creates, in the warehouse, the functions the seed's Snowflake SQL calls that the
    /// warehouse lacks (PostgreSQL's `to_timestamp_ntz`); SQLite's connections have them.
    func installCompatibilityFunctions() throws
    /// Runs `body` (a failed run's cleanup) free of the statement timeout that may have just
    /// stopped the run, so that the cleanup itself is not stopped too.
    func withoutStatementTimeout<R>(_ body: () throws -> R) throws -> R
    /// Runs one or more statements that return no rows.
    func execute(_ sql: String) throws
    /// Runs one statement and returns how many rows it inserted, updated or deleted.
    func executeCounting(_ sql: String) throws -> Int
    /// Runs a query and holds the whole result in memory (for small results).
    func query(_ sql: String) throws -> QueryResult
    /// Runs one statement with its values bound to placeholders.
    func execute(_ sql: SQL) throws
    /// Runs a query with its values bound, and holds the whole result in memory.
    func query(_ sql: SQL) throws -> QueryResult
    /// Streams the rows of a query with its values bound (see `stream(_:header:_:)`).
    func stream(_ sql: SQL, header: ([String]) -> Void, _ body: (any RowCursor) throws -> Void) throws
    /// Streams the rows of a query through `body`, one cursor reused for every row, after
    /// handing `header` the result's column names (also when there are no rows).
    func stream(_ sql: String, header: ([String]) -> Void, _ body: (any RowCursor) throws -> Void) throws
    /// Columns of a relation, in order, or nil when it does not exist.
    func columns(of relation: String) throws -> [ColumnInfo]?
    /// The kind of a relation, or nil when it does not exist.
    func relationKind(_ name: String) throws -> RelationKind?
    /// All relation names of a kind.
    func relations() throws -> [(name: String, kind: RelationKind)]
    /// Creates `table` from a query, with the column types the query's columns have; returns
    /// the rows inserted.
    func createTable(_ table: String, as select: String) throws -> Int
    /// The statements `createTable(_:as:)` sends for `table` and `select` (what
    /// `nexus compile` writes down for it); the last one fills the table.
    func createTableStatements(_ table: String, as select: String) throws -> [String]
    /// The statements `installCompatibilityFunctions` sends; none where nexus's functions
    /// live in the connection itself (SQLite).
    func compatibilityStatements() -> [String]
    /// Creates `table` with the given columns and declared types, and fills it from a query.
    func createTable(_ table: String, columns: [(name: String, type: String)], as select: String) throws -> Int
    /// Bulk load: inserts the rows `produce` binds (on the calling thread) while a second
    /// thread hands them to the warehouse (SQLite's prepared inserts, PostgreSQL's COPY).
    func insertPipelined(into table: String, columns: [String], _ produce: (BatchSink) throws -> Void) throws
    /// Streams a query's rows through `body` on the calling thread while a second thread
    /// reads them from the warehouse into batches. Integers, reals and booleans (as 1 and 0)
    /// come as numbers, everything else as text.
    func scanPipelined(_ sql: String, _ body: (BatchRow) throws -> Void) throws
    /// Runs `body` in one transaction: all of it or none of it.
    func transaction<R>(_ body: () throws -> R) throws -> R
    /// Runs one parameterised statement (`?` placeholders) once per row of `rows`, prepared once.
    func executeMany(_ sql: String, _ rows: [[SQLValue]]) throws
    /// Runs `body`, whose statements sort more rows than fit in memory, with sort space on disk.
    func withSortsOnDisk<R>(_ body: () throws -> R) throws -> R
    /// The functions `sql` calls that only nexus's connections have (sorted): a view over it
    /// would fail in the warehouse's other clients, so nexus stores such a model as a table.
    func nexusOnlyFunctions(calledBy sql: String) -> [String]
    /// Creates an index on `table` named after `name` (a free variant of it: the previous
    /// build's table may still hold an index of that name until the swap); returns its name.
    @discardableResult
    func createIndex(_ index: IndexSpec, on table: String, name: String) throws -> String
    /// The column lists of the indexes on `table`, in column order.
    func indexes(on table: String) throws -> [[String]]
    /// Brings the planner's statistics of `tables` up to date.
    func analyze(_ tables: [String]) throws
    /// Gives renamed tables the statistics gathered under their old names.
    func moveStatistics(_ renames: [(from: String, to: String)]) throws
    /// Runs `body`, which drops the published relations and renames the staged tables to
    /// their names, as one transaction: readers see the old build or the new one.
    func publish(_ body: () throws -> Void) throws
    /// Renames a table (inside `publish`).
    func renameTable(_ from: String, to: String) throws
    /// Gets ready to read the built tables at length (exports, syncs, the models after the
    /// nexus step): on SQLite, a larger page cache; a server manages its own.
    func useReadCache() throws
    /// Takes the warehouse's lock for `purpose`, waiting up to `timeout` seconds for other
    /// nexus processes; an error names the holder when it stays busy.
    func lock(_ purpose: WarehouseLock.Purpose, timeout: Double) throws -> WarehouseLock
}

extension Warehouse {
    /// The first column of a query's first row as an integer (a count, a sum); 0 when there is
    /// no row or it is NULL.
    public func integer(_ sql: String) throws -> Int { Self.firstInteger(try query(sql)) }

    /// `integer(_:)` for a statement with bound values.
    public func integer(_ sql: SQL) throws -> Int { Self.firstInteger(try query(sql)) }

    static func firstInteger(_ result: QueryResult) -> Int {
        switch result.rows.first?.first {
        case .integer(let n)?: return Int(n)
        case .real(let v)?: return Int(v)
        case .text(let t)?: return Int(t) ?? 0
        default: return 0
        }
    }

    /// Streams the rows of a query through `body`, one cursor reused for every row.
    public func stream(_ sql: String, _ body: (any RowCursor) throws -> Void) throws {
        try stream(sql, header: { _ in }, body)
    }

    /// Streams the rows of a query with its values bound.
    public func stream(_ sql: SQL, _ body: (any RowCursor) throws -> Void) throws {
        try stream(sql, header: { _ in }, body)
    }

    public func useReadCache() throws {}

    public func changeCounter() -> UInt32? { nil }

    public func installCompatibilityFunctions() throws {}
    public func compatibilityStatements() -> [String] { [] }
    public func createTableStatements(_ table: String, as select: String) throws -> [String] {
        ["CREATE TABLE \(dialect.quote(table)) AS \(select)"]
    }

    public func withoutStatementTimeout<R>(_ body: () throws -> R) throws -> R { try body() }

    /// One transaction around `body`, opened with `begin`; a call inside an open one
    /// (`depth` above 0) joins it. A failure rolls back and rethrows.
    func runTransaction<R>(_ depth: TransactionDepth, begin: String, _ body: () throws -> R) throws -> R {
        if depth.value > 0 {
            depth.value += 1
            defer { depth.value -= 1 }
            return try body()
        }
        try execute(begin)
        depth.value = 1
        do {
            let r = try body()
            depth.value = 0
            try execute("COMMIT")
            return r
        } catch {
            depth.value = 0
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// A warehouse whose DDL is transactional publishes in a plain transaction.
    public func publish(_ body: () throws -> Void) throws { try transaction(body) }

    public func renameTable(_ from: String, to: String) throws {
        try execute("ALTER TABLE \(dialect.quote(from)) RENAME TO \(dialect.quote(to))")
    }

    /// A server warehouse manages its own sort space.
    public func withSortsOnDisk<R>(_ body: () throws -> R) throws -> R { try body() }
}
