import Foundation
import NexusCore
import NexusSQL
import NexusWarehouse

/// A warehouse that writes down every statement a run sends to change the warehouse it
/// wraps, in order, as text that warehouse's own client runs (values as literals), while the
/// wrapped warehouse runs them; while `dry`, it writes them down without running them.
///
/// Reads (queries, the catalog) go to the wrapped warehouse and are not written down: what a
/// run learns from them (a model's columns, the trait names, edge-quality rows) is in the
/// statements that follow. Statements on nexus's own bookkeeping tables (`_nexus_…`: build
/// record, seed file states, lock) are not written down either: a run by hand keeps none.
final class RecordingWarehouse: Warehouse {
    let inner: any Warehouse
    /// Receives each statement written down, without its semicolon.
    let sink: (String) throws -> Void
    /// While true, statements are written down and not run.
    var dry = false
    /// While false, nothing is written down.
    var recording = true
    /// A relation's staging name (see `columns(of:)`).
    var stagedName: ((String) -> String)?
    private var depth = 0
    private var pendingBegin = false
    private var installed = false
    /// Indexes created in this run, by table: a rename on PostgreSQL renames them with it.
    private var createdIndexes: [String: [String]] = [:]

    init(_ inner: any Warehouse, sink: @escaping (String) throws -> Void) {
        self.inner = inner
        self.sink = sink
    }

    var dialect: any SQLDialect { inner.dialect }
    var location: String { inner.location }

    func write(_ statement: String) throws {
        guard recording else { return }
        var text = Substring(statement)
        while let last = text.last, last == ";" || last == " " || last == "\n" || last == "\t" { text = text.dropLast() }
        guard !text.isEmpty, !text.contains("\"_nexus_"), !text.contains(" _nexus_") else { return }
        if pendingBegin { pendingBegin = false; try sink("BEGIN") }
        try sink(String(text))
    }

    // MARK: writes

    func installCompatibilityFunctions() throws {
        guard !installed else { return }
        installed = true
        for s in inner.compatibilityStatements() { try write(s) }
        if !dry { try inner.installCompatibilityFunctions() }
    }

    func execute(_ sql: String) throws {
        try write(sql)
        if !dry { try inner.execute(sql) }
    }

    func executeCounting(_ sql: String) throws -> Int {
        try write(sql)
        return dry ? 0 : try inner.executeCounting(sql)
    }

    func execute(_ sql: SQL) throws {
        try write(sql.inlined(dialect))
        if !dry { try inner.execute(sql) }
    }

    func executeMany(_ sql: String, _ rows: [[SQLValue]]) throws {
        for row in rows { try write(SQL.inlining(sql, row, dialect: dialect)) }
        if !dry { try inner.executeMany(sql, rows) }
    }

    func createTable(_ table: String, as select: String) throws -> Int {
        for s in try inner.createTableStatements(table, as: select) { try write(s) }
        return dry ? 0 : try inner.createTable(table, as: select)
    }

    func createTable(_ table: String, columns: [(name: String, type: String)], as select: String) throws -> Int {
        let q = dialect.quote
        try write("CREATE TABLE \(q(table)) (\(columns.map { "\(q($0.name)) \($0.type)" }.joined(separator: ", ")))")
        try write("INSERT INTO \(q(table)) (\(columns.map { q($0.name) }.joined(separator: ", "))) \(select)")
        return dry ? 0 : try inner.createTable(table, columns: columns, as: select)
    }

    /// The rows go in as the wrapped warehouse loads them; what is written down is INSERTs of
    /// the table's rows read back in the order of their columns (the same text whatever order
    /// the warehouse keeps them in), a thousand rows per statement.
    func insertPipelined(into table: String, columns: [String], _ produce: (BatchSink) throws -> Void) throws {
        guard !dry else { throw NexusError("compile", "a bulk load cannot be written down without running it") }
        try inner.insertPipelined(into: table, columns: columns, produce)
        guard recording else { return }
        let q = dialect.quote, d = dialect
        let head = "INSERT INTO \(q(table)) (\(columns.map(q).joined(separator: ", "))) VALUES\n"
        var values: [String] = []
        func flush() throws {
            guard !values.isEmpty else { return }
            try write(head + values.joined(separator: ",\n"))
            values.removeAll(keepingCapacity: true)
        }
        let order = (1...max(1, columns.count)).map(String.init).joined(separator: ", ")
        // Booleans read back as 1 and 0; PostgreSQL takes no number for a boolean.
        let declared = Dictionary((try inner.columns(of: table) ?? []).map { ($0.name, ColumnType(declared: $0.declaredType)) }) { a, _ in a }
        let booleans = columns.map { declared[$0] == .boolean }
        try inner.stream("SELECT \(columns.map(q).joined(separator: ", ")) FROM \(q(table)) ORDER BY \(order)", header: { _ in }) { row in
            values.append("(" + (0..<columns.count).map { i in
                let v = row.value(i)
                if booleans[i], case .integer(let b) = v { return d.booleanLiteral(b != 0) }
                return v.literal(d)
            }.joined(separator: ", ") + ")")
            if values.count == 1000 { try flush() }
        }
        try flush()
    }

