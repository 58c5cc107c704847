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
    /// The first 64 bits of `hash`, for the planner's key table.
    var hashPrefix: UInt64 = 0

    /// The call as sent: a stable `messageId` per row version, so repeats are recognisable.
    /// The call as sent, with its messageId (`messageID(output:)`).
    func json(messageID: String) -> String {
        "{\(body),\"context\":\(SyncPayload.context),\"messageId\":\"\(messageID)\"}"
    }

    /// `context.library`, as the official SDK sets it, naming nexus as the sender.
    static let context = "{\"library\":{\"name\":\"nexus\",\"version\":\"\(SyncPayload.libraryVersion)\"}}"
    public static let libraryVersion = "0.4.0"

    public func messageID(output: String) -> String {
        "nx-" + NexusID.md5Hex("\(output)|\(key)|\(hash)")
    }

    /// Bytes of `json(messageID:)`: the body, braces, `,"context":{…}` and `,"messageId":"nx-<32 hex>"`.
    public var callBytes: Int { body.utf8.count + 52 + 11 + SyncPayload.context.utf8.count }

    /// Builds the calls for the rows of one output: the column roles are worked out once,
    /// and each call is written into one reused byte buffer.
    public final class Builder {
        public let shape: SyncShape
        public let columns: [String]
        let user: Int?, anon: Int?, event: Int?, group: Int?, objectType: Int?, relationship: Int?, timestamp: Int?
        /// Every other column, in column order, with its name as a JSON string and a colon.
        let attributes: [(index: Int, name: [UInt8])]
        var out: [UInt8] = []

        public init(shape: SyncShape, columns: [String]) {
            self.shape = shape
            self.columns = columns
            func index(_ name: String) -> Int? { columns.firstIndex(of: name) }
            user = index("userId"); anon = index("anonymousId"); event = index("event"); group = index("groupId")
            objectType = index("objectTypeId"); relationship = index("relationshipAttributes"); timestamp = index("timestamp")
            let special: Set<String>
            switch shape {
            case .identify: special = ["userId", "anonymousId", "timestamp"]
            case .track: special = ["userId", "anonymousId", "timestamp", "event"]
            case .objects, .relationships: special = ["groupId", "objectTypeId", "userId", "timestamp", "relationshipAttributes"]
            }
            attributes = columns.enumerated().filter { !special.contains($0.element) }.map { ($0.offset, Array((JSONText.string($0.element) + ":").utf8)) }
        }

        @inline(__always) func raw(_ s: StaticString) {
            s.withUTF8Buffer { out.append(contentsOf: $0) }
        }

        @inline(__always) func string(_ s: String) {
            var s = s
            s.withUTF8 { JSONText.appendString(&out, UnsafeRawBufferPointer($0)) }
        }

        /// The call for one row; a row without the fields its type needs is an error.
        public func make(_ row: any RowCursor) throws -> SyncPayload {
            func text(_ i: Int?) -> String? { i.flatMap { row.isNull($0) ? nil : row.string($0) } }
            out.removeAll(keepingCapacity: true)
            var key: String
            switch shape {
            case .identify, .track:
                let user = text(self.user), anon = text(self.anon)
                guard user != nil || anon != nil else { throw NexusError("sync", "row has neither userId nor anonymousId") }
                if shape == .track { raw("\"type\":\"track\"") } else { raw("\"type\":\"identify\"") }
                if let user { raw(",\"userId\":"); string(user) }
                if let anon { raw(",\"anonymousId\":"); string(anon) }
                key = user.map { "user:" + $0 } ?? "anon:" + anon!
                if shape == .track {
                    guard let event = text(self.event) else { throw NexusError("sync", "row has no event name") }
                    raw(",\"event\":"); string(event)
                }
            case .objects, .relationships:
                guard let group = text(self.group) else { throw NexusError("sync", "row has no groupId") }
                guard let type = text(objectType) else { throw NexusError("sync", "row has no objectTypeId") }
                raw("\"type\":\"group\",\"groupId\":"); string(group)
                key = "\(type)/\(group)"
                if shape == .relationships {
                    guard let user = text(self.user) else { throw NexusError("sync", "row has no userId") }
                    raw(",\"userId\":"); string(user)
                    key += "/" + user
                }
            }
            if shape == .track { raw(",\"properties\":{") } else { raw(",\"traits\":{") }
            var first = true
            if shape == .objects || shape == .relationships {
                raw("\"objectTypeId\":"); string(text(objectType)!)
                first = false
                if shape == .relationships, let rel = text(relationship) {
                    raw(",\"relationshipAttributes\":")
                    out.append(contentsOf: (SyncPayload.jsonWithDatesInSeconds(rel) ?? rel).utf8)
                }
            }
            for (i, name) in attributes {
                if !first { out.append(44) }
                first = false
                out.append(contentsOf: name)
                switch row.value(i) {
                case .null: raw("null")
                case .integer(let n): out.append(contentsOf: String(n).utf8)
                case .real(let d): if d.isFinite { out.append(contentsOf: String(d).utf8) } else { raw("null") }
                case .text(let s):
                    if let secs = SyncPayload.timestampSeconds(s) {
                        out.append(contentsOf: String(secs).utf8)
                    } else if let f = s.utf8.first, f == 123 || f == 91, let json = SyncPayload.jsonWithDatesInSeconds(s) {
                        out.append(contentsOf: json.utf8)
                    } else {
                        string(s)
                    }
                }
            }
            out.append(125)
            if let ts = text(timestamp), let micros = Timestamp.parse(ts) {
                raw(",\"timestamp\":\""); Timestamp.appendISO(micros, to: &out); out.append(34)
            }
            let (hash, prefix) = out.withUnsafeBytes { NexusID.md5HexAndPrefix($0) }
            // An event has no natural key: its content is its identity, so it is sent once.
            if shape == .track { key = "event:" + hash }
            var p = SyncPayload(key: key, hash: hash, body: String(decoding: out, as: UTF8.self))
            p.hashPrefix = prefix
            return p
        }
    }

    /// Unix seconds of a string in nexus's canonical timestamp forms (`YYYY-MM-DD HH:MM:SS[.f…]`).
    static func timestampSeconds(_ s: String) -> Int64? {
        guard let micros = Timestamp.parseCanonical(s) else { return nil }
        return micros >= 0 ? micros / 1_000_000 : (micros - 999_999) / 1_000_000
    }

    /// JSON text with the timestamp strings among an object's values as Unix seconds (other
    /// JSON as it is); nil when the text is not JSON. One parse serves both questions.
    static func jsonWithDatesInSeconds(_ text: String) -> String? {
        guard let parsed = try? JSONValue.parse(text) else { return nil }
        guard case .object(let members) = parsed else { return text }
        return "{" + members.map { k, v in
            let value: String
            if case .string(let s) = v, let secs = timestampSeconds(s) { value = String(secs) } else { value = v.serialized }
            return "\(JSONText.string(k)):\(value)"
        }.joined(separator: ",") + "}"
    }
}
