import NexusCore
import NexusSQL
import NexusWarehouse

/// An output relation to sync and the kind of calls its rows become.
public struct SyncOutput: Sendable {
    public var name: String
    public var shape: SyncShape
    public var columns: [String]
}

/// What a sync would do: counts per operation and sample calls for each output, computed by
/// comparing the outputs with what Customer.io acknowledged before (`_nexus_customerio_state`).
public struct SyncPlan: Sendable {
    public enum Operation: String, Sendable, CaseIterable { case create, update, unchanged, delete, rejected }

    /// One row's fate.
    public struct Item: Sendable {
        public var key: String
        public var operation: Operation
        public var hash: String
        /// The call as sent (nil for unchanged and rejected rows).
        public var json: String?
        public var error: String?
        /// The call's messageId (when it is sent).
        public var messageID: String? = nil
    }

    public struct Output: Sendable {
        public var name: String
        public var shape: SyncShape
        public var counts: [Operation: Int] = [:]
        /// The first few items of each operation except `unchanged`, in output order.
        public var samples: [Item] = []

        public func count(_ op: Operation) -> Int { counts[op] ?? 0 }
    }

    public var outputs: [Output]

    /// Customer.io's limits for the Pipelines API (customerio.md §2.6).
    public static let maxCallBytes = 32 * 1024
    public static let maxRequestBytes = 500 * 1024
}

/// Sync state and the per-row log, in the warehouse next to the outputs they describe.
///
/// `_nexus_customerio_log` gets a row for every call a run settles (sent, failed, rejected);
/// a `sent` row is an acknowledgement and carries the call's hash and messageId. The log is
/// append-only, so recording each batch's acknowledgements is a small sequential write.
/// `_nexus_customerio_state` (one row per output and key: the hash Customer.io last
/// acknowledged) is brought up to date from the log in one sorted pass at the end of each
/// output. Until then, and after a killed run, the planner reads the state plus the log rows
/// not yet merged, so an acknowledgement counts from the moment its batch is committed.
public struct SyncState {
    public static let stateTable = "_nexus_customerio_state"
    public static let logTable = "_nexus_customerio_log"
    public static let runsTable = "_nexus_customerio_runs"
    public static let metaTable = "_nexus_customerio_meta"
    let warehouse: any Warehouse

    /// - Parameter create: create the tables when missing; false only reads (a dry run
    ///   leaves the warehouse file untouched).
    public init(warehouse: any Warehouse, create: Bool = true) throws {
        self.warehouse = warehouse
        guard create else { return }
        let newLog = try warehouse.relationKind(SyncState.logTable) == nil
        let d = warehouse.dialect
        let text = d.typeName(.text), time = d.typeName(.timestamp), int = d.typeName(.integer)
        func table(_ name: String, _ columns: String, options: String = "") throws {
            try warehouse.execute("CREATE TABLE IF NOT EXISTS \(d.quote(name)) (\(columns))\(options)")
        }
        try table(SyncState.stateTable, """
            output \(text) NOT NULL, key \(text) NOT NULL, hash \(text) NOT NULL, message_id \(text) NOT NULL,
            synced_at \(time) NOT NULL, PRIMARY KEY (output, key)
            """, options: d.keyedTableOptions)
        try table(SyncState.logTable, """
            \(d.identityColumn("log_id")), run_id \(text) NOT NULL, output \(text) NOT NULL, key \(text) NOT NULL,
            operation \(text) NOT NULL, status \(text) NOT NULL, http_code \(int), error \(text), "at" \(time) NOT NULL,
            hash \(text), message_id \(text)
            """)
        try table(SyncState.runsTable, """
            run_id \(text) NOT NULL, finished_at \(time) NOT NULL, sent \(int), deleted \(int), unchanged \(int), failed \(int),
            skipped \(int), bytes \(int), requests \(int), seconds \(d.typeName(.real)), stopped_at \(text)
            """)
        try table(SyncState.metaTable, "name \(text) PRIMARY KEY, value \(int) NOT NULL")
        // log_id never repeats (an identity column), even after old log rows are deleted; a log
        // table created anew starts again at 1, so the merge mark goes with the old one.
        if newLog { try warehouse.execute("DELETE FROM \(d.quote(SyncState.metaTable)) WHERE name = 'merged_log_id'") }
    }

