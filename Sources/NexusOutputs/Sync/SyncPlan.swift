import NexusCore
import NexusSQL
import NexusWarehouse

/// What a sync would do, row by row, computed by comparing the outputs with what Customer.io
/// acknowledged before (kept in the warehouse, in `_nexus_customerio_state`).
public struct SyncPlan: Sendable {
    public enum Operation: String, Sendable, CaseIterable { case create, update, unchanged, delete, rejected }

    public struct Item: Sendable {
        public var key: String
        public var operation: Operation
        public var hash: String
        /// The call as sent (nil for unchanged rows).
        public var json: String?
        public var error: String?
    }

    public struct Output: Sendable {
        public var name: String
        public var shape: SyncShape
        public var items: [Item]

        public func count(_ op: Operation) -> Int { items.filter { $0.operation == op }.count }
        public var toSend: [Item] { items.filter { $0.json != nil && $0.operation != .unchanged && $0.operation != .rejected } }
    }

    public var outputs: [Output]

    /// Customer.io's limits for the Pipelines API (customerio.md §2.6).
    public static let maxCallBytes = 32 * 1024
    public static let maxRequestBytes = 500 * 1024
}

/// Sync state and the per-row log, in the warehouse next to the outputs they describe.
public struct SyncState {
    public static let stateTable = "_nexus_customerio_state"
    public static let logTable = "_nexus_customerio_log"
    public static let runsTable = "_nexus_customerio_runs"
    let warehouse: any Warehouse

    public init(warehouse: any Warehouse) throws {
        self.warehouse = warehouse
        try warehouse.execute("""
            CREATE TABLE IF NOT EXISTS \(SyncState.stateTable) (output TEXT NOT NULL, key TEXT NOT NULL, hash TEXT NOT NULL,
                message_id TEXT NOT NULL, synced_at TIMESTAMP NOT NULL, PRIMARY KEY (output, key));
            CREATE TABLE IF NOT EXISTS \(SyncState.logTable) (run_id TEXT NOT NULL, output TEXT NOT NULL, key TEXT NOT NULL,
                operation TEXT NOT NULL, status TEXT NOT NULL, http_code INTEGER, error TEXT, at TIMESTAMP NOT NULL);
            CREATE TABLE IF NOT EXISTS \(SyncState.runsTable) (run_id TEXT NOT NULL, finished_at TIMESTAMP NOT NULL,
                sent INTEGER, deleted INTEGER, unchanged INTEGER, failed INTEGER, skipped INTEGER, bytes INTEGER,
                requests INTEGER, seconds REAL, stopped_at TEXT);
            """)
    }

    /// Acknowledged hashes of an output, by key.
    public func acknowledged(_ output: String) throws -> [String: String] {
        let d = warehouse.dialect
        var out: [String: String] = [:]
        try warehouse.stream("SELECT key, hash FROM \(SyncState.stateTable) WHERE output = \(d.literal(output))") { row in
            out[row.string(0) ?? ""] = row.string(1) ?? ""
        }
        return out
    }
}

/// Builds a `SyncPlan` for outputs in Customer.io's order: persons, objects, relationships, events.
public struct SyncPlanner {
    public enum Mode: String, Sendable, CaseIterable { case upsert, mirror }

    let warehouse: any Warehouse

    public init(warehouse: any Warehouse) { self.warehouse = warehouse }

    /// - Parameters:
    ///   - outputs: model names (each must be shaped for Customer.io).
    ///   - full: resend every row, as if nothing had been acknowledged.
    ///   - mode: `mirror` also deletes objects and relationships whose keys left the output
    ///     (people are never deleted).
    public func plan(outputs: [String], shapes only: Set<SyncShape>? = nil, full: Bool, mode: Mode) throws -> SyncPlan {
        let state = try SyncState(warehouse: warehouse)
        var planned: [SyncPlan.Output] = []
        for name in outputs {
            guard let cols = try warehouse.columns(of: name)?.map(\.name) else {
                throw NexusError("sync", "output '\(name)' does not exist in the warehouse: run `nexus run` first")
            }
            guard let shape = SyncShape(columns: cols) else {
                throw NexusError("sync", "output '\(name)' is not shaped for Customer.io (it needs userId/anonymousId, event, or groupId + objectTypeId); it has: \(cols.joined(separator: ", "))")
            }
            if let only, !only.contains(shape) { continue }
            let acked = full ? [:] : try state.acknowledged(name)
            var items: [SyncPlan.Item] = []
            var seen: Set<String> = []
            let result = try warehouse.query("SELECT * FROM \(warehouse.dialect.quote(name))")
            for (n, row) in result.rows.enumerated() {
                let payload: SyncPayload
                do { payload = try SyncPayload.make(shape: shape, columns: result.columns, row: row) } catch let e as NexusError {
                    items.append(.init(key: "row \(n + 1)", operation: .rejected, hash: "", json: nil, error: e.message))
                    continue
                }
                guard seen.insert(payload.key).inserted else {
                    if shape != .track {
                        items.append(.init(key: payload.key, operation: .rejected, hash: payload.hash, json: nil, error: "a second row with the same key"))
                    }
                    continue
                }
                let json = payload.json(output: name)
                if json.utf8.count > SyncPlan.maxCallBytes {
                    items.append(.init(key: payload.key, operation: .rejected, hash: payload.hash, json: nil,
                                       error: "the call is \(json.utf8.count) bytes; Customer.io takes at most \(SyncPlan.maxCallBytes)"))
                    continue
                }
                switch acked[payload.key] {
                case nil: items.append(.init(key: payload.key, operation: .create, hash: payload.hash, json: json, error: nil))
                case payload.hash?: items.append(.init(key: payload.key, operation: .unchanged, hash: payload.hash, json: nil, error: nil))
                default: items.append(.init(key: payload.key, operation: .update, hash: payload.hash, json: json, error: nil))
                }
            }
            if mode == .mirror, shape == .objects || shape == .relationships {
                for key in try state.acknowledged(name).keys.sorted() where !seen.contains(key) {
                    items.append(.init(key: key, operation: .delete, hash: "", json: SyncPlanner.deletion(shape: shape, key: key, output: name), error: nil))
                }
            }
            planned.append(.init(name: name, shape: shape, items: items))
        }
        planned.sort { ($0.shape.order, $0.name) < ($1.shape.order, $1.name) }
        return SyncPlan(outputs: planned)
    }

    /// `Object Deleted` / `Relationship Deleted` semantic events for a key that left the output.
    static func deletion(shape: SyncShape, key: String, output: String) -> String {
        let parts = key.split(separator: "/", maxSplits: 2).map(String.init)
        let type = parts[0], object = parts.count > 1 ? parts[1] : ""
        let typeJSON = Int(type).map(String.init) ?? JSONText.string(type)
        let properties = "\"properties\":{\"objectId\":\(JSONText.string(object)),\"objectTypeId\":\(typeJSON)}"
        let messageID = JSONText.string("nx-del-" + NexusID.md5Hex("\(output)|\(key)"))
        if shape == .relationships, parts.count > 2 {
            return "{\"type\":\"track\",\"event\":\"Relationship Deleted\",\"userId\":\(JSONText.string(parts[2])),\(properties),\"messageId\":\(messageID)}"
        }
        return "{\"type\":\"track\",\"event\":\"Object Deleted\",\"anonymousId\":\"nexus\",\(properties),\"messageId\":\(messageID)}"
    }
}
