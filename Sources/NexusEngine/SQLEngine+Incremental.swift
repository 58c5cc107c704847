import NexusCore
import NexusSQL
import NexusWarehouse

// Incremental resolution in SQL (see `IncrementalResolution`), the same rules and ids as the
// native engine's: the last mapping joined onto this build's nodes, its entities contracted
// through extra links, survivors by window, each node's change in a work table.
extension SQLResolution {
    /// `<prefix>prior` (node, prior, reason, previous, watermark): each node's row in the last
    /// mapping; `<prefix>prior_count` (prior, n): mapping rows per earlier entity. With
    /// `contract`, links tie the nodes of each earlier entity to its first node.
    func loadPrior(_ context: EngineContext, _ inc: IncrementalResolution) throws {
        let w = warehouse, d = w.dialect, q = d.quote, text = d.typeName(.text), int = d.typeName(.integer), create = d.createWorkTable
        try w.execute("\(create) \(q(work("prior"))) (node \(int), prior \(text), reason \(text), previous \(text), watermark \(d.typeName(.timestamp)))")
        try w.execute("\(create) \(q(work("prior_count"))) (prior \(text), n \(int))")
        for t in context.entityTypes {
            let mapping = "nexus_resolved_\(t)_identifiers"
            guard try w.relationKind(mapping) == .table else { continue }
            let id = q("\(t)_id")
            try w.execute("""
                INSERT INTO \(q(work("prior"))) (node, prior, reason, previous, watermark)
                SELECT n.node, m.\(id), m.resolution_reason, m.previous_entity_id, m.resolved_at_watermark
                FROM \(q(work("nodes"))) n JOIN \(q(mapping)) m ON m.identifier_type = n.identifier_type AND m.identifier_value = n.identifier_value
                WHERE n.entity_type = \(d.literal(t))
                """)
            try w.execute("INSERT INTO \(q(work("prior_count"))) (prior, n) SELECT \(id), count(*) FROM \(q(mapping)) GROUP BY \(id)")
        }
        guard inc.contract else { return }
        try w.execute("""
            INSERT INTO \(q(work("links"))) (a, b)
            SELECT p.node, f.first FROM \(q(work("prior"))) p
            JOIN (SELECT prior, min(node) AS first FROM \(q(work("prior"))) GROUP BY prior) f ON f.prior = p.prior
            WHERE p.node <> f.first
            """)
    }

    /// Each component's surviving earlier entity (`<prefix>survivor`: label, prior): the one
    /// with the most rows in the last mapping, then the smallest id in byte order.
    func survivors() throws {
        let w = warehouse, d = w.dialect, q = d.quote
        try w.execute("""
            \(d.createWorkTable) \(q(work("survivor"))) AS
            SELECT label, prior FROM (
                SELECT n.label, p.prior, row_number() OVER (PARTITION BY n.label ORDER BY c.n DESC, \(d.byteOrder("p.prior"))) AS k
                FROM \(q(work("nodes"))) n JOIN \(q(work("prior"))) p ON p.node = n.node JOIN \(q(work("prior_count"))) c ON c.prior = p.prior
            ) AS ranked WHERE k = 1
            """)
    }

    /// `<prefix>changes` (node, reason, prior): born, accreted, repointed; nothing for a node
    /// whose entity id is the one it had.
    func recordChanges() throws {
        let w = warehouse, d = w.dialect, q = d.quote
        try w.execute("""
            \(d.createWorkTable) \(q(work("changes"))) AS
            SELECT n.node, p.prior,
                   CASE WHEN p.prior IS NULL THEN
                            CASE WHEN EXISTS (SELECT 1 FROM \(q(work("prior_count"))) c WHERE c.prior = e.entity_id) THEN 'accreted' ELSE 'born' END
                        ELSE 'repointed' END AS reason
            FROM \(q(work("nodes"))) n
            JOIN \(q(work("entities"))) e ON e.label = n.label
            LEFT JOIN \(q(work("prior"))) p ON p.node = n.node
            WHERE p.prior IS NULL OR p.prior <> e.entity_id
            """)
    }

