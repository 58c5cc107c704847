import Foundation
import NexusCore
import NexusEngine
import NexusProject
import NexusSQL
import NexusWarehouse

/// One finished step of a run.

// The nexus step: the core relations over the sources, then the engine.
extension Runner {
    /// The source relations feeding one core relation.
    func sourceInputs(_ kind: SourceContract.Kind) -> [SourceInput] {
        project.config.sources.filter { s in
            guard s.enabled else { return false }
            switch kind {
            case .events: return s.events
            case .identifiers, .traits: return s.entities != nil
            case .relationships: return s.relationships
            }
        }.map { s in
            let rel = "\(s.name)_\(kind.suffix)"
            let file = project.models.first { $0.name == rel }?.file ?? project.seeds.first { $0.name == rel }?.file
            return SourceInput(source: s.name, relation: rel, physicalName: physical(rel), file: file,
                               entityTypes: (s.entities?.isEmpty ?? true) ? nil : s.entities)
        }
    }

    func buildNexus(feed: SeedFeed? = nil) throws {
        let core = CoreTables(warehouse: warehouse)
        let cfg = project.config
        var plain: [SourceContract.Kind: Set<String>] = [:]
        // The four core relations are views over the sources: the engine reads them once, and
        // copying tens of millions of rows into tables would double the build's writes. When a
        // source column needs converting with nexus's own SQL functions, the relation is a
        // table instead, so that any SQLite client can still read every relation.
        let d = warehouse.dialect
        try checkIngestedAt()
        for kind in SourceContract.Kind.allCases {
            let t0 = now()
            let ins = sourceInputs(kind)
            let union = try core.union(kind: kind, inputs: ins, processedAt: kind == .events ? processedAt : nil)
            plain[kind] = union.plain
            if union.converts {
                let columns = kind.coreColumns.map { (name: $0.name, type: d.typeName($0.type)) }
                let rows = try warehouse.transaction { try warehouse.createTable(stage(kind.coreTable), columns: columns, as: union.sql) }
                markStaged(kind.coreTable)
                record(StepResult(kind: "nexus", name: kind.coreTable, rows: rows, seconds: now() - t0, note: "table: source columns converted"))
                continue
            }
            try warehouse.execute("CREATE VIEW \(d.quote(stage(kind.coreTable))) AS \(union.sql)")
            let finalInputs = ins.map { i -> SourceInput in var f = i; f.physicalName = i.relation; return f }
            let pat = processedAt
            stagedViews.append((kind.coreTable, { try core.unionSQL(kind: kind, inputs: finalInputs, processedAt: kind == .events ? pat : nil) }))
            markStaged(kind.coreTable)
            record(StepResult(kind: "nexus", name: kind.coreTable, rows: nil, seconds: now() - t0, note: "view over \(ins.count) source relation(s)"))
        }
        for name in project.nexusRelations { markStaged(name) }
        let context = EngineContext(
            entityTypes: cfg.entityTypes, processedAt: processedAt,
            physicalName: { [unowned self] in self.stage($0) },
            progress: { [unowned self] step, rows, secs in self.record(StepResult(kind: "engine", name: step, rows: rows, seconds: secs, note: nil)) },
            warn: { [unowned self] in self.warn($0) })
        var ctx = context
        ctx.relationRows = { [unowned self] name, rows in self.relationRows[name] = rows }
        ctx.edgeQuality = cfg.edgeQuality
        ctx.checkpoint = { [unowned self] in self.checkpoint($0) }
        ctx.incremental = try incrementalResolution()
        ctx.check = { [unowned self] name, rows, note in self.record(StepResult(kind: "check", name: name, rows: rows, seconds: 0, note: note)) }
        if let feed, let native = engine as? NativeEngine {
            // The rows the engine took from the loader are the core views' rows only when
            // each view selects its one seed's columns as they are.
            if feed.usable, NativeEngine.reads.allSatisfy({ plain[$0.kind]?.isSuperset(of: $0.columns) ?? false }) {
                var replayed = ctx
                replayed.progress = { [unowned self] step, rows, secs in
                    self.record(StepResult(kind: "engine", name: step, rows: rows, seconds: secs, note: "during the seed load"))
                }
                for r in feed.replay { r(replayed) }
            } else {
                native.discardPrefetch()
            }
        }
        try engine.run(ctx, warehouse: warehouse)
        try buildNexusIndexes()
        try reportLargestEntities()
    }

    /// Edge quality as the build that made the kept nexus tables judged it: its summary and
    /// its warning again, so that every run reports them.
    func reportKeptEdgeQuality() throws {
        guard let log = try BuildLog.load(warehouse) else { return }
        if let step = log.steps.first(where: { $0.kind == "check" && $0.name == "edge quality" }) {
            record(StepResult(kind: "check", name: step.name, rows: step.rows, seconds: 0, note: step.note))
        }
        for w in log.warnings where w.hasPrefix(EdgeQualityReport.warningPrefix) { warn(w) }
    }

    /// The largest entity of each type, with its distinct emails and phones and its events,
    /// and a warning when entities have more identifiers than `over_merge.max_identifiers`:
    /// one noisy identifier (a shared phone, a placeholder email) gluing many people together
    /// is the way identity resolution goes wrong. Ties: the smallest entity id in byte order.
    func reportLargestEntities() throws {
        let limit = project.config.overMergeMaxIdentifiers
        for t in project.config.entityTypes {
            let t0 = now()
            let sizes = EntitySizes(warehouse: warehouse, table: physical("nexus_resolved_\(t)_identifiers"), idColumn: "\(t)_id")
            guard try warehouse.relationKind(sizes.table) != nil, let top = try sizes.largest(1).first else { continue }
            let events = try warehouse.integer("SELECT count(DISTINCT event_id) FROM \(id: physical("nexus_entity_participants")) WHERE entity_id = \(top.id)" as SQL)
            let summary = "\(top.id): \(top.identifiers) identifier(s), \(top.emails) email(s), \(top.phones) phone(s), \(events) event(s)"
            record(StepResult(kind: "check", name: "largest \(t)", rows: top.identifiers, seconds: now() - t0, note: summary))
            guard limit > 0, top.identifiers > limit else { continue }
            let over = try sizes.count(above: limit)
            warn("\(over) \(t) entit\(over == 1 ? "y has" : "ies have") more than \(limit) identifiers (over_merge.max_identifiers); the largest is \(summary): one noisy identifier may be joining many into one; `nexus explain` on one of its identifiers marks the bridges")
        }
    }

}
