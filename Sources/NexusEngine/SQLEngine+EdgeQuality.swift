import NexusCore
import NexusSQL
import NexusWarehouse

/// Edge quality inside the warehouse, with the native engine's rules and report
/// (`EdgeQualityReport`): partners per identifier within its entity type, the gate, the
/// ignore list and the filter with its orphans rule.
extension SQLResolution {
    /// What judging left for the links: whether any identifier was left out or cut.
    struct Judgement {
        var report = EdgeQualityReport()
        var excluded = false
        var cut = false
    }

    /// Judges the identifiers of `<prefix>occurrences` and `<prefix>nodes`: removes ignored
    /// identifiers and filtered orphans from `nodes` (they are listed in `<prefix>left_out`),
    /// lists cut identifiers in `<prefix>cut`, reports, and applies the gate.
    func judgeEdges(_ context: EngineContext) throws -> Judgement {
        let w = warehouse, d = w.dialect, q = d.quote, rules = context.edgeQuality
        let create = d.createWorkTable, text = d.typeName(.text), int = d.typeName(.integer)
        let occurrences = q(work("occurrences")), nodes = q(work("nodes")), members = q(work("members"))
        var j = Judgement()
        try w.execute("\(create) \(q(work("left_out"))) (node \(int), entity_type \(text), identifier_type \(text), identifier_value \(text))")
        try w.execute("\(create) \(q(work("cut"))) (node \(int))")

        // The ignore list: its identifiers resolve to nothing and link nothing.
        if !rules.ignore.isEmpty {
            try w.execute("\(create) \(q(work("ignore"))) (identifier_type \(text), identifier_value \(text))")
            let listed = rules.ignore.sorted { $0.key < $1.key }.flatMap { t, vs in vs.map { [SQLValue.text(t), .text($0)] } }
            try w.executeMany("INSERT INTO \(q(work("ignore"))) (identifier_type, identifier_value) VALUES (?, ?)", listed)
            try w.execute("""
                INSERT INTO \(q(work("left_out"))) (node, entity_type, identifier_type, identifier_value)
                SELECT n.node, n.entity_type, n.identifier_type, n.identifier_value FROM \(nodes) n
                JOIN \(q(work("ignore"))) g ON g.identifier_type = n.identifier_type AND g.identifier_value = n.identifier_value
                """)
            j.report.ignored = try w.integer("SELECT count(*) FROM \(q(work("left_out")))")
            if j.report.ignored > 0 {
                j.excluded = true
                j.report.ignoredRows = try w.integer("SELECT count(*) FROM \(occurrences) o JOIN \(q(work("left_out"))) x ON x.node = o.node")
                try w.execute("DELETE FROM \(nodes) WHERE node IN (SELECT node FROM \(q(work("left_out"))))")
            }
        }

        // A sum over an identifier's rows of (its group's rows - 1) bounds its partners; only
        // identifiers whose bound passes the warning threshold are counted exactly, over the
        // distinct identifiers of their groups (`members`).
        let live = j.excluded
            ? "(SELECT o.node, o.entity_type, o.edge_id FROM \(occurrences) o JOIN \(nodes) n ON n.node = o.node WHERE o.edge_id IS NOT NULL)"
            : "(SELECT node, entity_type, edge_id FROM \(occurrences) WHERE edge_id IS NOT NULL)"
        try w.execute("""
            \(create) \(q(work("candidates"))) AS
            SELECT o.node FROM \(live) AS o
            JOIN (SELECT entity_type, edge_id, count(*) AS size FROM \(live) AS l GROUP BY entity_type, edge_id HAVING count(*) > 1) g
              ON g.entity_type = o.entity_type AND g.edge_id = o.edge_id
            GROUP BY o.node HAVING sum(g.size - 1) > \(rules.warning)
            """)
        try w.execute("\(create) \(members) (entity_type \(text), edge_id \(text), node \(int))")
        if try w.integer("SELECT count(*) FROM \(q(work("candidates")))") > 0 {
            try w.execute("""
                INSERT INTO \(members) (entity_type, edge_id, node)
                SELECT DISTINCT o.entity_type, o.edge_id, o.node FROM \(live) AS o
                WHERE EXISTS (SELECT 1 FROM \(live) AS k JOIN \(q(work("candidates"))) c ON c.node = k.node
                              WHERE k.entity_type = o.entity_type AND k.edge_id = o.edge_id)
                """)
            try w.analyze([work("members")])
        }
        // Partners: distinct values of the other identifiers in the identifier's groups.
        let pairs = """
            JOIN \(members) a ON a.node = c.node
            JOIN \(members) b ON b.entity_type = a.entity_type AND b.edge_id = a.edge_id AND b.node <> a.node
            JOIN \(nodes) nb ON nb.node = b.node
            """
        try w.execute("""
            \(create) \(q(work("partners"))) AS
            SELECT c.node, count(DISTINCT nb.identifier_value) AS partners FROM \(q(work("candidates"))) c
            \(pairs)
            GROUP BY c.node HAVING count(DISTINCT nb.identifier_value) > \(rules.warning)
            """)
        var rows: [Int: EdgeQualityReport.Row] = [:]
        for r in try w.query("""
            SELECT p.node, p.partners, n.entity_type, n.identifier_type, n.identifier_value,
                   (SELECT count(*) FROM \(members) m WHERE m.node = p.node)
            FROM \(q(work("partners"))) p JOIN \(nodes) n ON n.node = p.node
            """).rows {
            let node = Int(r[0].string ?? "") ?? -1
            rows[node] = .init(entityType: r[2].string ?? "", identifierType: r[3].string ?? "", identifierValue: r[4].string ?? "",
                               partners: Int(r[1].string ?? "") ?? 0, edges: Int(r[5].string ?? "") ?? 0,
                               connectedTypes: "", sources: "", filtered: false)
        }
        if !rows.isEmpty {
            var types: [Int: Set<String>] = [:]
            for r in try w.query("SELECT DISTINCT c.node, nb.identifier_type FROM \(q(work("partners"))) c \(pairs)").rows {
                types[Int(r[0].string ?? "") ?? -1, default: []].insert(r[1].string ?? "")
            }
            var sources: [Int: [(source: String, partners: Int)]] = [:]
            for r in try w.query("""
                SELECT c.node, coalesce(a.source, 'NULL'), count(DISTINCT nb.identifier_value) FROM \(q(work("partners"))) c
                JOIN \(occurrences) a ON a.node = c.node AND a.edge_id IS NOT NULL
                JOIN \(members) b ON b.entity_type = a.entity_type AND b.edge_id = a.edge_id AND b.node <> a.node
                JOIN \(nodes) nb ON nb.node = b.node
                GROUP BY c.node, coalesce(a.source, 'NULL')
                """).rows {
                sources[Int(r[0].string ?? "") ?? -1, default: []].append((r[1].string ?? "", Int(r[2].string ?? "") ?? 0))
            }
            for (node, _) in rows {
                rows[node]!.connectedTypes = EdgeQualityReport.typesText(types[node] ?? [])
                rows[node]!.sources = EdgeQualityReport.sourcesText(sources[node] ?? [])
            }
        }

        // The filter: identifiers above `error` have their edges cut; the filtered orphans
        // (no edge left, in a group with an identifier that has one) resolve to nothing.
        if rules.onError == .filter {
            try w.execute("INSERT INTO \(q(work("cut"))) (node) SELECT node FROM \(q(work("partners"))) WHERE partners > \(rules.error)")
            j.report.filtered = try w.integer("SELECT count(*) FROM \(q(work("cut")))")
            for (node, row) in rows where row.partners > rules.error { rows[node]!.filtered = true }
            if j.report.filtered > 0 {
                j.cut = true
                let notCut = { (alias: String) in "NOT EXISTS (SELECT 1 FROM \(q(work("cut"))) x WHERE x.node = \(alias).node)" }
                // A survivor keeps an edge: it is not cut and one of its groups has a second
                // identifier that is not cut. Only a cut identifier can be an orphan (one that
                // is not cut, in a group with a survivor, survives with it), so the orphans are
                // the cut identifiers that share a group with a survivor.
                try w.execute("""
                    \(create) \(q(work("survivors"))) AS
                    SELECT DISTINCT m.node FROM \(live) AS m
                    JOIN (SELECT entity_type, edge_id FROM \(live) AS k WHERE \(notCut("k"))
                          GROUP BY entity_type, edge_id HAVING count(DISTINCT node) >= 2) g ON g.entity_type = m.entity_type AND g.edge_id = m.edge_id
                    WHERE \(notCut("m"))
                    """)
                let before = try w.integer("SELECT count(*) FROM \(q(work("left_out")))")
                try w.execute("""
                    INSERT INTO \(q(work("left_out"))) (node, entity_type, identifier_type, identifier_value)
                    SELECT n.node, n.entity_type, n.identifier_type, n.identifier_value FROM \(nodes) n
                    WHERE n.node IN (SELECT m.node FROM \(members) m JOIN \(q(work("cut"))) c ON c.node = m.node
                                     WHERE EXISTS (SELECT 1 FROM \(members) k JOIN \(q(work("survivors"))) s ON s.node = k.node
                                                   WHERE k.entity_type = m.entity_type AND k.edge_id = m.edge_id))
                    """)
                j.report.orphans = try w.integer("SELECT count(*) FROM \(q(work("left_out")))") - before
                if j.report.orphans > 0 {
                    j.excluded = true
                    try w.execute("DELETE FROM \(nodes) WHERE node IN (SELECT node FROM \(q(work("left_out"))))")
                }
            }
        }
        j.report.rows = Array(rows.values)
        j.report.sort(entityTypes: context.entityTypes)
        try j.report.apply(rules, context)
        return j
    }
}