    /// This run's rows of `nexus_resolution_log`, in the native engine's order (entity type,
    /// then identifier in byte order).
    func writeLog(_ context: EngineContext, _ inc: IncrementalResolution) throws -> Int {
        let w = warehouse, d = w.dialect, q = d.quote
        let table = context.physicalName("nexus_resolution_log")
        try NexusTables.create(w, table, IncrementalResolution.logColumns)
        let identifiers = context.physicalName("nexus_entity_identifiers")
        let resolutionID = d.nexusID(prefix: NexusID.prefix(for: "resolution"),
                                     expressions: ["n.entity_type", "n.identifier_type", "n.identifier_value", "e.entity_id", "c.reason", d.literal(inc.runID)])
        try w.execute("""
            INSERT INTO \(q(table))
            SELECT \(resolutionID), \(d.literal(inc.runID)), n.entity_type, n.identifier_type, n.identifier_value, e.entity_id,
                   CASE WHEN c.reason = 'repointed' THEN c.prior END, c.reason, wm.watermark
            FROM \(q(work("changes"))) c
            JOIN \(q(work("nodes"))) n ON n.node = c.node
            JOIN \(q(work("entities"))) e ON e.label = n.label
            JOIN (SELECT entity_type, max(coalesce(_ingested_at, occurred_at)) AS watermark FROM \(q(identifiers))
                  WHERE identifier_type IS NOT NULL AND identifier_value IS NOT NULL GROUP BY entity_type) wm ON wm.entity_type = n.entity_type
            ORDER BY n.node
            """)
        return try w.integer("SELECT count(*) FROM \(q(table))")
    }

    /// What the run did, as the native engine counts it.
    func incrementalOutcome(_ context: EngineContext, _ inc: IncrementalResolution) throws -> IncrementalResolution.Outcome {
        let w = warehouse, d = w.dialect, q = d.quote
        let identifiers = q(context.physicalName("nexus_entity_identifiers"))
        let types = context.entityTypes.map { d.literal($0) }.joined(separator: ", ")
        let ingested = "coalesce(_ingested_at, occurred_at)"
        let limit = inc.previous.map { d.timestampLiteral($0.watermark) }
        let r = try w.query("""
            SELECT count(*), max(\(ingested))\(limit.map { ", sum(CASE WHEN \(ingested) <= \($0) THEN 1 ELSE 0 END)" } ?? "")
            FROM \(identifiers) WHERE entity_type IN (\(types)) AND identifier_type IS NOT NULL AND identifier_value IS NOT NULL
            """).rows[0]
        let total = Int(r[0].string ?? "0") ?? 0
        let through = limit == nil ? 0 : Int(r[2].string ?? "0") ?? 0
        var o = IncrementalResolution.Outcome(state: .init(watermark: r[1].string.flatMap(Timestamp.parse) ?? NativeEngine.missing, occurrences: total))
        o.afterWatermark = total - through
        o.late = max(0, through - (inc.previous?.occurrences ?? 0))
        let c = q(work("changes"))
        o.accreted = try w.integer("SELECT count(*) FROM \(c) WHERE reason = 'accreted'")
        o.repointed = try w.integer("SELECT count(*) FROM \(c) WHERE reason = 'repointed'")
        o.mergedAway = try w.integer("SELECT count(DISTINCT prior) FROM \(c) WHERE reason = 'repointed'")
        o.logRows = try w.integer("SELECT count(*) FROM \(c)")
        o.grown = try w.integer("SELECT count(DISTINCT n.label) FROM \(c) x JOIN \(q(work("nodes"))) n ON n.node = x.node WHERE x.reason = 'accreted'")
        o.born = try w.integer("""
            SELECT count(*) FROM \(q(work("entities"))) e WHERE NOT EXISTS (SELECT 1 FROM \(q(work("prior_count"))) p WHERE p.prior = e.entity_id)
            """)
        return o
    }
}
