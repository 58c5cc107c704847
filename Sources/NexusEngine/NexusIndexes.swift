import NexusSQL

/// The indexes nexus builds on its own tables: the keys models join them on. Without them
/// SQLite (which has no hash join) scans a whole table once per row of another, as the
/// user's Customer.io models do between persons, participants and events.
public enum NexusIndexes {
    /// Per nexus relation. `nexus_entities(entity_id)` is its primary key already; the four
    /// core relations may be views, whose indexes go on the source tables under them.
    public static func defaults(entityTypes: [String]) -> [String: [IndexSpec]] {
        var d: [String: [IndexSpec]] = [
            "nexus_events": [IndexSpec(columns: ["event_id"])],
            // The entity side covers every column but the id: nexus writes participants in event
            // order, so reading an entity's participations through a plain index fetches rows
            // all over the table (a model grouping participants by entity at 1,000,000 persons:
            // 50 s against 10 s for a scan; covered, the index alone answers).
            "nexus_entity_participants": [IndexSpec(columns: ["event_id"]),
                                          IndexSpec(columns: ["entity_id", "entity_type", "event_id", "role", "occurred_at"])],
            "nexus_relationships": [IndexSpec(columns: ["entity_a_id"]), IndexSpec(columns: ["entity_b_id"])],
        ]
        for t in entityTypes {
            d["nexus_resolved_\(t)_identifiers"] = [IndexSpec(columns: ["\(t)_id"]), IndexSpec(columns: ["identifier_type", "identifier_value"])]
        }
        return d
    }

    /// On `nexus_entities`: each trait column named after an identifier type (`email`,
    /// `phone`, …), since models find entities by those (the seed's outputs join persons by
    /// email). Partial: most entities of other types have no such trait.
    public static func entityLookups(columns: [String], identifierTypes: Set<String>) -> [IndexSpec] {
        columns.filter { !EntityColumns.reserved.contains($0) && identifierTypes.contains($0) }
            .sorted().map { IndexSpec(columns: [$0], skipsNulls: true) }
    }
}