    /// The last log row already merged into the state table.
    func mergedUpTo() throws -> Int64 {
        guard try warehouse.relationKind(SyncState.metaTable) != nil else { return 0 }
        let r = try warehouse.query("SELECT value FROM \(warehouse.dialect.quote(SyncState.metaTable)) WHERE name = 'merged_log_id'")
        if case .integer(let v)? = r.rows.first?.first { return v }
        return 0
    }

    /// What Customer.io acknowledged for an output, as a compact table of key and content hashes.
    func acknowledged(_ output: String) throws -> AckTable {
        var table = AckTable()
        guard try warehouse.relationKind(SyncState.stateTable) != nil else { return table }
        try warehouse.stream("SELECT key, hash FROM \(id: SyncState.stateTable) WHERE output = \(output)" as SQL) { row in
            table.acknowledge(AckTable.keyHash(row.string(0) ?? ""), AckTable.contentHash(row.string(1) ?? ""))
        }
        try warehouse.stream("""
            SELECT key, hash, operation FROM \(id: SyncState.logTable)
            WHERE log_id > \(try mergedUpTo()) AND output = \(output) AND status = 'sent' ORDER BY log_id
            """ as SQL) { row in
            let key = AckTable.keyHash(row.string(0) ?? "")
            if row.string(2) == SyncPlan.Operation.delete.rawValue { table.forget(key) }
            else { table.acknowledge(key, AckTable.contentHash(row.string(1) ?? "")) }
        }
        return table
    }

    /// Brings the state table up to date with the acknowledgements logged since the last merge:
    /// one sorted upsert (the latest acknowledgement of a key wins), then the deletions that
    /// no later acknowledgement of the same key undid.
    public func merge() throws {
        // The sort spills to disk instead of memory, so a merge of tens of millions of
        // acknowledgements needs no more memory than one of thousands.
        try warehouse.withSortsOnDisk { try mergeLog() }
    }

    private func mergeLog() throws {
        try warehouse.transaction {
            let from = try mergedUpTo()
            let r = try warehouse.query("SELECT max(log_id) FROM \(warehouse.dialect.quote(SyncState.logTable))")
            let to: Int64
            switch r.rows.first?.first {
            case .integer(let v)?: to = v
            case .text(let t)?: to = Int64(t) ?? 0
            default: to = 0
            }
            guard to > from else { return }
            let log = SyncState.logTable, state = SyncState.stateTable
            // Only each key's latest acknowledgement: one upsert may touch a key once
            // (PostgreSQL refuses a second), and the latest is the one that counts.
            let d = warehouse.dialect
            try warehouse.execute(SQL(stringLiteral: d.upsert(into: state, columns: ["output", "key", "hash", "message_id", "synced_at"], keys: ["output", "key"], select: """
                SELECT output, key, hash, message_id, "at" AS synced_at FROM \(d.quote(log))
                WHERE log_id IN (SELECT max(log_id) FROM \(d.quote(log))
                                 WHERE log_id > \(from) AND log_id <= \(to) AND status = 'sent' AND operation <> 'delete'
                                 GROUP BY output, key)
                ORDER BY output, key
                """)))
            try warehouse.execute("""
                DELETE FROM \(id: state) WHERE EXISTS (
                    SELECT 1 FROM \(id: log) l
                    WHERE l.output = \(id: state).output AND l.key = \(id: state).key
                      AND l.log_id > \(from) AND l.log_id <= \(to) AND l.status = 'sent' AND l.operation = 'delete'
                      AND NOT EXISTS (SELECT 1 FROM \(id: log) k WHERE k.log_id > l.log_id AND k.log_id <= \(to) AND k.output = l.output
                                      AND k.key = l.key AND k.status = 'sent' AND k.operation <> 'delete'))
                """ as SQL)
            try warehouse.executeMany(d.upsert(into: SyncState.metaTable, columns: ["name", "value"], key: "name", placeholders: [d.placeholder(1), d.placeholder(2)]),
                                      [[.text("merged_log_id"), .integer(to)]])
        }
    }
}

/// Acknowledged content by key, in 64-bit hashes: about 20 bytes a key, so the state of
/// millions of rows fits in memory while an output streams past. A key-hash collision (odds
/// of about 10⁻⁶ at ten million keys) can only make a row look changed, so it is resent.
struct AckTable {
    private var keys: [UInt64]
    private var values: [UInt64]
    /// Bit 0: acknowledged; bit 1: seen in this run's output.
    private var flags: [UInt8]
    private var mask: Int
    private var count = 0

