import Foundation
import NexusCore
import NexusSQL

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A PostgreSQL server as the warehouse: nexus's relations live in one schema of one database.
///
/// One connection (libpq), used from one thread at a time, as SQLite's is. Every statement
/// with values sends them as bound parameters (`$1`…); rows stream one at a time (libpq's
/// single-row mode), so a scan of any size holds one row; bulk loads use `COPY … FROM STDIN`.
public final class PostgresWarehouse: Warehouse, @unchecked Sendable {
    /// Where the server is and who nexus is there (`warehouse:` in nexus.yml).
    public struct Settings: Sendable, Hashable {
        public var host: String = "127.0.0.1"
        public var port: Int = 5432
        public var database: String
        public var user: String
        public var schema: String = "public"
        /// The environment variable holding the password (never the password itself).
        public var passwordEnv: String?
        /// Or a file holding it (its first line), for secrets mounted as files.
        public var passwordFile: String?
        public var sslmode: String = "prefer"
        /// Seconds before the server cancels one statement (0: no limit).
        public var statementTimeout: Double = 0

        public init(host: String = "127.0.0.1", port: Int = 5432, database: String, user: String, schema: String = "public",
                    passwordEnv: String? = nil, sslmode: String = "prefer") {
            self.host = host; self.port = port; self.database = database; self.user = user; self.schema = schema
            self.passwordEnv = passwordEnv; self.sslmode = sslmode
        }

        /// How messages name the warehouse: enough to find it, nothing secret.
        public var label: String { "postgres \(user)@\(host):\(port)/\(database) schema \(schema)" }
    }

    public let settings: Settings
    public let dialect: any SQLDialect = PostgresDialect()
    let pq: LibPQ
    let conn: OpaquePointer
    let transactionDepth = TransactionDepth()

