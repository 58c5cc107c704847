import NexusCore
import NexusSQL
import NexusWarehouse

/// Identity resolution inside the warehouse, in SQL any of nexus's warehouses runs.
///
/// Exact connected components at any chain length, as the native engine's union–find gives
/// them: every identifier (entity type, identifier type, value) is a node numbered in byte
/// order, so that a component's smallest node is its smallest identifier; every occurrence
/// links to the first node of its (entity type, edge_id); then each node's label starts as
/// itself and takes the smallest label across its links (propagation) and its label's label
/// (pointer jumping), round after round, until a round changes no label. The runner counts
/// the changes; there is no fixed depth. Labels only fall and stay inside the component, so
/// at the fixpoint each component carries its smallest node, and the entity id is that
/// identifier's md5, as the native engine makes it (docs/decisions.md).
public struct SQLResolution {
    public let warehouse: any Warehouse
    /// Names of the engine's work tables, dropped at the end (a prefix per build).
    public let workPrefix: String

    /// Rounds to write out whatever the data needs (see `SQLEngine.fixedRounds`).
    public let fixedRounds: Int?

    public init(warehouse: any Warehouse, workPrefix: String = "__nexus_work__", fixedRounds: Int? = nil) {
        self.warehouse = warehouse
        self.workPrefix = workPrefix
        self.fixedRounds = fixedRounds
    }

    /// What a resolution did: entities per type, rounds until no label changed.
    public struct Outcome: Sendable {
        public var entities = 0
        public var rounds = 0
        public var labelsChanged: [Int] = []
        /// Rounds whose statements were sent: `rounds` - 1 normally; with fixed rounds, at
        /// least that many, and even.
        public var roundsSent = 0
        /// What edge quality found (written by the engine as `nexus_edge_quality`).
        public var quality = EdgeQualityReport()
        /// What incremental resolution did (nil without it).
        public var incremental: IncrementalResolution.Outcome?
    }

    func work(_ name: String) -> String { workPrefix + name }

