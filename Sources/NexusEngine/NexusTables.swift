import NexusSQL
import NexusWarehouse

/// The columns of the tables the engines write, in order, with their logical types: one
/// schema that every engine creates, so that the two cannot drift apart.
public enum NexusTables {
    public typealias Columns = [(String, ColumnType)]

    /// `nexus_resolved_<type>_identifiers`.
    public static func resolvedIdentifiers(_ type: String) -> Columns {
        [
            ("\(type)_identifier_id", .text), ("\(type)_id", .text), ("event_id", .text),
            ("identifier_type", .text), ("identifier_value", .text), ("realtime_processed", .boolean),
            ("existing_\(type)", .boolean), ("resolution_reason", .text), ("previous_entity_id", .text),
            ("resolved_at_watermark", .timestamp),
        ]
    }

    /// `nexus_resolved_entity_traits`.
    public static let resolvedTraits: Columns = [
        ("entity_trait_id", .text), ("entity_id", .text), ("entity_type", .text), ("trait_name", .text),
        ("trait_value", .text), ("occurred_at", .timestamp), ("realtime_processed", .boolean),
    ]

    /// `nexus_entity_participants`.
    public static let participants: Columns = [
        ("entity_participant_id", .text), ("entity_type", .text), ("event_id", .text),
        ("entity_id", .text), ("role", .text), ("occurred_at", .timestamp),
    ]

    /// `nexus_entities`: ids, one text column per trait name (sorted), the system times.
    public static func entities(traitNames sorted: [String]) -> Columns {
        [("entity_id", .text), ("entity_type", .text)] + sorted.map { ($0, ColumnType.text) }
            + EntityColumns.trailing.map { ($0, ColumnType.timestamp) }
    }

    /// `nexus_relationships`.
    public static let relationships: Columns = [
        ("relationship_id", .text), ("entity_a_id", .text), ("entity_a_type", .text), ("entity_a_role", .text),
        ("entity_b_id", .text), ("entity_b_type", .text), ("entity_b_role", .text), ("relationship_type", .text),
        ("relationship_direction", .text), ("is_active", .boolean), ("established_at", .timestamp),
        ("last_updated_at", .timestamp), ("primary_source", .text), ("_processed_at", .timestamp),
        ("_updated_at", .timestamp), ("_created_at", .timestamp),
    ]

    /// Creates `table` (replacing one of that name) with `columns`; `primaryKey` names a
    /// unique column the warehouse indexes (and the index follows the table at the swap).
    public static func create(_ w: any Warehouse, _ table: String, _ columns: Columns, primaryKey: String? = nil) throws {
        let d = w.dialect
        try w.execute("DROP TABLE IF EXISTS \(d.quote(table))")
        let defs = columns.map { "\(d.quote($0.0)) \(d.typeName($0.1))\($0.0 == primaryKey ? " PRIMARY KEY" : "")" }
        try w.execute("CREATE TABLE \(d.quote(table)) (\(defs.joined(separator: ", ")))")
    }
}
