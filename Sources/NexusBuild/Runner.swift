import Foundation
import NexusCore
import NexusEngine
import NexusProject
import NexusSQL
import NexusWarehouse

/// One finished step of a run.
public struct StepResult: Sendable {
    public var kind: String
    public var name: String
    public var rows: Int?
    public var seconds: Double
    public var note: String?
}

/// Where a run reports progress; the CLI prints it on stderr.
public protocol RunReporter: AnyObject {
    func step(_ result: StepResult)
    func warning(_ message: String)
}

/// Builds a project: seeds, models and the nexus tables, staged and then swapped in at once.
///
/// Every relation is built under a staging name (`__nexus_stage__<name>`). Only when every
/// step has succeeded does one transaction replace the previous build's relations, so a run
/// that fails at any point leaves the last good build intact and readable.
public final class Runner {
    public static let stagePrefix = "__nexus_stage__"
    public static let seedStateTable = "_nexus_seed_state"

    public let project: Project
    public let warehouse: SQLiteWarehouse
    let reporter: any RunReporter
    let processedAt: Int64
    let engine: any NexusEngine

    /// Relations being rebuilt in this run (final names).
    var staged: Set<String> = []
    /// Views built in this run, with the SQL to recreate each under its final name at the swap.
    var stagedViews: [(name: String, finalSQL: () throws -> String)] = []
    var seedStates: [(Seed, FileState)] = []
    public private(set) var results: [StepResult] = []
    /// Called once the run holds the warehouse (after waiting for another run, if one held it).
    public var started: (() -> Void)?
    /// Rows of each nexus relation in the published build (from the engine, or from the
    /// last build's record when the run was up to date).
    public private(set) var relationRows: [String: Int] = [:]

    public init(project: Project, warehouse: SQLiteWarehouse, reporter: any RunReporter,
                processedAt: Int64? = nil, engine: (any NexusEngine)? = nil) {
        self.project = project
        self.warehouse = warehouse
        self.reporter = reporter
        self.processedAt = processedAt ?? Runner.defaultProcessedAt()
        self.engine = engine ?? (project.config.engine == "sql" ? SQLEngine() : NativeEngine())
    }

    /// The build time: `SOURCE_DATE_EPOCH` when set (for reproducible builds), else now.
    public static func defaultProcessedAt() -> Int64 {
        if let s = ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"], let secs = Int64(s) { return secs * 1_000_000 }
        return Timestamp.now()
    }

    /// Opens the project's warehouse file.
    public static func openWarehouse(_ project: Project) throws -> SQLiteWarehouse {
        let path = project.config.warehouse.path.hasPrefix("/") ? project.config.warehouse.path
            : (project.root as NSString).appendingPathComponent(project.config.warehouse.path)
        return try SQLiteWarehouse(path: path)
    }

    func stage(_ name: String) -> String { Runner.stagePrefix + name }

    /// The name to read a relation by in this run.
    func physical(_ name: String) -> String { staged.contains(name) ? stage(name) : name }

    func record(_ r: StepResult) {
        results.append(r)
        reporter.step(r)
    }

    func now() -> Double { Date().timeIntervalSince1970 }