    /// Resolves the identifiers of `context.physicalName("nexus_entity_identifiers")` and
    /// writes `nexus_resolved_<type>_identifiers` for every entity type; the work tables
    /// `<prefix>nodes` (node, entity_type, identifier_type, identifier_value, label) stay for
    /// the steps after it until `dropWork`.
    @discardableResult
    public func run(_ context: EngineContext) throws -> Outcome {
        let w = warehouse, d = w.dialect
        let identifiers = context.physicalName("nexus_entity_identifiers")
        let types = context.entityTypes
        let typeList = types.map { d.literal($0) }.joined(separator: ", ")
        try dropWork()
        let q = d.quote, text = d.typeName(.text), int = d.typeName(.integer), create = d.createWorkTable
        // What the native engine warns about, in its words.
        for row in try w.query("""
            SELECT coalesce(entity_type, 'NULL'), count(*) FROM \(q(identifiers))
            WHERE entity_type IS NULL OR entity_type NOT IN (\(typeList)) GROUP BY coalesce(entity_type, 'NULL') ORDER BY 1
            """).rows {
            context.warn("nexus_entity_identifiers: \(row[1]) row(s) of entity type '\(row[0])', which is not in entity_types, were ignored")
        }
        let nulls = try w.integer("SELECT count(*) FROM \(q(identifiers)) WHERE entity_type IN (\(typeList)) AND (identifier_type IS NULL OR identifier_value IS NULL)")
        if nulls > 0 { context.warn("nexus_entity_identifiers: \(nulls) row(s) with a NULL identifier_type or identifier_value were ignored") }

        // Occurrences numbered by node in one sort: identifiers in byte order of (entity type,
        // identifier type, value), equal ones one node (dense_rank). Nodes and links are read
        // from them, with no join back on the identifier text.
        let ts = d.typeName(.timestamp)
        try w.execute("\(create) \(q(work("occurrences"))) (node \(int), entity_type \(text), identifier_type \(text), identifier_value \(text), edge_id \(text), event_id \(text), role \(text), occurred_at \(ts), source \(text))")
        try w.execute("""
            INSERT INTO \(q(work("occurrences"))) (node, entity_type, identifier_type, identifier_value, edge_id, event_id, role, occurred_at, source)
            SELECT dense_rank() OVER (ORDER BY \(d.byteOrder("entity_type")), \(d.byteOrder("identifier_type")), \(d.byteOrder("identifier_value"))),
                   entity_type, identifier_type, identifier_value, edge_id, event_id, role, occurred_at, source
            FROM \(q(identifiers))
            WHERE entity_type IN (\(typeList)) AND identifier_type IS NOT NULL AND identifier_value IS NOT NULL
            """)
        try w.execute("\(create) \(q(work("nodes"))) (node \(int) PRIMARY KEY, entity_type \(text), identifier_type \(text), identifier_value \(text), label \(int))")
        try w.execute("""
            INSERT INTO \(q(work("nodes"))) (node, entity_type, identifier_type, identifier_value, label)
            SELECT node, min(entity_type), min(identifier_type), min(identifier_value), node FROM \(q(work("occurrences"))) GROUP BY node
            """)

        context.checkpoint("identity resolution: occurrences and nodes")
        var outcome = Outcome()
        let judged = try judgeEdges(context)
        outcome.quality = judged.report

        // Links: each node to the first node of its (entity type, edge), among the
        // occurrences of identifiers that stay and whose edges are not cut.
        var linking = q(work("occurrences"))
        if judged.excluded || judged.cut {
            linking = """
                (SELECT o.node, o.entity_type, o.edge_id FROM \(q(work("occurrences"))) o JOIN \(q(work("nodes"))) n ON n.node = o.node
                 WHERE o.edge_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM \(q(work("cut"))) x WHERE x.node = o.node))
                """
        }
        try w.execute("\(create) \(q(work("links"))) (a \(int), b \(int))")
        try w.execute("""
            INSERT INTO \(q(work("links"))) (a, b)
            SELECT DISTINCT o.node, f.first FROM \(linking) o
            JOIN (SELECT entity_type, edge_id, min(node) AS first FROM \(linking) AS l
                  WHERE edge_id IS NOT NULL GROUP BY entity_type, edge_id) f ON f.entity_type = o.entity_type AND f.edge_id = o.edge_id
            WHERE o.node <> f.first
            """)
        // Incrementally: the last mapping, and (unless --full) its entities held together.
        if let inc = context.incremental { try loadPrior(context, inc) }
        // Through the warehouse: one without indexes (Snowflake) skips them.
        try w.createIndex(IndexSpec(columns: ["a"]), on: work("links"), name: work("links_a"))
        try w.createIndex(IndexSpec(columns: ["b"]), on: work("links"), name: work("links_b"))
        try w.analyze([work("nodes"), work("links")])

        // Rounds until no label changes. The first round looks at every node: the smallest
        // label across its links (both ways) and its own, then one pointer jump (the label's
        // label). Every later round looks only where a label can still fall, the frontier of
        // the last round's changes: the neighbours of a changed node (offered its new label),
        // the changed nodes themselves (offered their new label's label: a jump) and the nodes
        // whose label is a changed node (offered its new label: a jump). A label that none of
        // those touch was already the smallest its links and its label's label offer, so the
        // fixpoint is the full rounds' fixpoint, each component labelled with its smallest
        // node; a round costs the size of its frontier instead of the whole graph. Each round
        // writes only the nodes whose label falls; the runner stops when there are none.
        let nodes = q(work("nodes")), links = q(work("links"))
        var changes = work("changes_0")
        // With fixed rounds, the round after the fixpoint changes nothing (it reads an empty
        // table of changes), so rounds past it are harmless; an even count ends on changes_0,
        // where the first round began, so the rounds can be run again as they are.
        let fixed = fixedRounds.map { max(2, $0 + $0 % 2) }
        var converged = false
        try w.execute("""
            \(create) \(q(changes)) AS
            SELECT m.node, CASE WHEN j.label < m.label THEN j.label ELSE m.label END AS label
            FROM (SELECT node, min(label) AS label, max(own) AS own FROM (
                    SELECT node, label, label AS own FROM \(nodes)
                    UNION ALL SELECT k.a, n.label, NULL FROM \(links) k JOIN \(nodes) n ON n.node = k.b
                    UNION ALL SELECT k.b, n.label, NULL FROM \(links) k JOIN \(nodes) n ON n.node = k.a
                  ) AS candidates GROUP BY node) AS m
            JOIN \(nodes) j ON j.node = m.label
            WHERE j.label < m.own OR m.label < m.own
            """)
        context.checkpoint("identity resolution: links and the first round's changes")
        while true {
            let changed = try w.integer("SELECT count(*) FROM \(q(changes))")
            if !converged {
                outcome.rounds += 1
                outcome.labelsChanged.append(changed)
                converged = changed == 0
            }
            if converged, outcome.roundsSent >= (fixed ?? 0), outcome.roundsSent % 2 == 0 || fixed == nil { break }
            outcome.roundsSent += 1
            try w.execute("UPDATE \(nodes) SET label = x.label FROM \(q(changes)) AS x WHERE x.node = \(nodes).node")
            try w.analyze([changes])
            let next = work(outcome.roundsSent % 2 == 0 ? "changes_0" : "changes_1")
            try w.execute("DROP TABLE IF EXISTS \(q(next))")
            let c = q(changes)
            try w.execute("""
                \(create) \(q(next)) AS
                SELECT f.node, min(f.label) AS label FROM (
                    SELECT k.a AS node, c.label FROM \(links) k JOIN \(c) c ON c.node = k.b
                    UNION ALL SELECT k.b, c.label FROM \(links) k JOIN \(c) c ON c.node = k.a
                    UNION ALL SELECT c.node, j.label FROM \(c) c JOIN \(nodes) j ON j.node = c.label
                    UNION ALL SELECT n.node, c.label FROM \(nodes) n JOIN \(c) c ON c.node = n.label
                ) AS f JOIN \(nodes) cur ON cur.node = f.node
                GROUP BY f.node, cur.label HAVING min(f.label) < cur.label
                """)
            try w.execute("DROP TABLE IF EXISTS \(c)")
            changes = next
        }
        if let fixed {
            context.checkpoint("identity resolution: \(outcome.roundsSent) rounds")
            try w.execute("SELECT \(d.failUnless("(SELECT count(*) FROM \(q(changes))) = 0", "nexus: identity resolution did not converge in \(outcome.roundsSent) rounds (a chain longer than the compiled bound of \(fixed)): run the rounds step again, then this check")) AS converged")
            context.checkpoint("identity resolution: convergence check")
        }
        try w.execute("DROP TABLE IF EXISTS \(q(changes))")
        // The steps after resolution find nodes by their identifier; built now, not before the
        // rounds, whose updates would have kept it up to date for nothing.
        try w.createIndex(IndexSpec(columns: ["entity_type", "identifier_type", "identifier_value"]), on: work("nodes"), name: work("nodes_key"))
        // Its statistics too: SQLite's planner, knowing the table's size but not the index's,
        // chose a plan for the trait join that took minutes at 20,000 persons.
        try w.analyze([work("nodes")])

        // Entity ids: the md5 of each component's smallest identifier (its label's node);
        // incrementally, the surviving earlier entity's id when the component has one.
        let contract = context.incremental?.contract == true
        if contract { try survivors() }
        try w.execute("\(create) \(q(work("entities"))) (label \(int) PRIMARY KEY, entity_type \(text), entity_id \(text))")
        for t in types {
            let id = d.nexusID(prefix: NexusID.prefix(for: t), expressions: ["n.identifier_type", "n.identifier_value"])
            try w.execute("""
                INSERT INTO \(q(work("entities"))) (label, entity_type, entity_id)
                SELECT n.node, n.entity_type, \(contract ? "coalesce(s.prior, \(id))" : id) FROM \(q(work("nodes"))) n\(contract ? "\nLEFT JOIN \(q(work("survivor"))) s ON s.label = n.node" : "")
                WHERE n.node = n.label AND n.entity_type = \(d.literal(t))
                """)
        }
        outcome.entities = try w.integer("SELECT count(*) FROM \(q(work("entities")))")
        if context.incremental != nil { try recordChanges() }
        for t in types {
            let rows = try writeMapping(type: t, table: context.physicalName("nexus_resolved_\(t)_identifiers"), identifiers: identifiers,
                                        incremental: context.incremental != nil)
            context.relationRows("nexus_resolved_\(t)_identifiers", rows)
        }
        if let inc = context.incremental {
            let logged = try writeLog(context, inc)
            context.relationRows("nexus_resolution_log", logged)
            outcome.incremental = try incrementalOutcome(context, inc)
        }
        context.checkpoint("identity resolution: entity ids and mappings")
        return outcome
    }

