import NexusCore
import NexusSQL
import NexusWarehouse

/// The SQL engine's steps after resolution: resolved traits, participants and entities, in
/// SQL any of nexus's warehouses runs, over `SQLResolution`'s work tables, with the native
/// engine's rules (docs/decisions.md) and ids.
extension SQLResolution {
    /// Writes `nexus_resolved_entity_traits`, `nexus_entity_participants`, `nexus_entities`
    /// and `nexus_relationships` (after `run`); returns rows written per relation.
    @discardableResult
    public func writeTables(_ context: EngineContext) throws -> [String: Int] {
        var rows: [String: Int] = [:]
        rows["nexus_resolved_entity_traits"] = try writeTraits(context)
        rows["nexus_entity_participants"] = try writeParticipants(context)
        rows["nexus_entities"] = try writeEntities(context)
        rows["nexus_relationships"] = try writeRelationships(context)
        for (name, n) in rows { context.relationRows(name, n) }
        return rows
    }

    /// The normalised trait name: lower case, spaces as underscores (SQL's `lower`, which
    /// lower-cases ASCII letters; the native engine lower-cases every letter).
    func normalized(_ column: String) -> String { "replace(lower(\(column)), ' ', '_')" }

    func writeTraits(_ context: EngineContext) throws -> Int {
        let w = warehouse, d = w.dialect, q = d.quote
        let traits = q(context.physicalName("nexus_entity_traits"))
        let table = context.physicalName("nexus_resolved_entity_traits")
        let typeList = context.entityTypes.map { d.literal($0) }.joined(separator: ", ")
        // Names: a reserved one, or two spellings of one column, stop the build (as natively).
        var firstSpelling: [String: (raw: String, source: String)] = [:]
        let names = try w.query("""
            SELECT DISTINCT trait_name, source FROM \(traits)
            WHERE entity_type IN (\(typeList)) AND trait_name IS NOT NULL AND trait_value IS NOT NULL AND trait_value <> ''
              AND identifier_type IS NOT NULL AND identifier_value IS NOT NULL
            ORDER BY 1, 2
            """)
        for row in names.rows {
            let raw = row[0].string ?? "", source = row[1].string ?? "NULL"
            let norm = String(raw.lowercased().map { $0 == " " ? "_" : $0 })
            if EntityColumns.reserved.contains(norm) {
                throw NexusError("contract", "trait '\(raw)' (source \(source)) would become column '\(norm)', which is a system column of nexus_entities; rename the trait in its source",
                                 at: SourceLocation(relation: "nexus_entity_traits", columnName: "trait_name"))
            }
            if let first = firstSpelling[norm], first.raw != raw {
                throw NexusError("contract", "trait names '\(first.raw)' (source \(first.source)) and '\(raw)' (source \(source)) both become column '\(norm)' of nexus_entities; use one spelling",
                                 at: SourceLocation(relation: "nexus_entity_traits", columnName: "trait_name"))
            }
            if firstSpelling[norm] == nil { firstSpelling[norm] = (raw, source) }
        }
        let joined = """
            FROM \(traits) t
            JOIN \(q(work("nodes"))) n ON n.entity_type = t.entity_type AND n.identifier_type = t.identifier_type AND n.identifier_value = t.identifier_value
            JOIN \(q(work("entities"))) e ON e.label = n.label
            WHERE t.entity_type IN (\(typeList)) AND t.trait_name IS NOT NULL AND t.trait_value IS NOT NULL AND t.trait_value <> ''
            """
        let unknown = try w.integer("SELECT count(*) FROM \(traits) WHERE entity_type IS NULL OR entity_type NOT IN (\(typeList))")
        // Rows naming an identifier no identifier row has are dropped, with a warning per source.
        // Rows naming an identifier left out by edge quality, likewise.
        var leftOut: [(String, String)] = []
        for row in try w.query("""
            SELECT coalesce(t.source, 'NULL'), CASE WHEN x.node IS NULL THEN 0 ELSE 1 END, count(*) FROM \(traits) t
            LEFT JOIN \(q(work("nodes"))) n ON n.entity_type = t.entity_type AND n.identifier_type = t.identifier_type AND n.identifier_value = t.identifier_value
            LEFT JOIN \(q(work("left_out"))) x ON x.entity_type = t.entity_type AND x.identifier_type = t.identifier_type AND x.identifier_value = t.identifier_value
            WHERE t.entity_type IN (\(typeList)) AND t.trait_name IS NOT NULL AND t.trait_value IS NOT NULL AND t.trait_value <> ''
              AND t.identifier_type IS NOT NULL AND t.identifier_value IS NOT NULL AND n.node IS NULL
            GROUP BY coalesce(t.source, 'NULL'), CASE WHEN x.node IS NULL THEN 0 ELSE 1 END ORDER BY 1
            """).rows {
            let source = row[0].string ?? "NULL", n = row[2].string ?? "0"
            if row[1].string == "1" { leftOut.append((source, n)); continue }
            context.warn("nexus_entity_traits: \(n) trait row(s) from source \(source) name an identifier that occurs in no nexus_entity_identifiers row, and were dropped")
        }
        for (source, n) in leftOut { context.warn(EdgeQualityReport.droppedTraitsWarning(Int(n) ?? 0, source: source)) }
        if unknown > 0 { context.warn("nexus_entity_traits: \(unknown) row(s) of entity types not in entity_types were ignored") }
        try create(table, NexusTables.resolvedTraits)
        // The latest occurred_at wins (NULL oldest), then _ingested_at (NULL oldest), then the
        // largest entity_trait_id in byte order.
        let id = d.nexusID(prefix: NexusID.prefix(for: "entity_trait"), expressions: ["entity_id", "trait_name", "trait_value"])
        try w.execute("""
            INSERT INTO \(q(table))
            SELECT \(id), entity_id, entity_type, trait_name, trait_value, occurred_at, \(d.booleanLiteral(false)) FROM (
              SELECT e.entity_id, n.entity_type, \(normalized("t.trait_name")) AS trait_name, t.trait_value, t.occurred_at,
                     row_number() OVER (PARTITION BY e.entity_id, \(normalized("t.trait_name")) ORDER BY
                       CASE WHEN t.occurred_at IS NULL THEN 1 ELSE 0 END, t.occurred_at DESC,
                       CASE WHEN t._ingested_at IS NULL THEN 1 ELSE 0 END, t._ingested_at DESC,
                       \(d.byteOrder("coalesce(t.entity_trait_id, '')")) DESC) AS k
              \(joined)
            ) AS ranked WHERE k = 1
            ORDER BY \(typeRank("entity_type", context)), \(d.byteOrder("entity_id")), \(d.byteOrder("trait_name"))
            """)
        return try w.integer("SELECT count(*) FROM \(q(table))")
    }