    /// Runs the whole build. On error every staged relation is dropped and the error rethrown.
    ///
    /// - Parameter force: rebuild even when nothing changed since the last successful build.
    /// - Returns: false when the build was already up to date and nothing was rebuilt.
    @discardableResult
    public func run(force: Bool = false) throws -> Bool {
        let t0 = now()
        // One build at a time per warehouse: a run drops staging tables it finds (a killed
        // run's), which would be another live run's.
        let lock = try warehouse.lock(.build, timeout: project.config.warehouse.lockTimeout)
        defer { lock.release() }
        started?()
        let fingerprint = try BuildState.fingerprint(project)
        // The last build's record counts only while the warehouse is as that build left it.
        let last = BuildState.load(warehouse.path).flatMap { $0.changeCounter == BuildState.changeCounter(of: warehouse.path) ? $0 : nil }
        if !force, let last, last.fingerprint == fingerprint,
           try project.nexusRelations.allSatisfy({ try warehouse.relationKind($0) != nil }),
           try project.models.allSatisfy({ try warehouse.relationKind($0.name) != nil }) {
            record(StepResult(kind: "check", name: "up to date", rows: nil, seconds: now() - t0,
                              note: "project files, seeds and warehouse unchanged since the last build; --full rebuilds"))
            relationRows = last.relationRows
            return false
        }
        // Nodes whose fingerprint is the one the last build recorded are kept as they are,
        // unless the warehouse was written by something else since (then nothing is trusted)
        // or --full asks for every model and nexus table again.
        var previous: [String: String] = [:]
        if !force, let last {
            previous = last.nodes
            relationRows = last.relationRows
        }
        BuildState.forget(warehouse.path)
        try build(previous: previous)
        if let counter = BuildState.changeCounter(of: warehouse.path) {
            try BuildState(fingerprint: fingerprint, changeCounter: counter, relationRows: relationRows, nodes: nodeFingerprints).save(warehouse.path)
        }
        return true
    }

    /// Fingerprints of this run's nodes, by node name.
    var nodeFingerprints: [String: String] = [:]

    static func key(_ node: BuildNode) -> String {
        switch node {
        case .seed(let s): return "seed:" + s
        case .model(let m): return "model:" + m
        case .nexus: return "nexus"
        }
    }

    /// A node's fingerprint: what defines it, and the fingerprints of what it reads.
    func fingerprint(_ node: BuildNode, plan: BuildPlan, definition: String) -> String {
        let inputs = (plan.dependencies[node] ?? []).map { Runner.key($0) + "=" + (nodeFingerprints[Runner.key($0)] ?? "?") }.sorted()
        return NexusID.md5Hex(([Runner.key(node), definition] + inputs).joined(separator: "\u{1}"))
    }