    init() {
        keys = [UInt64](repeating: 0, count: 1024)
        values = keys
        flags = [UInt8](repeating: 0, count: 1024)
        mask = 1023
    }

    /// Keys hash with a per-process seed: the table lives only for one run.
    static func keyHash(_ key: String) -> UInt64 {
        let h = UInt64(bitPattern: Int64(key.hashValue))
        return h == 0 ? 1 : h
    }

    /// The first 64 bits of an md5 hex digest.
    static func contentHash(_ hex: String) -> UInt64 {
        var v: UInt64 = 0
        for c in hex.utf8.prefix(16) {
            let d: UInt8 = c >= 97 ? c - 87 : c - 48
            v = v << 4 | UInt64(d & 15)
        }
        return v
    }

    private func find(_ key: UInt64) -> Int {
        var i = Int(truncatingIfNeeded: key) & mask  // keys are already well-mixed hashes
        while keys[i] != 0 && keys[i] != key { i = (i + 1) & mask }
        return i
    }

    private mutating func slot(_ key: UInt64) -> Int {
        var i = find(key)
        if keys[i] == 0 {
            keys[i] = key
            count += 1
            if count * 2 > keys.count { grow(); i = find(key) }
        }
        return i
    }

    private mutating func grow() {
        let oldKeys = keys, oldValues = values, oldFlags = flags
        keys = [UInt64](repeating: 0, count: oldKeys.count * 2)
        values = keys
        flags = [UInt8](repeating: 0, count: keys.count)
        mask = keys.count - 1
        for j in 0..<oldKeys.count where oldKeys[j] != 0 {
            let i = find(oldKeys[j])
            keys[i] = oldKeys[j]; values[i] = oldValues[j]; flags[i] = oldFlags[j]
        }
    }

    mutating func acknowledge(_ key: UInt64, _ content: UInt64) {
        let i = slot(key)
        values[i] = content
        flags[i] |= 1
    }

    mutating func forget(_ key: UInt64) {
        let i = find(key)
        if keys[i] != 0 { flags[i] &= ~1 }
    }

    /// The acknowledged content of a key, or nil.
    func acknowledged(_ key: UInt64) -> UInt64? {
        let i = find(key)
        return keys[i] != 0 && flags[i] & 1 != 0 ? values[i] : nil
    }

    /// Marks a key seen; false when it was already seen in this run.
    mutating func see(_ key: UInt64) -> Bool {
        let i = slot(key)
        if flags[i] & 2 != 0 { return false }
        flags[i] |= 2
        return true
    }

    func seen(_ key: UInt64) -> Bool {
        let i = find(key)
        return keys[i] != 0 && flags[i] & 2 != 0
    }
}

/// Compares outputs with what Customer.io acknowledged, row by row, streaming: outputs of
/// millions of rows are planned in constant memory apart from the key table.
public struct SyncPlanner {
    public enum Mode: String, Sendable, CaseIterable { case upsert, mirror }

    let warehouse: any Warehouse

    public init(warehouse: any Warehouse) { self.warehouse = warehouse }

    /// The outputs to sync, in Customer.io's order: persons, objects, relationships, events
    /// (ties by name).
    public func outputs(_ names: [String], shapes only: Set<SyncShape>? = nil) throws -> [SyncOutput] {
        var found: [SyncOutput] = []
        for name in names {
            guard let cols = try warehouse.columns(of: name)?.map(\.name) else {
                throw NexusError("sync", "output '\(name)' does not exist in the warehouse: run `nexus run` first")
            }
            guard let shape = SyncShape(columns: cols) else {
                throw NexusError("sync", "output '\(name)' is not shaped for Customer.io (it needs userId/anonymousId, event, or groupId + objectTypeId); it has: \(cols.joined(separator: ", "))")
            }
            if let only, !only.contains(shape) { continue }
            found.append(SyncOutput(name: name, shape: shape, columns: cols))
        }
        return found.sorted { ($0.shape.order, $0.name) < ($1.shape.order, $1.name) }
    }

