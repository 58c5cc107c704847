import NexusCore
import NexusSQL
import NexusWarehouse

/// The kind of Customer.io sync an output relation is shaped for, read from its columns.
public enum SyncShape: String, Sendable, CaseIterable {
    case identify, objects, relationships, track

    /// The sync type to pick in Customer.io.
    public var syncType: String {
        switch self {
        case .identify: return "Identify"
        case .track: return "Track"
        case .objects: return "Group"
        case .relationships: return "Group (with userId: relationships)"
        }
    }

    /// Initial sync order: persons, objects, relationships, events.
    public var order: Int {
        switch self {
        case .identify: return 0
        case .objects: return 1
        case .relationships: return 2
        case .track: return 3
        }
    }

    /// The shape of a relation with these columns, or nil when it is not a Customer.io output.
    public init?(columns: [String]) {
        let c = Set(columns)
        if c.contains("groupId") && c.contains("objectTypeId") {
            self = c.contains("userId") ? .relationships : .objects
        } else if c.contains("event") && (c.contains("userId") || c.contains("anonymousId")) {
            self = .track
        } else if c.contains("userId") || c.contains("anonymousId") {
            self = .identify
        } else {
            return nil
        }
    }

    /// Customer.io's mapping screen: field → column, for the special columns present.
    public func mapping(columns: [String]) -> [(field: String, column: String)] {
        let c = Set(columns)
        var out: [(String, String)] = []
        switch self {
        case .identify, .track:
            if c.contains("userId") { out.append(("User ID", "userId")) }
            if c.contains("anonymousId") { out.append(("Anonymous ID", "anonymousId")) }
            if self == .track { out.append(("Event name", "event")) }
        case .objects, .relationships:
            out.append(("Object ID", "groupId"))
            out.append(("Object Type ID", "objectTypeId"))
            if self == .relationships {
                out.append(("User ID", "userId"))
                if c.contains("relationshipAttributes") { out.append(("Relationship Attributes", "relationshipAttributes")) }
            }
        }
        if c.contains("timestamp") { out.append(("Timestamp", "timestamp")) }
        return out
    }

    /// What the remaining columns become in Customer.io.
    public var otherColumns: String {
        switch self {
        case .identify: return "person attributes (traits)"
        case .track: return "event properties"
        case .objects, .relationships: return "object attributes"
        }
    }
}

/// The Reverse ETL query Customer.io runs, with its `{{last_sync_time}}` filter (Unix seconds).
public enum ReverseETLQuery {
    public static func sql(relation: String, schema: String = "YOUR_SCHEMA", dialect d: any SQLDialect) -> String {
        let table = "\(schema).\(relation)"
        let ts = d.quote("timestamp")
        switch d.name {
        case "snowflake":
            return "SELECT *\nFROM \(table)\nWHERE TO_TIMESTAMP_NTZ(\(ts)) > TO_TIMESTAMP_NTZ({{last_sync_time}})"
        case "postgres":
            return "SELECT *\nFROM \(table)\nWHERE \(ts) > to_timestamp({{last_sync_time}}) AT TIME ZONE 'UTC'"
        default:
            return "SELECT *\nFROM \(relation)\nWHERE \(ts) > datetime({{last_sync_time}}, 'unixepoch')"
        }
    }
}