    /// What a model's or the nexus step's output depends on besides its inputs.
    func definition(of node: BuildNode) throws -> String {
        let cfg = project.config
        let vars = cfg.vars.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        let common = "\(BuildState.format)|\(ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"] ?? "")|\(cfg.entityTypes.joined(separator: ","))|\(vars)"
        switch node {
        case .model(let name):
            let m = project.models.first { $0.name == name }!
            return common + "|" + m.file + "|" + (try String(contentsOfFile: (project.root as NSString).appendingPathComponent(m.file), encoding: .utf8))
        case .nexus:
            let sources = cfg.sources.map { s in
                "\(s.name):\(s.enabled):\(s.events):\(s.entities?.joined(separator: "+") ?? "-"):\(s.relationships)"
            }.joined(separator: ",")
            let indexes = cfg.indexes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.map(\.description).joined(separator: "+"))" }.joined(separator: ",")
            return common + "|" + sources + "|" + engine.identity + "|" + indexes
        case .seed:
            return common
        }
    }

    func build(previous: [String: String]) throws {
        try dropStaged()
        try warehouse.execute("CREATE TABLE IF NOT EXISTS \(Runner.seedStateTable) (name TEXT PRIMARY KEY, path TEXT, size INTEGER, mtime REAL, hash TEXT, types TEXT)")
        let plan = try BuildPlan.make(project)
        do {
            let feed = try planFeed()
            var fed = false
            for node in plan.order {
                let key = Runner.key(node)
                switch node {
                case .seed(let name):
                    // The first fed seed loads all of them; a seed the feed did not load (it
                    // failed there) is built the usual way.
                    if let feed, !fed, feed.contains(name) { fed = true; try loadFeed(feed) }
                    let hash = try feed?.results[name] ?? buildSeed(project.seeds.first { $0.name == name }!)
                    nodeFingerprints[key] = fingerprint(node, plan: plan, definition: hash)
                case .model(let name):
                    let model = project.models.first { $0.name == name }!
                    let fp = fingerprint(node, plan: plan, definition: try definition(of: node))
                    nodeFingerprints[key] = fp
                    if previous[key] == fp, try warehouse.relationKind(name) != nil {
                        record(StepResult(kind: model.materialized == .view ? "view" : "model", name: name, rows: nil, seconds: 0,
                                          note: "unchanged: same SQL and inputs as the last build"))
                        continue
                    }
                    try buildModel(model)
                case .nexus:
                    let fp = fingerprint(node, plan: plan, definition: try definition(of: node))
                    nodeFingerprints[key] = fp
                    if previous[key] == fp, try project.nexusRelations.allSatisfy({ try warehouse.relationKind($0) != nil }) {
                        record(StepResult(kind: "nexus", name: "nexus tables", rows: nil, seconds: 0,
                                          note: "unchanged: same sources and settings as the last build"))
                        continue
                    }
                    relationRows = [:]
                    try buildNexus(feed: feed)
                }
                // Models after the nexus step read the built tables, mostly by index.
                if case .nexus = node { try warehouse.useReadCache() }
            }
            let t0 = now()
            try swap()
            record(StepResult(kind: "swap", name: "publish build", rows: staged.count, seconds: now() - t0, note: "relations replaced in one transaction"))
        } catch {
            try? dropStaged()
            throw error
        }
    }

    /// Drops every relation left under a staging name (by this run, or a killed one).
    func dropStaged() throws {
        for (name, kind) in try warehouse.relations() where name.hasPrefix(Runner.stagePrefix) {
            try warehouse.execute("DROP \(kind == .view ? "VIEW" : "TABLE") IF EXISTS \(warehouse.dialect.quote(name))")
        }
    }

    // MARK: seeds

    struct FileState: Equatable {
        var size: Int64
        var mtime: Double
        var hash: String
        var types: String
    }

    /// What a run does with one seed.
    enum SeedPlan {
        /// Kept as it is: the result to return, the state to record (a touched file), the note.
        case keep(String, FileState?, String)
        /// Loaded from its file.
        case load(FileState)
    }

    /// Plans made before their seed's turn (by `planFeed`).
    var seedPlans: [String: SeedPlan] = [:]

    /// Whether a seed's file changed since it was last loaded.
    func planSeed(_ seed: Seed) throws -> SeedPlan {
        let attrs = try FileManager.default.attributesOfItem(atPath: seed.absolutePath)
        let size = (attrs[.size] as? NSNumber)?.int64Value ?? 0
        let mtime = (attrs[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        let types = seed.config.columnTypes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.rawValue)" }.joined(separator: ",")
        let previous = try warehouse.query("SELECT size, mtime, hash, types FROM \(id: Runner.seedStateTable) WHERE name = \(seed.name)" as SQL).rows.first
        let exists = try warehouse.relationKind(seed.name) == .table
        var state = FileState(size: size, mtime: mtime, hash: "", types: types)
        if let p = previous, exists, p[3].string ?? "" == types {
            let old = FileState(size: { if case .integer(let v) = p[0] { return v } else { return -1 } }(),
                                mtime: { if case .real(let v) = p[1] { return v } else if case .integer(let v) = p[1] { return Double(v) } else { return -1 } }(),
                                hash: p[2].string ?? "", types: types)
            if old.size == size && old.mtime == mtime {
                return .keep(old.hash + "|" + types, nil, "unchanged")
            }
            state.hash = try FileHash.hash(path: seed.absolutePath)
            if old.size == size && old.hash == state.hash {
                return .keep(state.hash + "|" + types, state, "unchanged content")  // touched: record the new mtime
            }
        }
        return .load(state)
    }

    /// Loads a seed when its file changed; returns the content hash it is loaded from.
    func buildSeed(_ seed: Seed) throws -> String {
        let t0 = now()
        switch try seedPlans.removeValue(forKey: seed.name) ?? planSeed(seed) {
        case .keep(let result, let state, let note):
            if let state { seedStates.append((seed, state)) }
            record(StepResult(kind: "seed", name: seed.name, rows: nil, seconds: now() - t0, note: note))
            return result
        case .load(let state):
            return try loadSeed(seed, state, since: t0)
        }
    }

    func loadSeed(_ seed: Seed, _ planned: FileState, since t0: Double, tee: SeedTee? = nil, note: String? = nil) throws -> String {
        var state = planned
        // The load is bound by SQLite's thread and leaves part of a core idle: hash meanwhile.
        let hashing = state.hash.isEmpty ? FileHash.Job(path: seed.absolutePath) : nil
        let r: SeedLoader.Result
        do {
            r = try SeedLoader.load(file: seed.absolutePath, displayPath: seed.file, table: stage(seed.name),
                                    warehouse: warehouse, overrides: seed.config.columnTypes, tee: tee)
        } catch {
            _ = try? hashing?.wait()
            throw error
        }
        if let hashing { state.hash = try hashing.wait() }
        staged.insert(seed.name)
        seedStates.append((seed, state))
        record(StepResult(kind: "seed", name: seed.name, rows: r.rows, seconds: now() - t0, note: note))
        return state.hash + "|" + state.types
    }

    // MARK: engine reading seeds as they load

    /// The engine's reads taken from the seed loader: when the events, identifiers and traits
    /// each come from one seed that this run loads, the engine reads their rows as they are
    /// bound instead of reading them back from SQLite afterwards (at 1,000,000 persons that
    /// is 34M rows not decoded again). What it read is used only if the core views turn out
    /// to be plain projections of those seeds; otherwise it reads them as usual.
    final class SeedFeed {
        /// A fed seed: its file state to load from, and the entity types its source keeps.
        typealias Entry = (seed: Seed, state: FileState, entityTypes: [String]?)
        let seeds: [SourceContract.Kind: Entry]
        var results: [String: String] = [:]
        var usable = true
        var replay: [(EngineContext) -> Void] = []
        init(seeds: [SourceContract.Kind: Entry]) { self.seeds = seeds }
        func contains(_ name: String) -> Bool { seeds.values.contains { $0.seed.name == name } }
    }

    /// A feed when this run can use one.
    func planFeed() throws -> SeedFeed? {
        guard engine is NativeEngine else { return nil }
        var seeds: [SourceContract.Kind: SeedFeed.Entry] = [:]
        for (kind, _) in NativeEngine.reads {
            let ins = sourceInputs(kind)
            guard ins.count == 1, !project.models.contains(where: { $0.name == ins[0].relation }),
                  let seed = project.seeds.first(where: { $0.name == ins[0].relation }) else { return nil }
            let plan = try planSeed(seed)
            seedPlans[seed.name] = plan  // kept for buildSeed: planning may have hashed the file
            guard case .load(let state) = plan else { return nil }
            seeds[kind] = (seed, state, ins[0].entityTypes)
        }
        return SeedFeed(seeds: seeds)
    }

    /// Loads the feed's three seeds, handing their rows to the engine as they load.
    func loadFeed(_ feed: SeedFeed) throws {
        guard let native = engine as? NativeEngine else { return }
        var replay: [(EngineContext) -> Void] = []
        var ctx = EngineContext(entityTypes: project.config.entityTypes, processedAt: processedAt, physicalName: { $0 },
                                progress: { step, rows, secs in replay.append { $0.progress(step, rows, secs) } },
                                warn: { message in replay.append { $0.warn(message) } })
        ctx.relationRows = { name, rows in replay.append { $0.relationRows(name, rows) } }
        func source(_ kind: SourceContract.Kind) -> NativeEngine.RowSource {
            { [unowned self] body in
                let (seed, state, types) = feed.seeds[kind]!
                try withoutActuallyEscaping(body) { body in
                    let tee = SeedTee(columns: NativeEngine.columns(reading: kind), keeping: kind == .events ? nil : types, body: body)
                    feed.results[seed.name] = try loadSeed(seed, state, since: now(), tee: tee, note: "rows read by the engine as they loaded")
                    if tee.broken { feed.usable = false }
                }
            }
        }
        do {
            try native.prefetch(ctx, rows: source)
            feed.replay = replay
        } catch {
            // A seed that failed to load fails again, with the same error, when it is loaded
            // the usual way; the engine's own errors come when it reads the core views.
            native.discardPrefetch()
            feed.usable = false
        }
    }

    // MARK: models

    /// Renders a model's SQL, with `ref()` resolved by `resolve`.
    public static func render(_ model: Model, project: Project, dialect: any SQLDialect, resolve: @escaping (String) -> String,
                              catalog: @escaping (String) throws -> [ColumnInfo]? = { _ in nil }) throws -> String {
        let renderer = TemplateRenderer(functions: TemplateFunctions.functions(project: project, dialect: dialect, resolve: resolve, catalog: catalog))
        return try renderer.render(model.template)
    }

    func buildModel(_ model: Model) throws {
        let t0 = now()
        for w in model.warnings { reporter.warning(w) }
        let sql = try Runner.render(model, project: project, dialect: warehouse.dialect, resolve: { [unowned self] in
            self.warehouse.dialect.quote(self.physical($0))
        }, catalog: { [unowned self] in try self.warehouse.columns(of: self.physical($0)) })
        let body = warehouse.dialect.adapt(Runner.stripTrailingSemicolons(sql))
        var rows: Int? = nil
        var materialized = model.materialized
        var note: String? = nil
        // A view must open in every client of the warehouse; one that needs nexus's own
        // functions is stored as a table instead.
        let needs = warehouse.nexusOnlyFunctions(calledBy: body)
        if materialized == .view, !needs.isEmpty {
            materialized = .table
            note = "stored as a table, not a view: it calls \(needs.joined(separator: ", ")), which only nexus adds to SQLite"
        }
        do {
            switch materialized {
            case .view:
                try warehouse.execute("CREATE VIEW \(warehouse.dialect.quote(stage(model.name))) AS \(body)")
                let project = self.project, d = warehouse.dialect, w = warehouse
                stagedViews.append((model.name, {
                    d.adapt(Runner.stripTrailingSemicolons(try Runner.render(model, project: project, dialect: d, resolve: { d.quote($0) },
                                                                             catalog: { try w.columns(of: $0) })))
                }))
            case .table:
                rows = try warehouse.createTable(stage(model.name), as: body)
                try buildIndexes(model.indexes, on: model.name, table: stage(model.name), owner: "config(indexes=…)",
                                 at: SourceLocation(file: model.file, model: model.name))
                try analyzeStaged(model.name)
            }
        } catch let e as NexusError where e.code == "index" {
            throw e
        } catch let e as NexusError {
            if e.code == "contract" { throw e.adding(model: model.name, file: model.file) }
            throw NexusError("sql", "model failed: \(e.message)", at: SourceLocation(file: model.file, model: model.name))
        }
        staged.insert(model.name)
        record(StepResult(kind: materialized == .view ? "view" : "model", name: model.name, rows: rows, seconds: now() - t0, note: note))
    }

    static func stripTrailingSemicolons(_ sql: String) -> String {
        var s = Substring(sql)
        while let last = s.last, last == ";" || last == " " || last == "\n" || last == "\t" || last == "\r" { s = s.dropLast() }
        return String(s)
    }

    // MARK: nexus tables

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
        for kind in SourceContract.Kind.allCases {
            let t0 = now()
            let ins = sourceInputs(kind)
            let union = try core.union(kind: kind, inputs: ins, processedAt: kind == .events ? processedAt : nil)
            plain[kind] = union.plain
            if union.converts {
                let columns = kind.coreColumns.map { (name: $0.name, type: d.typeName($0.type)) }
                let rows = try warehouse.transaction { try warehouse.createTable(stage(kind.coreTable), columns: columns, as: union.sql) }
                staged.insert(kind.coreTable)
                record(StepResult(kind: "nexus", name: kind.coreTable, rows: rows, seconds: now() - t0, note: "table: source columns converted"))
                continue
            }
            try warehouse.execute("CREATE VIEW \(d.quote(stage(kind.coreTable))) AS \(union.sql)")
            let finalInputs = ins.map { i -> SourceInput in var f = i; f.physicalName = i.relation; return f }
            let pat = processedAt
            stagedViews.append((kind.coreTable, { try core.unionSQL(kind: kind, inputs: finalInputs, processedAt: kind == .events ? pat : nil) }))
            staged.insert(kind.coreTable)
            record(StepResult(kind: "nexus", name: kind.coreTable, rows: nil, seconds: now() - t0, note: "view over \(ins.count) source relation(s)"))
        }
        for name in project.nexusRelations { staged.insert(name) }
        let context = EngineContext(
            entityTypes: cfg.entityTypes, processedAt: processedAt,
            physicalName: { [unowned self] in self.stage($0) },
            progress: { [unowned self] step, rows, secs in self.record(StepResult(kind: "engine", name: step, rows: rows, seconds: secs, note: nil)) },
            warn: { [unowned self] in self.reporter.warning($0) })
        var ctx = context
        ctx.relationRows = { [unowned self] name, rows in self.relationRows[name] = rows }
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
    }

    // MARK: indexes

    /// Tables to bring the planner's statistics up to date for at the swap (final names),
    /// besides the staged tables.
    var analyzeAlso: Set<String> = []

    /// Builds `specs` on `table`, the relation `name` in this build (its staging copy when this
    /// run rebuilds it), each unless an index on the same columns is there already. Returns
    /// how many it built.
    @discardableResult
    func buildIndexes(_ specs: [IndexSpec], on name: String, table: String, owner: String, at location: SourceLocation) throws -> Int {
        guard !specs.isEmpty else { return 0 }
        let columns = try warehouse.columns(of: table) ?? []
        var have = try warehouse.indexes(on: table)
        var built = 0
        for spec in specs {
            for c in spec.columns where !columns.contains(where: { $0.name == c }) {
                throw NexusError("index", "\(owner): index \(spec) names column '\(c)', which \(name) does not have (it has: \(columns.map(\.name).joined(separator: ", ")))", at: location)
            }
            if have.contains(spec.columns) { continue }
            do {
                try warehouse.createIndex(spec, on: table, name: "\(name)__\(spec.columns.joined(separator: "_"))")
            } catch let e as NexusError {
                throw NexusError("index", "\(owner): index \(spec) on \(name) failed: \(e.message)", at: location)
            }
            have.append(spec.columns)
            built += 1
        }
        if built > 0, !staged.contains(name) { analyzeAlso.insert(name) }
        return built
    }

    /// nexus's own indexes and those nexus.yml asks for, on the tables this run built. Where a
    /// core relation is a view, its indexes go on the source tables under it.
    func buildNexusIndexes() throws {
        let t0 = now()
        let cfg = project.config
        let location = SourceLocation(file: "nexus.yml")
        var specs = NexusIndexes.defaults(entityTypes: cfg.entityTypes)
        for (table, extra) in cfg.indexes {
            guard project.nexusRelations.contains(table) else {
                throw NexusError("index", "nexus.yml indexes: '\(table)' is not a nexus table (nexus tables: \(project.nexusRelations.joined(separator: ", ")))", at: location)
            }
            specs[table, default: []] += extra
        }
        var built = 0
        var identifierTypes: Set<String> = []
        for name in project.nexusRelations {
            var list = specs[name] ?? []
            if name == "nexus_entities" {
                let columns = try warehouse.columns(of: physical(name))?.map(\.name) ?? []
                list = NexusIndexes.entityLookups(columns: columns, identifierTypes: identifierTypes) + list
            }
            guard !list.isEmpty else { continue }
            if try warehouse.relationKind(physical(name)) == .view {
                guard let kind = SourceContract.Kind.allCases.first(where: { $0.coreTable == name }) else { continue }
                for input in sourceInputs(kind) where try warehouse.relationKind(input.physicalName) == .table {
                    built += try buildIndexes(list, on: input.relation, table: input.physicalName, owner: "indexes of \(name)", at: location)
                }
                continue
            }
            built += try buildIndexes(list, on: name, table: physical(name), owner: "indexes of \(name)", at: location)
            if name.hasPrefix("nexus_resolved_"), name.hasSuffix("_identifiers") {
                identifierTypes.formUnion(try distinctValues(of: "identifier_type", in: physical(name)))
            }
        }
        // Models built after this step read these tables: give the planner their statistics now.
        for name in project.nexusRelations where staged.contains(name) { try analyzeStaged(name) }
        record(StepResult(kind: "nexus", name: "indexes", rows: nil, seconds: now() - t0,
                          note: "\(built) index\(built == 1 ? "" : "es") on the keys models join on; planner statistics"))
    }

    /// Staged tables whose statistics were gathered during the build (final names); the swap
    /// moves their statistics to the final names instead of reading the tables again.
    var analyzedStaged: Set<String> = []

    /// Planner statistics for a relation this run built (a table), under its staging name.
    func analyzeStaged(_ name: String) throws {
        guard try warehouse.relationKind(stage(name)) == .table else { return }
        try warehouse.analyze([stage(name)])
        analyzedStaged.insert(name)
    }

    /// The distinct values of an indexed column, one index probe each (not a scan).
    func distinctValues(of column: String, in table: String) throws -> Set<String> {
        let d = warehouse.dialect, c = d.quote(column), t = d.quote(table)
        return Set(try warehouse.query("""
            WITH RECURSIVE v(x) AS (SELECT min(\(c)) FROM \(t) UNION ALL SELECT (SELECT min(\(c)) FROM \(t) WHERE \(c) > v.x) FROM v WHERE v.x IS NOT NULL)
            SELECT x FROM v WHERE x IS NOT NULL
            """).rows.compactMap { $0[0].string })
    }

    // MARK: swap

    func swap() throws {
        let d = warehouse.dialect
        try warehouse.execute("PRAGMA legacy_alter_table=ON")
        defer { try? warehouse.execute("PRAGMA legacy_alter_table=OFF") }
        let viewNames = Set(stagedViews.map(\.name))
        try warehouse.transaction {
            // Views first: they may refer to the tables being replaced.
            for v in stagedViews { try warehouse.execute("DROP VIEW IF EXISTS \(d.quote(stage(v.name)))") }
            for name in staged.sorted() {
                switch try warehouse.relationKind(name) {
                case .view?: try warehouse.execute("DROP VIEW \(d.quote(name))")
                case .table?: try warehouse.execute("DROP TABLE \(d.quote(name))")
                case nil: break
                }
            }
            for name in staged.sorted() where !viewNames.contains(name) {
                try warehouse.execute("ALTER TABLE \(d.quote(stage(name))) RENAME TO \(d.quote(name))")
            }
            for v in stagedViews {
                try warehouse.execute("CREATE VIEW \(d.quote(v.name)) AS \(try v.finalSQL())")
            }
            // The planner's statistics for every table this build replaced or indexed: those
            // gathered under staging names move to the final names (sqlite_stat1 rows name
            // tables, and a rename leaves them behind); the others are gathered now.
            try warehouse.moveStatistics(analyzedStaged.sorted().map { (from: stage($0), to: $0) })
            let tables = try staged.union(analyzeAlso).subtracting(analyzedStaged).sorted().filter { try warehouse.relationKind($0) == .table }
            try warehouse.analyze(tables)
            for (seed, state) in seedStates {
                try warehouse.execute("""
                    INSERT OR REPLACE INTO \(id: Runner.seedStateTable) (name, path, size, mtime, hash, types)
                    VALUES (\(seed.name), \(seed.file), \(state.size), \(state.mtime), \(state.hash), \(state.types))
                    """ as SQL)
            }
        }
    }
}
