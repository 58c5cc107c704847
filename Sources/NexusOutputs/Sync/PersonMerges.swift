import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import NexusCore
import NexusWarehouse

/// People that incremental resolution found to be one, merged in Customer.io before a sync
/// sends their new attributes: the Track API's `POST /api/v1/merge_customers` (the Pipelines
/// API has no merge).
///
/// Which profiles: a sync knows Customer.io's people by the `userId`s it sent (the persons
/// outputs' keys in `_nexus_customerio_state`). For every person entity that
/// `nexus_resolution_log` shows absorbing another since the last merge pass, the synced
/// userIds that are identifiers of that entity (compared trimmed and lower-cased) are the
/// profiles Customer.io holds for it. With two or more, the one the persons outputs send now
/// is the primary and each other is merged into it; with one or none there is nothing to
/// merge (a loser never synced needs no merge). Customer.io deletes the secondary profile,
/// so its key leaves the sync state (mirror mode must not delete it again).
public struct PersonMerges {
    public struct Merge: Sendable, Equatable {
        public var primary: String
        public var secondary: String
        /// The nexus entity both are now.
        public var entity: String
        /// The sync log's key for this merge.
        public var key: String { secondary + " → " + primary }
    }

    public static let output = "_merge"
    /// How the sync state keys a person sent with a userId.
    static let userKey = "user:"
    static let cursorState = "customerio_merge_cursor"
    static let log = "nexus_resolution_log"
    static let mapping = "nexus_resolved_person_identifiers"

    let warehouse: any Warehouse
    public init(warehouse: any Warehouse) { self.warehouse = warehouse }

    /// The merges due for `personOutputs` (the Identify-shaped outputs synced), and the log's
    /// last run they cover.
    public func pending(personOutputs: [String]) throws -> (merges: [Merge], throughRun: String?) {
        guard !personOutputs.isEmpty, try warehouse.relationKind(PersonMerges.log) != nil,
              try warehouse.relationKind(PersonMerges.mapping) != nil else { return ([], nil) }
        let cursor = try warehouse.readState(PersonMerges.cursorState) ?? ""
        // Entities that absorbed another since the last pass (by their identifiers' entity now).
        var touched = Set<String>()
        var through: String?
        try warehouse.stream("""
            SELECT DISTINCT m.person_id, l.run_id FROM \(id: PersonMerges.log) l
            JOIN \(id: PersonMerges.mapping) m ON m.identifier_type = l.identifier_type AND m.identifier_value = l.identifier_value
            WHERE l.entity_type = 'person' AND l.resolution_reason = 'repointed' AND l.run_id > \(cursor)
            """ as SQL) { row in
            if let e = row.string(0) { touched.insert(e) }
            if let r = row.string(1), r > (through ?? "") { through = r }
        }
        guard !touched.isEmpty, try warehouse.relationKind(SyncState.stateTable) != nil,
              try warehouse.relationKind(SyncState.logTable) != nil else { return ([], through) }
        // Their identifiers' values, normalised.
        var entityOf: [String: String] = [:]
        let entities = touched.sorted()
        for start in stride(from: 0, to: entities.count, by: 500) {
            let chunk = entities[start..<min(start + 500, entities.count)]
            let list = chunk.map { warehouse.dialect.literal($0) }.joined(separator: ", ")
            try warehouse.stream("SELECT person_id, identifier_value FROM \(warehouse.dialect.quote(PersonMerges.mapping)) WHERE person_id IN (\(list))", header: { _ in }) { row in
                if let e = row.string(0), let v = row.string(1) { entityOf[PersonMerges.normal(v)] = e }
            }
        }
        // The synced userIds among them, per entity.
        var synced: [String: Set<String>] = [:]
        let outputs = personOutputs.map { warehouse.dialect.literal($0) }.joined(separator: ", ")
        try warehouse.stream("""
            SELECT key FROM \(warehouse.dialect.quote(SyncState.stateTable)) WHERE output IN (\(outputs))
            UNION SELECT key FROM \(warehouse.dialect.quote(SyncState.logTable)) WHERE output IN (\(outputs)) AND status = 'sent' AND operation <> 'delete'
            """, header: { _ in }) { row in
            // Identify keys are `user:<userId>` (or `anon:<anonymousId>`, a profile a merge cannot name by id).
            if let k = row.string(0), k.hasPrefix(PersonMerges.userKey) {
                let user = String(k.dropFirst(PersonMerges.userKey.count))
                if let e = entityOf[PersonMerges.normal(user)] { synced[e, default: []].insert(user) }
            }
        }
        let done = try sentKeys()
        var merges: [Merge] = []
        for (entity, keys) in synced.sorted(by: { $0.key < $1.key }) where keys.count > 1 {
            guard let primary = try currentKey(among: keys.sorted(), outputs: personOutputs) else { continue }
            for secondary in keys.sorted() where secondary != primary {
                let m = Merge(primary: primary, secondary: secondary, entity: entity)
                if !done.contains(m.key) { merges.append(m) }
            }
        }
        return (merges, through)
    }

