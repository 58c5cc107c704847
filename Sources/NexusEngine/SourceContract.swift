import NexusSQL

/// One column of a core table: its name, type, and whether every source must provide it.
public struct ContractColumn: Sendable {
    public var name: String
    public var type: ColumnType
    public var required: Bool
    init(_ name: String, _ type: ColumnType = .text, required: Bool = false) {
        self.name = name; self.type = type; self.required = required
    }
}

/// The dbt-nexus source contract (dbt-nexus.md §1.3–1.6) and the core tables it unions into.
public enum SourceContract {
    public enum Kind: String, Sendable, CaseIterable {
        case events, identifiers, traits, relationships

        /// The source relation's suffix: `S_events`, `S_entity_identifiers`, …
        public var suffix: String {
            switch self {
            case .events: return "events"
            case .identifiers: return "entity_identifiers"
            case .traits: return "entity_traits"
            case .relationships: return "relationship_declarations"
            }
        }

        /// The core table every source of this kind is unioned into.
        public var coreTable: String { "nexus_" + suffix }

        /// The column that identifies a row, for error messages.
        public var keyColumn: String {
            switch self {
            case .events: return "event_id"
            case .identifiers: return "entity_identifier_id"
            case .traits: return "entity_trait_id"
            case .relationships: return "relationship_declaration_id"
            }
        }

        /// The core relation's columns: the contract's, plus `_processed_at` on events.
        public var coreColumns: [ContractColumn] {
            self == .events ? columns + [ContractColumn("_processed_at", .timestamp)] : columns
        }

        public var columns: [ContractColumn] {
            switch self {
            case .events:
                return [
                    .init("event_id", required: true), .init("occurred_at", .timestamp, required: true),
                    .init("event_name", required: true), .init("event_description"),
                    .init("event_type", required: true), .init("significance", .real),
                    .init("value", .real), .init("value_unit"),
                    .init("source", required: true), .init("source_table"),
                    .init("_ingested_at", .timestamp),
                ]
            case .identifiers:
                return [
                    .init("entity_identifier_id", required: true), .init("event_id", required: true),
                    .init("edge_id", required: true), .init("entity_type", required: true),
                    .init("identifier_type", required: true), .init("identifier_value", required: true),
                    .init("role"), .init("source"), .init("occurred_at", .timestamp, required: true),
                    .init("_ingested_at", .timestamp),
                ]
            case .traits:
                return [
                    .init("entity_trait_id", required: true), .init("event_id"),
                    .init("entity_type", required: true), .init("identifier_type", required: true),
                    .init("identifier_value", required: true), .init("trait_name", required: true),
                    .init("trait_value", required: true), .init("source"),
                    .init("occurred_at", .timestamp, required: true), .init("_ingested_at", .timestamp),
                ]
            case .relationships:
                return [
                    .init("relationship_declaration_id", required: true), .init("event_id"),
                    .init("occurred_at", .timestamp, required: true),
                    .init("entity_a_identifier", required: true), .init("entity_a_identifier_type", required: true),
                    .init("entity_a_type", required: true), .init("entity_a_role"),
                    .init("entity_b_identifier", required: true), .init("entity_b_identifier_type", required: true),
                    .init("entity_b_type", required: true), .init("entity_b_role"),
                    .init("relationship_type", required: true), .init("relationship_direction"),
                    .init("is_active", .boolean), .init("source"), .init("_ingested_at", .timestamp),
                ]
            }
        }
    }
}