    /// Streams the fate of every row of `output` through `each`, in output order, then the
    /// deletions (`mirror` mode, objects and relationships only: people are never deleted).
    ///
    /// Rows with the same key: the first wins and the others are rejected (events: identical
    /// events are one event). `full` resends every row as if nothing had been acknowledged.
    public func scan(_ output: SyncOutput, full: Bool, mode: Mode, _ each: (SyncPlan.Item) throws -> Void) throws {
        let state = try SyncState(warehouse: warehouse, create: false)
        var acked = try state.acknowledged(output.name)
        let builder = SyncPayload.Builder(shape: output.shape, columns: output.columns)
        var n = 0
        try warehouse.stream("SELECT * FROM \(warehouse.dialect.quote(output.name))") { row in
            n += 1
            let payload: SyncPayload
            do { payload = try builder.make(row) } catch let e as NexusError {
                try each(.init(key: "row \(n)", operation: .rejected, hash: "", json: nil, error: e.message))
                return
            }
            let key = AckTable.keyHash(payload.key)
            guard acked.see(key) else {
                if output.shape != .track {
                    try each(.init(key: payload.key, operation: .rejected, hash: payload.hash, json: nil, error: "row \(n) repeats the key of an earlier row"))
                }
                return
            }
            if payload.callBytes > SyncPlan.maxCallBytes {
                try each(.init(key: payload.key, operation: .rejected, hash: payload.hash, json: nil,
                               error: "the call is \(payload.callBytes) bytes; Customer.io takes at most \(SyncPlan.maxCallBytes)"))
                return
            }
            let op: SyncPlan.Operation
            switch acked.acknowledged(key) {
            case nil: op = .create
            case payload.hashPrefix? where !full: op = .unchanged
            default: op = .update
            }
            if op == .unchanged {
                try each(.init(key: payload.key, operation: op, hash: payload.hash, json: nil, error: nil))
            } else {
                let message = payload.messageID(output: output.name)
                try each(.init(key: payload.key, operation: op, hash: payload.hash, json: payload.json(messageID: message), error: nil, messageID: message))
            }
        }
        if mode == .mirror, output.shape == .objects || output.shape == .relationships, try warehouse.relationKind(SyncState.stateTable) != nil {
            var gone: [String] = []
            try warehouse.stream("SELECT key FROM \(id: SyncState.stateTable) WHERE output = \(output.name) ORDER BY key" as SQL) { row in
                let key = row.string(0) ?? ""
                if !acked.seen(AckTable.keyHash(key)) { gone.append(key) }
            }
            for key in gone {
                try each(.init(key: key, operation: .delete, hash: "", json: SyncPlanner.deletion(shape: output.shape, key: key, output: output.name), error: nil,
                               messageID: SyncPlanner.deletionMessageID(output: output.name, key: key)))
            }
        }
    }

    /// The plan for a dry run: counts per operation and up to `samples` calls of each.
    public func plan(outputs names: [String], shapes only: Set<SyncShape>? = nil, full: Bool, mode: Mode, samples: Int = 3) throws -> SyncPlan {
        var planned: [SyncPlan.Output] = []
        for output in try outputs(names, shapes: only) {
            var o = SyncPlan.Output(name: output.name, shape: output.shape)
            try scan(output, full: full, mode: mode) { item in
                let n = (o.counts[item.operation] ?? 0) + 1
                o.counts[item.operation] = n
                if item.operation != .unchanged && n <= samples { o.samples.append(item) }
            }
            planned.append(o)
        }
        return SyncPlan(outputs: planned)
    }

    static func deletionMessageID(output: String, key: String) -> String { "nx-del-" + NexusID.md5Hex("\(output)|\(key)") }

    /// `Object Deleted` / `Relationship Deleted` semantic events for a key that left the output.
    static func deletion(shape: SyncShape, key: String, output: String) -> String {
        let parts = key.split(separator: "/", maxSplits: 2).map(String.init)
        let type = parts[0], object = parts.count > 1 ? parts[1] : ""
        let typeJSON = Int(type).map(String.init) ?? JSONText.string(type)
        let properties = "\"properties\":{\"objectId\":\(JSONText.string(object)),\"objectTypeId\":\(typeJSON)}"
        let messageID = JSONText.string(deletionMessageID(output: output, key: key))
        if shape == .relationships, parts.count > 2 {
            return "{\"type\":\"track\",\"event\":\"Relationship Deleted\",\"userId\":\(JSONText.string(parts[2])),\(properties),\"context\":\(SyncPayload.context),\"messageId\":\(messageID)}"
        }
        return "{\"type\":\"track\",\"event\":\"Object Deleted\",\"anonymousId\":\"nexus\",\(properties),\"context\":\(SyncPayload.context),\"messageId\":\(messageID)}"
    }
}