    /// Lower-cased and trimmed: how Customer.io compares email identifiers.
    static func normal(_ s: String) -> String { s.trimmingCharacters(in: .whitespacesAndNewlines).lowercased() }

    /// Merges already acknowledged.
    func sentKeys() throws -> Set<String> {
        var keys = Set<String>()
        guard try warehouse.relationKind(SyncState.logTable) != nil else { return keys }
        try warehouse.stream("SELECT key FROM \(id: SyncState.logTable) WHERE output = \(PersonMerges.output) AND status = 'sent'" as SQL) { row in
            if let k = row.string(0) { keys.insert(k) }
        }
        return keys
    }

    /// The key among `keys` that a persons output sends now (the smallest if several).
    func currentKey(among keys: [String], outputs: [String]) throws -> String? {
        let list = keys.map { warehouse.dialect.literal($0) }.joined(separator: ", ")
        var found: [String] = []
        for o in outputs {
            let r = try warehouse.query("SELECT \(warehouse.dialect.quote("userId")) FROM \(warehouse.dialect.quote(o)) WHERE \(warehouse.dialect.quote("userId")) IN (\(list))")
            found += r.rows.compactMap { $0.first?.string }
        }
        return found.min()
    }

    /// After a pass in which every merge was acknowledged: later passes start after `run`.
    public func advance(through run: String?) throws {
        guard let run else { return }
        try warehouse.writeState(PersonMerges.cursorState, run)
    }
}

extension SyncSender {
    /// Where and as whom to reach the Track API.
    public struct TrackSettings: Sendable {
        public var baseURL: String
        public var siteID: String
        public var apiKey: String
        public init(baseURL: String, siteID: String, apiKey: String) {
            self.baseURL = baseURL
            self.siteID = siteID.trimmingCharacters(in: .whitespacesAndNewlines)
            self.apiKey = apiKey.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        var authorization: String { "Basic " + Data("\(siteID):\(apiKey)".utf8).base64EncodedString() }
    }

    /// Sends `merges` one by one, each logged like any other call; an acknowledged merge's
    /// secondary leaves the sync state of `personOutputs`. Returns how many failed.
    public func sendMerges(_ merges: [PersonMerges.Merge], track: TrackSettings, personOutputs: [String]) throws -> Int {
        guard !merges.isEmpty else { return 0 }
        guard let url = URL(string: track.baseURL + "/api/v1/merge_customers") else {
            throw NexusError("sync", "customerio.track_endpoint is not a URL: \(track.baseURL)")
        }
        // Every acknowledgement folded into the state first: a secondary's key removed below
        // must not come back from an older log row.
        try SyncState(warehouse: warehouse).merge()
        var failed = 0
        for m in merges {
            let body = String(decoding: try JSONSerialization.data(withJSONObject: ["primary": ["id": m.primary], "secondary": ["id": m.secondary]], options: [.sortedKeys]), as: UTF8.self)
            var request = URLRequest(url: url)
            request.httpMethod = "POST"
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.setValue(track.authorization, forHTTPHeaderField: "Authorization")
            let (code, text) = try post(request)
            summary.requests += 1
            if code == 401 || code == 403 {
                throw NexusError("sync", "Customer.io's Track API refused the site id and key (HTTP \(code)) for the merge of \(m.key): check the variables customerio.site_id_env and customerio.track_api_key_env name; nothing else was sent")
            }
            func record(_ status: String, _ error: String?) throws {
                let sent = status == "sent"
                try writeLog([[.text(runID), .text(PersonMerges.output), .text(m.key), .text("merge"), .text(status), .integer(Int64(code)),
                               error.map { .text($0) } ?? .null, .text(Timestamp.format(Timestamp.now())),
                               sent ? .text(NexusID.md5Hex(body)) : .null, sent ? .text("nx-merge-" + NexusID.md5Hex(m.key)) : .null]])
            }
            if code == 200 {
                try warehouse.transaction {
                    try record("sent", nil)
                    for o in personOutputs {
                        try warehouse.execute("DELETE FROM \(id: SyncState.stateTable) WHERE output = \(o) AND key = \(PersonMerges.userKey + m.secondary)" as SQL)
                    }
                }
                summary.merged += 1
            } else {
                try record("failed", String(text.prefix(500)))
                summary.failed += 1
                failed += 1
            }
        }
        return failed
    }
}