    /// Connects, and checks that the schema exists; an error is one line naming the server
    /// and what to check.
    public init(_ settings: Settings) throws {
        self.settings = settings
        let pq = try LibPQ.shared()
        self.pq = pq
        var password: String?
        if let file = settings.passwordFile {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw NexusError("warehouse", "\(settings.label): cannot read the password file \(file) (warehouse.password_file)")
            }
            password = text.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
        } else if let env = settings.passwordEnv {
            guard let p = ProcessInfo.processInfo.environment[env] else {
                throw NexusError("warehouse", "\(settings.label): the password is read from the environment variable \(env) (warehouse.password_env), which is not set")
            }
            password = p
        }
        var params: [(String, String)] = [
            ("host", settings.host), ("port", String(settings.port)), ("dbname", settings.database), ("user", settings.user),
            ("sslmode", settings.sslmode), ("connect_timeout", "10"),
            ("application_name", "nexus (host \(WarehouseLock.hostName()), process \(getpid()))"),
            // Errors are matched on SQLSTATE and shown as the server words them (lc_messages
            // is the server's to set: only a superuser may change it, and a build's user is not one).
            ("options", "-c client_min_messages=warning"),
        ]
        if let password { params.append(("password", password)) }
        let keywords = params.map { strdup($0.0) }, values = params.map { strdup($0.1) }
        defer { (keywords + values).forEach { free($0) } }
        var kp: [UnsafePointer<CChar>?] = keywords.map { UnsafePointer($0) } + [nil]
        var vp: [UnsafePointer<CChar>?] = values.map { UnsafePointer($0) } + [nil]
        let c = kp.withUnsafeMutableBufferPointer { k in vp.withUnsafeMutableBufferPointer { v in pq.connectdbParams(k.baseAddress, v.baseAddress, 0) } }
        guard let c else { throw NexusError("warehouse", "\(settings.label): out of memory connecting") }
        guard pq.status(c) == LibPQ.connectionOK else {
            let message = pq.errorMessage(c).map { String(cString: $0) } ?? "cannot connect"
            pq.finish(c)
            throw NexusError("warehouse", PostgresWarehouse.connectionAdvice(message, settings))
        }
        conn = c
        // Notices (`relation already exists, skipping`) are not nexus's output.
        _ = pq.setNoticeProcessor(conn, { _, _ in }, nil)
        // (The connection is closed by deinit, which runs for a throw once every property is set.)
        guard try integer("SELECT count(*) FROM pg_namespace WHERE nspname = \(settings.schema)" as SQL) == 1 else {
            throw NexusError("warehouse", "\(settings.label): schema \(settings.schema) does not exist; create it (CREATE SCHEMA \(dialect.quote(settings.schema))) or set warehouse.schema")
        }
        try execute("SET search_path TO \(dialect.quote(settings.schema))")
        if settings.statementTimeout > 0 { try execute("SET statement_timeout = \(Int(settings.statementTimeout * 1000))") }
    }

    deinit { pq.finish(conn) }

    /// What to check, from libpq's message on a failed connection.
    static func connectionAdvice(_ raw: String, _ s: Settings) -> String {
        let message = raw.split(separator: "\n").first.map(String.init)?.trimmingCharacters(in: .whitespaces) ?? raw
        let lower = raw.lowercased()
        let hint: String
        if lower.contains("password authentication failed") || lower.contains("no password supplied") {
            hint = "check the user and the password in \(s.passwordFile.map { "the file \($0)" } ?? s.passwordEnv.map { "the environment variable \($0)" } ?? "warehouse.password_env (none is set)")"
        } else if lower.contains("database") && lower.contains("does not exist") {
            hint = "create the database, or check warehouse.database"
        } else if lower.contains("connection refused") || lower.contains("could not connect") || lower.contains("timeout expired") {
            hint = "is the server running and listening on \(s.host):\(s.port)? check warehouse.host and warehouse.port"
        } else if lower.contains("role") && lower.contains("does not exist") {
            hint = "check warehouse.user"
        } else {
            hint = "check the warehouse settings in nexus.yml"
        }
        return "\(s.label): cannot connect (\(message)); \(hint)"
    }

    // MARK: errors

    /// A failed statement as one line: the server's message, its SQLSTATE, and what to check.
    func failure(_ result: OpaquePointer?) -> NexusError {
        let message = result.flatMap { pq.resultErrorField($0, Int32(UInt8(ascii: "M"))) }.map { String(cString: $0) }
            ?? pq.errorMessage(conn).map { String(cString: $0).trimmingCharacters(in: .whitespacesAndNewlines) } ?? "unknown error"
        let state = result.flatMap { pq.resultErrorField($0, Int32(UInt8(ascii: "C"))) }.map { String(cString: $0) } ?? ""
        switch state {
        case "57014":
            return NexusError("warehouse", "\(settings.label): a statement was cancelled (\(message)): the statement timeout was reached, or someone cancelled it")
        case "42501":
            return NexusError("warehouse", "\(settings.label): permission denied (\(message)); grant user \(settings.user) the rights it needs on schema \(settings.schema)")
        case "":
            return NexusError("warehouse", "\(settings.label): \(message)")
        default:
            return NexusError("sql", "\(message) (SQLSTATE \(state))")
        }
    }

    /// Runs `text` with `values` bound; returns the result, which the caller clears.
    func run(_ text: String, _ values: [SQLValue]) throws -> OpaquePointer {
        let result = withParameters(values) { count, pointers in
            pq.execParams(conn, text, count, nil, pointers, nil, nil, 0)
        }
        guard let result else { throw failure(nil) }
        let status = pq.resultStatus(result)
        guard status == LibPQ.commandOK || status == LibPQ.tuplesOK else {
            let error = failure(result)
            pq.clear(result)
            throw error
        }
        return result
    }

    /// Values as libpq's text parameters (NULL as a null pointer).
    func withParameters<R>(_ values: [SQLValue], _ body: (Int32, UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
        let copies: [UnsafeMutablePointer<CChar>?] = values.map { v in
            switch v {
            case .null: return nil
            case .integer(let n): return strdup(String(n))
            case .real(let d): return strdup(d.isFinite ? String(d) : (d.isNaN ? "NaN" : (d > 0 ? "Infinity" : "-Infinity")))
            case .text(let t): return strdup(t)
            }
        }
        defer { copies.forEach { free($0) } }
        let pointers: [UnsafePointer<CChar>?] = copies.map { $0.map { UnsafePointer($0) } }
        return pointers.withUnsafeBufferPointer { body(Int32(values.count), $0.baseAddress) }
    }

    // MARK: Warehouse

    public func execute(_ sql: String) throws {
        let started = StatementTrace.start()
        defer { StatementTrace.end(started, sql) }
        // The simple protocol runs a script of several statements in one round trip.
        guard let result = pq.exec(conn, sql) else { throw failure(nil) }
        defer { pq.clear(result) }
        let status = pq.resultStatus(result)
        guard status == LibPQ.commandOK || status == LibPQ.tuplesOK || status == 0 else { throw failure(result) }
    }

    public func executeCounting(_ sql: String) throws -> Int {
        let result = try run(sql, [])
        defer { pq.clear(result) }
        return pq.cmdTuples(result).flatMap { Int(String(cString: $0)) } ?? 0
    }

    public func execute(_ sql: SQL) throws {
        let (text, values) = sql.rendered(dialect)
        pq.clear(try run(text, values))
    }

    public func query(_ sql: String) throws -> QueryResult { try query(SQL(stringLiteral: sql)) }

    public func query(_ sql: SQL) throws -> QueryResult {
        let (text, values) = sql.rendered(dialect)
        let result = try run(text, values)
        defer { pq.clear(result) }
        let cursor = PostgresCursor(pq: pq, result: result)
        var rows: [[SQLValue]] = []
        for r in 0..<Int(pq.ntuples(result)) {
            cursor.row = Int32(r)
            rows.append((0..<cursor.columnCount).map { cursor.value($0) })
        }
        return QueryResult(columns: cursor.names, rows: rows)
    }

    public func stream(_ sql: String, header: ([String]) -> Void, _ body: (any RowCursor) throws -> Void) throws {
        try stream(SQL(stringLiteral: sql), header: header, body)
    }

    /// Rows one at a time (single-row mode): memory holds one row, whatever the result's size.
    public func stream(_ sql: SQL, header: ([String]) -> Void, _ body: (any RowCursor) throws -> Void) throws {
        let (text, values) = sql.rendered(dialect)
        let sent = withParameters(values) { count, pointers in pq.sendQueryParams(conn, text, count, nil, pointers, nil, nil, 0) }
        guard sent == 1 else { throw failure(nil) }
        _ = pq.setSingleRowMode(conn)
        var failed: Error?
        var headed = false
        // Every result must be read to the end before the connection takes another statement.
        while let result = pq.getResult(conn) {
            defer { pq.clear(result) }
            let status = pq.resultStatus(result)
            if status == LibPQ.singleTuple || status == LibPQ.tuplesOK {
                let cursor = PostgresCursor(pq: pq, result: result)
                if !headed { header(cursor.names); headed = true }
                guard failed == nil, pq.ntuples(result) > 0 else { continue }
                do { try body(cursor) } catch { failed = error }
            } else if status != LibPQ.commandOK, failed == nil {
                failed = failure(result)
            }
        }
        if let failed { throw failed }
    }

    public func columns(of relation: String) throws -> [ColumnInfo]? {
        let r = try query("""
            SELECT a.attname, format_type(a.atttypid, a.atttypmod)
            FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = \(settings.schema) AND c.relname = \(relation) AND a.attnum > 0 AND NOT a.attisdropped
            ORDER BY a.attnum
            """ as SQL)
        if r.rows.isEmpty { return try relationKind(relation) == nil ? nil : [] }
        return r.rows.map { ColumnInfo(name: $0[0].string ?? "", declaredType: PostgresWarehouse.shortTypeName($0[1].string ?? "")) }
    }

    /// `format_type`'s long spellings as nexus's dialect writes them (`timestamp`), so that a
    /// column nexus created reads back with the type it was created with.
    static func shortTypeName(_ name: String) -> String {
        switch name {
        case "timestamp without time zone": return "timestamp"
        case "timestamp with time zone": return "timestamptz"
        default: return name
        }
    }

    public func relationKind(_ name: String) throws -> RelationKind? {
        let r = try query("""
            SELECT c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = \(settings.schema) AND c.relname = \(name) AND c.relkind IN ('r', 'v', 'm', 'p')
            """ as SQL)
        guard let kind = r.rows.first?[0].string else { return nil }
        return kind == "v" ? .view : .table
    }

    public func relations() throws -> [(name: String, kind: RelationKind)] {
        try query("""
            SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = \(settings.schema) AND c.relkind IN ('r', 'v', 'm', 'p') ORDER BY c.relname
            """ as SQL).rows.map { ($0[0].string ?? "", $0[1].string == "v" ? .view : .table) }
    }

    /// PostgreSQL's DDL is transactional: a transaction publishes tables and views at once.
    public func transaction<R>(_ body: () throws -> R) throws -> R {
        try runTransaction(transactionDepth, begin: "BEGIN", body)
    }

    /// `?` placeholders, as on every warehouse, become `$n`.
    public func executeMany(_ sql: String, _ rows: [[SQLValue]]) throws {
        let text = PostgresWarehouse.numberedPlaceholders(sql)
        try transaction {
            for row in rows { pq.clear(try run(text, row)) }
        }
    }

    /// `?` outside strings, quoted names and comments, numbered `$1`, `$2`, … in order.
    static func numberedPlaceholders(_ sql: String) -> String {
        var out = ""
        var n = 0
        for token in SQLLexer.tokens(sql) {
            if token.text == "?" { n += 1; out += "$\(n)" } else { out += token.text }
        }
        return out
    }

    public func nexusOnlyFunctions(calledBy sql: String) -> [String] { [] }

    @discardableResult
    public func createIndex(_ index: IndexSpec, on table: String, name: String) throws -> String {
        // Index names are per schema and at most 63 bytes.
        var chosen = String(name.utf8.prefix(60)) ?? name
        var n = 1
        while try integer("SELECT count(*) FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = \(settings.schema) AND c.relname = \(chosen)" as SQL) > 0 {
            n += 1
            chosen = "\(String(name.utf8.prefix(56)) ?? name)_\(n)"
        }
        try execute(index.createStatement(name: chosen, table: table, dialect: dialect))
        return chosen
    }

    public func indexes(on table: String) throws -> [[String]] {
        try query("""
            SELECT i.relname, a.attname FROM pg_index x
            JOIN pg_class t ON t.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid
            JOIN pg_namespace n ON n.oid = t.relnamespace
            JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, pos) ON true
            JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
            WHERE n.nspname = \(settings.schema) AND t.relname = \(table) ORDER BY i.relname, k.pos
            """ as SQL).rows.reduce(into: [(String, [String])]()) { out, row in
                let index = row[0].string ?? "", column = row[1].string ?? ""
                if out.last?.0 == index { out[out.count - 1].1.append(column) } else { out.append((index, [column])) }
            }.map(\.1)
    }

    public func analyze(_ tables: [String]) throws {
        for t in tables { try execute("ANALYZE \(dialect.quote(t))") }
    }

    /// Renames the table and the indexes named after it (a primary key's index is named
    /// `<table>_pkey` when created, and would keep the staging name otherwise).
    public func renameTable(_ from: String, to: String) throws {
        try execute("ALTER TABLE \(dialect.quote(from)) RENAME TO \(dialect.quote(to))")
        let named = try query("""
            SELECT i.relname FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid
            JOIN pg_namespace n ON n.oid = t.relnamespace
            WHERE n.nspname = \(settings.schema) AND t.relname = \(to) ORDER BY i.relname
            """ as SQL).rows.compactMap { $0.first?.string }
        for index in named where index.hasPrefix(from) {
            let renamed = to + index.dropFirst(from.count)
            if try integer("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = \(settings.schema) AND c.relname = \(renamed)" as SQL) == 0 {
                try execute("ALTER INDEX \(dialect.quote(index)) RENAME TO \(dialect.quote(renamed))")
            }
        }
    }

    /// PostgreSQL's statistics belong to the table, not its name: a rename keeps them.
    public func moveStatistics(_ renames: [(from: String, to: String)]) throws {}

    /// An advisory lock of the server, keyed by database, schema and purpose: every nexus
    /// process on this schema sees it, wherever it runs, and the server frees it when the
    /// session ends (a killed run's connection drops).
    public func lock(_ purpose: WarehouseLock.Purpose, timeout: Double) throws -> WarehouseLock {
        let key = Int64(bitPattern: PostgresWarehouse.lockKey("nexus|\(settings.database)|\(settings.schema)|\(purpose == .sync ? "sync" : "build")"))
        let shared = purpose == .read
        let deadline = Date().addingTimeInterval(max(0, timeout))
        var pause = 0.02
        while true {
            let got = try query(shared ? "SELECT pg_try_advisory_lock_shared(\(key))" as SQL : "SELECT pg_try_advisory_lock(\(key))" as SQL)
            if got.rows.first?.first?.string == "1" { break }
            if Date() >= deadline {
                let holder = try query("""
                    SELECT a.application_name, a.pid, to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')
                    FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                    WHERE l.locktype = 'advisory' AND l.granted AND ((l.classid::bigint << 32) | l.objid::bigint) = \(key)
                    ORDER BY a.backend_start LIMIT 1
                    """ as SQL).rows.first
                let who = holder.map { "\($0[0].string ?? "a nexus process") (server process \($0[1].string ?? "?"), connected \($0[2].string ?? "?") UTC)" } ?? "another nexus process"
                throw NexusError("lock", "warehouse \(settings.label) is busy: \(who) holds it; waited \(WarehouseLock.formatSeconds(timeout)) (warehouse.lock_timeout in nexus.yml sets how long a run waits)")
            }
            usleep(UInt32(pause * 1_000_000))
            pause = min(pause * 2, 0.25)
        }
        return WarehouseLock { [weak self] in
            do {
                _ = try self?.query(shared ? "SELECT pg_advisory_unlock_shared(\(key))" as SQL : "SELECT pg_advisory_unlock(\(key))" as SQL)
            } catch {
                // The session's end frees it anyway (the connection closes with the warehouse).
            }
        }
    }

    /// A stable 64-bit key for an advisory lock (FNV-1a).
    static func lockKey(_ text: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in text.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }

    /// Creates `to_timestamp_ntz` in the warehouse's schema, so that models written for
    /// Snowflake run unchanged (`object_construct` is rewritten by the dialect's `adapt`).
    public func createSnowflakeFunctions() throws {
        for sql in compatibilityStatements() { try execute(sql) }
    }

    public func compatibilityStatements() -> [String] { PostgresSpelling.functions(schema: settings.schema, dialect: dialect) }

    public func installCompatibilityFunctions() throws { try createSnowflakeFunctions() }

    public func withoutStatementTimeout<R>(_ body: () throws -> R) throws -> R {
        guard settings.statementTimeout > 0 else { return try body() }
        try execute("SET statement_timeout = 0")
        defer { try? execute("SET statement_timeout = \(Int(settings.statementTimeout * 1000))") }
        return try body()
    }

    public var location: String { settings.label }
}