    func writeParticipants(_ context: EngineContext) throws -> Int {
        let w = warehouse, d = w.dialect, q = d.quote
        let events = q(context.physicalName("nexus_events"))
        let table = context.physicalName("nexus_entity_participants")
        try checkEvents(events)
        let orphans = try w.integer("""
            SELECT count(*) FROM \(q(work("occurrences"))) o LEFT JOIN \(events) ev ON ev.event_id = o.event_id WHERE ev.event_id IS NULL
            """)
        if orphans > 0 {
            context.warn("nexus_entity_participants: \(orphans) identifier occurrence(s) whose event_id is not in nexus_events have no participant row")
        }
        try create(table, NexusTables.participants)
        let id = d.nexusID(prefix: NexusID.prefix(for: "entity_participant"), expressions: ["p.event_id", "p.entity_id", "p.role"])
        try w.execute("""
            INSERT INTO \(q(table))
            SELECT \(id), p.entity_type, p.event_id, p.entity_id, p.role, ev.occurred_at
            FROM (SELECT DISTINCT o.event_id, e.entity_id, e.entity_type, o.role
                  FROM \(q(work("occurrences"))) o
                  JOIN \(q(work("nodes"))) n ON n.node = o.node
                  JOIN \(q(work("entities"))) e ON e.label = n.label) p
            JOIN \(events) ev ON ev.event_id = p.event_id
            """)
        return try w.integer("SELECT count(*) FROM \(q(table))")
    }

