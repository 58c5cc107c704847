import NexusCore
import NexusWarehouse

/// One output row as a Customer.io Data Pipelines call (`identify`, `track` or `group`).
///
/// Values: `timestamp` as ISO-8601 UTC with milliseconds; other timestamp values (also inside
/// `relationshipAttributes`) as Unix seconds, since Customer.io's segments compare only
/// those; JSON columns embedded as JSON; NULL attributes sent as `null` (which removes a
/// stale attribute in Customer.io). The key identifies the row across runs; the hash is of
/// the call's content, so a changed row is resent and an unchanged one is not.
public struct SyncPayload: Sendable {
    public var key: String
    public var hash: String
    /// The call without `messageId`, as JSON object members (`"type":"identify",…`).
    public var body: String

    /// The call as sent: a stable `messageId` per row version, so repeats are recognisable.
    public func json(output: String) -> String {
        "{\(body),\"messageId\":\(JSONText.string(messageID(output: output)))}"
    }

    public func messageID(output: String) -> String {
        "nx-" + NexusID.md5Hex("\(output)|\(key)|\(hash)")
    }

    /// Builds the call for one row of an output of `shape`; nil key fields make an invalid row.
    public static func make(shape: SyncShape, columns: [String], row: [SQLValue]) throws -> SyncPayload {
        var fields: [String: SQLValue] = [:]
        for (c, v) in zip(columns, row) { fields[c] = v }
        func text(_ name: String) -> String? { fields[name].flatMap { $0.isNull ? nil : $0.description } }
        let special: Set<String>
        var members: [String] = []
        var key: String
        switch shape {
        case .identify:
            special = ["userId", "anonymousId", "timestamp"]
            let user = text("userId"), anon = text("anonymousId")
            guard user != nil || anon != nil else { throw NexusError("sync", "row has neither userId nor anonymousId") }
            members.append("\"type\":\"identify\"")
            if let user { members.append("\"userId\":\(JSONText.string(user))") }
            if let anon { members.append("\"anonymousId\":\(JSONText.string(anon))") }
            key = user.map { "user:" + $0 } ?? "anon:" + anon!
        case .track:
            special = ["userId", "anonymousId", "timestamp", "event"]
            let user = text("userId"), anon = text("anonymousId")
            guard user != nil || anon != nil else { throw NexusError("sync", "row has neither userId nor anonymousId") }
            guard let event = text("event") else { throw NexusError("sync", "row has no event name") }
            members.append("\"type\":\"track\"")
            if let user { members.append("\"userId\":\(JSONText.string(user))") }
            if let anon { members.append("\"anonymousId\":\(JSONText.string(anon))") }
            members.append("\"event\":\(JSONText.string(event))")
            key = ""
        case .objects, .relationships:
            special = ["groupId", "objectTypeId", "userId", "timestamp", "relationshipAttributes"]
            guard let group = text("groupId") else { throw NexusError("sync", "row has no groupId") }
            guard let type = text("objectTypeId") else { throw NexusError("sync", "row has no objectTypeId") }
            members.append("\"type\":\"group\"")
            members.append("\"groupId\":\(JSONText.string(group))")
            key = "\(type)/\(group)"
            if shape == .relationships {
                guard let user = text("userId") else { throw NexusError("sync", "row has no userId") }
                members.append("\"userId\":\(JSONText.string(user))")
                key += "/" + user
            }
        }
        // Attributes: every other column, in column order.
        var attributes: [String] = []
        if shape == .objects || shape == .relationships {
            attributes.append("\"objectTypeId\":\(JSONText.string(text("objectTypeId")!))")
            if shape == .relationships, let rel = text("relationshipAttributes") {
                attributes.append("\"relationshipAttributes\":\(SyncPayload.datesToSeconds(json: rel))")
            }
        }
        for c in columns where !special.contains(c) {
            attributes.append("\(JSONText.string(c)):\(SyncPayload.value(fields[c] ?? .null))")
        }
        let bag = shape == .track ? "properties" : "traits"
        members.append("\"\(bag)\":{\(attributes.joined(separator: ","))}")
        if let ts = text("timestamp"), let micros = Timestamp.parse(ts) {
            members.append("\"timestamp\":\(JSONText.string(Timestamp.formatISO(micros)))")
        }
        let body = members.joined(separator: ",")
        let hash = NexusID.md5Hex(body)
        if shape == .track { key = "event:" + hash }
        return SyncPayload(key: key, hash: hash, body: body)
    }

    /// A value as JSON: numbers as numbers, timestamps as Unix seconds, JSON text as JSON.
    static func value(_ v: SQLValue) -> String {
        switch v {
        case .null: return "null"
        case .integer(let i): return String(i)
        case .real(let d): return d.isFinite ? String(d) : "null"
        case .text(let s):
            if let secs = timestampSeconds(s) { return String(secs) }
            if let f = s.first, f == "{" || f == "[", isJSON(s) { return datesToSeconds(json: s) }
            return JSONText.string(s)
        }
    }

    /// Unix seconds of a string in nexus's canonical timestamp forms (`YYYY-MM-DD HH:MM:SS[.f…]`).
    static func timestampSeconds(_ s: String) -> Int64? {
        guard let micros = Timestamp.parseCanonical(s) else { return nil }
        return micros >= 0 ? micros / 1_000_000 : (micros - 999_999) / 1_000_000
    }

    static func isJSON(_ s: String) -> Bool {
        (try? JSONValue.parse(s)) != nil
    }

    /// Rewrites timestamp strings among a JSON object's values to Unix seconds.
    static func datesToSeconds(json: String) -> String {
        guard case .object(let members)? = try? JSONValue.parse(json) else { return json }
        return "{" + members.map { k, v in
            let value: String
            if case .string(let s) = v, let secs = timestampSeconds(s) { value = String(secs) } else { value = v.serialized }
            return "\(JSONText.string(k)):\(value)"
        }.joined(separator: ",") + "}"
    }
}