    /// `nexus_resolved_<type>_identifiers`, column for column as the native engine writes it.
    func writeMapping(type t: String, table: String, identifiers: String, incremental: Bool = false) throws -> Int {
        let w = warehouse, d = w.dialect, q = d.quote
        try NexusTables.create(w, table, NexusTables.resolvedIdentifiers(t))
        let identifierID = d.nexusID(prefix: NexusID.prefix(for: "\(t)_identifier"), expressions: ["e.entity_id", "n.identifier_type", "n.identifier_value"])
        // The mapping's event_id: the occurrence with the smallest edge_id (NULL last), then
        // the smallest event_id (NULL last). The watermark: the latest _ingested_at (else
        // occurred_at) of the type's identifier rows.
        let watermark = """
            (SELECT max(coalesce(_ingested_at, occurred_at)) FROM \(q(identifiers))
                                              WHERE entity_type = ? AND identifier_type IS NOT NULL AND identifier_value IS NOT NULL)
            """
        // Incrementally, a row keeps its reason, previous entity and watermark until its
        // identifier changes (`<prefix>changes`).
        let why = incremental ? """
            CASE WHEN c.node IS NULL THEN p.reason ELSE c.reason END,
                   CASE WHEN c.node IS NULL THEN p.previous WHEN c.reason = 'repointed' THEN c.prior END,
                   CASE WHEN c.node IS NULL THEN p.watermark ELSE \(watermark) END
            """ : "'full_resolution', NULL, \(watermark)"
        let (text, values) = ("""
            INSERT INTO \(q(table))
            SELECT \(identifierID), e.entity_id, b.event_id, n.identifier_type, n.identifier_value, \(d.booleanLiteral(false)), \(d.booleanLiteral(true)),
                   \(why)
            FROM \(q(work("nodes"))) n
            JOIN \(q(work("entities"))) e ON e.label = n.label\(incremental ? "\nLEFT JOIN \(q(work("prior"))) p ON p.node = n.node LEFT JOIN \(q(work("changes"))) c ON c.node = n.node" : "")
            LEFT JOIN (SELECT node, event_id, row_number() OVER (PARTITION BY node ORDER BY
                          CASE WHEN edge_id IS NULL THEN 1 ELSE 0 END, \(d.byteOrder("edge_id")),
                          CASE WHEN event_id IS NULL THEN 1 ELSE 0 END, \(d.byteOrder("event_id"))) AS k
                       FROM \(q(work("occurrences")))) b ON b.node = n.node AND b.k = 1
            WHERE n.entity_type = ?
            ORDER BY n.node
            """, [SQLValue.text(t), .text(t)])
        try w.executeMany(text, [values])
        return try w.integer("SELECT count(*) FROM \(q(table))")
    }

    /// Drops the work tables.
    public func dropWork() throws {
        for (name, kind) in try warehouse.relations() where name.hasPrefix(workPrefix) {
            try warehouse.execute("DROP \(kind == .view ? "VIEW" : "TABLE") IF EXISTS \(warehouse.dialect.quote(name))")
        }
    }
}