    /// Event ids must be unique and every event needs a time (the native engine's checks).
    func checkEvents(_ events: String) throws {
        let w = warehouse
        if try w.integer("SELECT count(*) FROM \(events) WHERE event_id IS NULL") > 0 {
            let source = try w.query("SELECT source FROM \(events) WHERE event_id IS NULL LIMIT 1").rows.first?.first?.string ?? "NULL"
            throw NexusError("contract", "an event has a NULL event_id (source \(source))", at: SourceLocation(relation: "nexus_events", columnName: "event_id"))
        }
        let repeated = try w.query("""
            SELECT event_id, min(source) FROM \(events) GROUP BY event_id HAVING count(*) > 1 ORDER BY 1 LIMIT 5
            """).rows
        if !repeated.isEmpty {
            let list = repeated.map { "\($0[0].string ?? "") (source \($0[1].string ?? "NULL"))" }.joined(separator: ", ")
            throw NexusError("contract", "event_id must be unique across all sources; repeated: \(list)", at: SourceLocation(relation: "nexus_events", columnName: "event_id"))
        }
        if let row = try w.query("SELECT event_id, source FROM \(events) WHERE occurred_at IS NULL LIMIT 1").rows.first {
            throw NexusError("contract", "occurred_at is NULL (source \(row[1].string ?? "NULL"))",
                             at: SourceLocation(relation: "nexus_events", row: "event_id=\(row[0].string ?? "")", columnName: "occurred_at"))
        }
    }

    func writeEntities(_ context: EngineContext) throws -> Int {
        let w = warehouse, d = w.dialect, q = d.quote
        let events = q(context.physicalName("nexus_events"))
        let traits = q(context.physicalName("nexus_resolved_entity_traits"))
        let table = context.physicalName("nexus_entities")
        let names = try w.query("SELECT DISTINCT trait_name FROM \(traits)").rows.compactMap { $0[0].string }.sorted()
        try create(table, NexusTables.entities(traitNames: names), primaryKey: "entity_id")
        let pivot = names.map { "max(CASE WHEN trait_name = \(d.literal($0)) THEN trait_value END) AS \(q($0))" }
        let traitColumns = names.map { "tr.\(q($0))" }
        // _created_at: the first identifier occurrence; _updated_at: the latest winning trait
        // (else _created_at); interactions and the last merge from the events joined.
        try w.execute("""
            INSERT INTO \(q(table))
            SELECT e.entity_id, e.entity_type\(traitColumns.isEmpty ? "" : ", " + traitColumns.joined(separator: ", ")),
                   c.created, coalesce(tr.updated, c.created), i.last_merged, i.first_at, i.last_at, \(d.timestampLiteral(context.processedAt))
            FROM \(q(work("entities"))) e
            LEFT JOIN (SELECT entity_id, max(occurred_at) AS updated\(pivot.isEmpty ? "" : ", " + pivot.joined(separator: ", "))
                       FROM \(traits) GROUP BY entity_id) tr ON tr.entity_id = e.entity_id
            LEFT JOIN (SELECT n.label, min(o.occurred_at) AS created FROM \(q(work("occurrences"))) o
                       JOIN \(q(work("nodes"))) n ON n.node = o.node GROUP BY n.label) c ON c.label = e.label
            LEFT JOIN (SELECT n.label, min(ev.occurred_at) AS first_at, max(ev.occurred_at) AS last_at,
                              max(CASE WHEN o.edge_id IS NOT NULL THEN ev.occurred_at END) AS last_merged
                       FROM \(q(work("occurrences"))) o JOIN \(q(work("nodes"))) n ON n.node = o.node
                       JOIN \(events) ev ON ev.event_id = o.event_id GROUP BY n.label) i ON i.label = e.label
            ORDER BY \(typeRank("e.entity_type", context)), \(d.byteOrder("e.entity_id"))
            """)
        return try w.integer("SELECT count(*) FROM \(q(table))")
    }