    func transaction<R>(_ body: () throws -> R) throws -> R {
        let outer = depth == 0 && dialect.transactionalDDL && recording
        if outer { pendingBegin = true }
        depth += 1
        defer { depth -= 1 }
        let result = dry ? try body() : try inner.transaction(body)
        if outer {
            // A transaction with nothing written down in it is left out whole.
            if pendingBegin { pendingBegin = false } else { try sink("COMMIT") }
        }
        return result
    }

    func publish(_ body: () throws -> Void) throws {
        // SQLite renames as before 3.26 in a publish (see SQLiteWarehouse.publish).
        let legacy = dialect.name == "sqlite"
        if legacy { try write("PRAGMA legacy_alter_table=ON") }
        if dry {
            try transaction(body)
        } else {
            try inner.publish { try transaction(body) }
        }
        if legacy { try write("PRAGMA legacy_alter_table=OFF") }
    }

    func renameTable(_ from: String, to: String) throws {
        let q = dialect.quote
        try write("ALTER TABLE \(q(from)) RENAME TO \(q(to))")
        // PostgreSQL's index names are the schema's: they follow the table (as
        // PostgresWarehouse.renameTable does), or the next run's staging names would be taken.
        if dialect.name == "postgres" {
            for index in createdIndexes[from] ?? [] where index.hasPrefix(from) {
                try write("ALTER INDEX \(q(index)) RENAME TO \(q(to + index.dropFirst(from.count)))")
            }
        }
        if !dry { try inner.renameTable(from, to: to) }
    }

    @discardableResult
    func createIndex(_ index: IndexSpec, on table: String, name: String) throws -> String {
        let chosen = dry ? name : try inner.createIndex(index, on: table, name: name)
        if dialect.hasIndexes {
            try write(index.createStatement(name: chosen, table: table, dialect: dialect))
            createdIndexes[table, default: []].append(chosen)
        }
        return chosen
    }

    /// Statistics are the planner's: written down where the warehouse keeps them (as indexes).
    func analyze(_ tables: [String]) throws {
        if dialect.hasIndexes { for t in tables { try write("ANALYZE \(dialect.quote(t))") } }
        if !dry { try inner.analyze(tables) }
    }

    /// By hand, the renamed tables' statistics are gathered again under their new names.
    func moveStatistics(_ renames: [(from: String, to: String)]) throws {
        if dry {
            if dialect.hasIndexes { for r in renames { try write("ANALYZE \(dialect.quote(r.to))") } }
        } else {
            try inner.moveStatistics(renames)
        }
    }

    // MARK: reads and the rest, as the wrapped warehouse does them

    func changeCounter() -> UInt32? { inner.changeCounter() }
    func withoutStatementTimeout<R>(_ body: () throws -> R) throws -> R { try inner.withoutStatementTimeout(body) }
    func query(_ sql: String) throws -> QueryResult { try inner.query(sql) }
    func query(_ sql: SQL) throws -> QueryResult { try inner.query(sql) }
    func stream(_ sql: SQL, header: ([String]) -> Void, _ body: (any RowCursor) throws -> Void) throws { try inner.stream(sql, header: header, body) }
    func stream(_ sql: String, header: ([String]) -> Void, _ body: (any RowCursor) throws -> Void) throws { try inner.stream(sql, header: header, body) }
    /// While `dry` (the publish), a relation's columns are those of its staged copy when there
    /// is one: the publish written down has not put it in place, and the views recreated
    /// under their final names read the columns they will have then.
    func columns(of relation: String) throws -> [ColumnInfo]? {
        if dry, let staged = stagedName?(relation), let columns = try inner.columns(of: staged) { return columns }
        return try inner.columns(of: relation)
    }
    func relationKind(_ name: String) throws -> RelationKind? { try inner.relationKind(name) }
    func relations() throws -> [(name: String, kind: RelationKind)] { try inner.relations() }
    func createTableStatements(_ table: String, as select: String) throws -> [String] { try inner.createTableStatements(table, as: select) }
    func compatibilityStatements() -> [String] { inner.compatibilityStatements() }
    func scanPipelined(_ sql: String, _ body: (BatchRow) throws -> Void) throws { try inner.scanPipelined(sql, body) }
    func withSortsOnDisk<R>(_ body: () throws -> R) throws -> R { try inner.withSortsOnDisk(body) }
    func nexusOnlyFunctions(calledBy sql: String) -> [String] { inner.nexusOnlyFunctions(calledBy: sql) }
    func indexes(on table: String) throws -> [[String]] { try inner.indexes(on: table) }
    func useReadCache() throws { try inner.useReadCache() }
    func lock(_ purpose: WarehouseLock.Purpose, timeout: Double) throws -> WarehouseLock { try inner.lock(purpose, timeout: timeout) }
}