/// One row of a PostgreSQL result (text format).
final class PostgresCursor: RowCursor {
    let pq: LibPQ
    let result: OpaquePointer
    var row: Int32 = 0
    let columnCount: Int
    let types: [UInt32]

    init(pq: LibPQ, result: OpaquePointer) {
        self.pq = pq
        self.result = result
        columnCount = Int(pq.nfields(result))
        types = (0..<Int32(columnCount)).map { pq.ftype(result, $0) }
    }

    var names: [String] { (0..<Int32(columnCount)).map { pq.fname(result, $0).map { String(cString: $0) } ?? "" } }

    func isNull(_ i: Int) -> Bool { pq.getisnull(result, row, Int32(i)) == 1 }

    // Type OIDs (pg_type): int8 20, int2 21, int4 23, oid 26, float4 700, float8 701, numeric 1700, bool 16.
    func storage(_ i: Int) -> SQLStorage {
        if isNull(i) { return .null }
        switch types[i] {
        case 20, 21, 23, 26, 16: return .integer
        case 700, 701: return .real
        case 1700: return withBytes(i) { $0.contains(46) || $0.contains(101) || $0.contains(69) } ? .real : .integer
        default: return .text
        }
    }

    func int64(_ i: Int) -> Int64 {
        if types[i] == 16 { return withBytes(i) { $0.first == 49 } ? 1 : 0 }  // withBytes spells it 1 / 0
        return withBytes(i) { Int64(String(decoding: $0, as: UTF8.self)) } ?? Int64(double(i))
    }

    func double(_ i: Int) -> Double { withBytes(i) { Double(String(decoding: $0, as: UTF8.self)) } ?? 0 }

    func withBytes<R>(_ i: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let n = Int(pq.getlength(result, row, Int32(i)))
        guard let p = pq.getvalue(result, row, Int32(i)) else { return try body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        // Booleans read as nexus writes them everywhere: 1 and 0.
        if types[i] == 16, n == 1 {
            var digit: UInt8 = p.pointee == 116 ? 49 : 48
            return try withUnsafeBytes(of: &digit) { try body($0) }
        }
        return try body(UnsafeRawBufferPointer(start: p, count: n))
    }

    func string(_ i: Int) -> String? { isNull(i) ? nil : withBytes(i) { String(decoding: $0, as: UTF8.self) } }

    func value(_ i: Int) -> SQLValue {
        switch storage(i) {
        case .null: return .null
        case .integer: return .integer(int64(i))
        case .real: return .real(double(i))
        case .text: return .text(string(i) ?? "")
        }
    }
}