    /// Writes `nexus_relationships` from `nexus_relationship_declarations` (after `run`).
    ///
    /// Declarations whose sides both resolve are grouped by (entity A, entity B, type); the
    /// latest declaration (occurred_at, then _ingested_at, NULL oldest, then the largest id)
    /// gives the types, roles, direction and is_active, the earliest gives primary_source,
    /// and the known times give established_at / last_updated_at.
    @discardableResult
    public func writeRelationships(_ context: EngineContext) throws -> Int {
        let w = warehouse, d = w.dialect, q = d.quote
        let declarations = q(context.physicalName("nexus_relationship_declarations"))
        let table = context.physicalName("nexus_relationships")
        let ranked = work("declarations")
        let group = "PARTITION BY a_id, b_id, relationship_type"
        func ascNullsFirst(_ c: String) -> String { "CASE WHEN \(c) IS NULL THEN 0 ELSE 1 END, \(c)" }
        func descNullsLast(_ c: String) -> String { "CASE WHEN \(c) IS NULL THEN 1 ELSE 0 END, \(c) DESC" }
        try w.execute("DROP TABLE IF EXISTS \(q(ranked))")
        try w.execute("""
            \(d.createWorkTable) \(q(ranked)) AS
            SELECT x.*, row_number() OVER (\(group) ORDER BY \(ascNullsFirst("occurred_at")), \(ascNullsFirst("_ingested_at")), \(d.byteOrder("rid"))) AS f,
                        row_number() OVER (\(group) ORDER BY \(descNullsLast("occurred_at")), \(descNullsLast("_ingested_at")), \(d.byteOrder("rid")) DESC) AS l,
                        min(occurred_at) OVER (\(group)) AS min_known, max(occurred_at) OVER (\(group)) AS max_known
            FROM (SELECT ea.entity_id AS a_id, eb.entity_id AS b_id, r.relationship_type, r.entity_a_type, r.entity_a_role,
                         r.entity_b_type, r.entity_b_role, r.relationship_direction, r.is_active, r.source, r.occurred_at, r._ingested_at,
                         coalesce(r.relationship_declaration_id, '') AS rid
                  FROM \(declarations) r
                  JOIN \(q(work("nodes"))) na ON na.entity_type = r.entity_a_type AND na.identifier_type = r.entity_a_identifier_type AND na.identifier_value = r.entity_a_identifier
                  JOIN \(q(work("entities"))) ea ON ea.label = na.label
                  JOIN \(q(work("nodes"))) nb ON nb.entity_type = r.entity_b_type AND nb.identifier_type = r.entity_b_identifier_type AND nb.identifier_value = r.entity_b_identifier
                  JOIN \(q(work("entities"))) eb ON eb.label = nb.label
                  WHERE r.relationship_type IS NOT NULL) x
            """)
        let unresolved = try w.integer("SELECT count(*) FROM \(declarations)") - w.integer("SELECT count(*) FROM \(q(ranked))")
        if unresolved > 0 {
            context.warn("nexus_relationship_declarations: \(unresolved) declaration(s) name an identifier on side A or B that no nexus_entity_identifiers row resolves, and were dropped")
        }
        try create(table, NexusTables.relationships)
        let id = d.nexusID(prefix: NexusID.prefix(for: "relationship"), expressions: ["l.a_id", "l.b_id", "l.relationship_type"])
        try w.execute("""
            INSERT INTO \(q(table))
            SELECT \(id), l.a_id, l.entity_a_type, l.entity_a_role, l.b_id, l.entity_b_type, l.entity_b_role, l.relationship_type,
                   l.relationship_direction, l.is_active, l.min_known, l.max_known, f.source, \(d.timestampLiteral(context.processedAt)),
                   l.max_known, l.min_known
            FROM \(q(ranked)) l
            JOIN \(q(ranked)) f ON f.a_id = l.a_id AND f.b_id = l.b_id AND f.relationship_type = l.relationship_type AND f.f = 1
            WHERE l.l = 1
            ORDER BY \(typeRank("l.entity_a_type", context)), \(d.byteOrder("l.a_id")), \(typeRank("l.entity_b_type", context)), \(d.byteOrder("l.b_id")),
                     \(d.byteOrder("l.relationship_type"))
            """)
        try w.execute("DROP TABLE IF EXISTS \(q(ranked))")
        return try w.integer("SELECT count(*) FROM \(q(table))")
    }

    /// An entity type's place in nexus.yml's order, for writing rows in the native engine's
    /// order (entity type, then entity id): same inputs, same bytes, whichever engine.
    func typeRank(_ column: String, _ context: EngineContext) -> String {
        let d = warehouse.dialect
        return "CASE \(column) " + context.entityTypes.enumerated().map { "WHEN \(d.literal($0.element)) THEN \($0.offset)" }.joined(separator: " ") + " END"
    }

    func create(_ table: String, _ columns: NexusTables.Columns, primaryKey: String? = nil) throws {
        try NexusTables.create(warehouse, table, columns, primaryKey: primaryKey)
    }
}
