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
    public let warehouse: any Warehouse
    let reporter: any RunReporter
    let processedAt: Int64
    let engine: any NexusEngine

    /// Relations being rebuilt in this run (final names).
    var staged: Set<String> = []
    /// The same, in the order they were built: a relation reads only ones before it, so the
    /// reverse order drops dependents first (a server refuses to drop what a view reads).
    var stagedOrder: [String] = []
    /// Views built in this run, with the SQL to recreate each under its final name at the swap.
    var stagedViews: [(name: String, finalSQL: () throws -> String)] = []
    var seedStates: [(Seed, FileState)] = []
    public internal(set) var results: [StepResult] = []
    /// Called once the run holds the warehouse (after waiting for another run, if one held it).
    public var started: (() -> Void)?
    /// Rows of each nexus relation in the published build (from the engine, or from the
    /// last build's record when the run was up to date).
    public internal(set) var relationRows: [String: Int] = [:]

    public init(project: Project, warehouse: any Warehouse, reporter: any RunReporter,
                processedAt: Int64? = nil, engine: (any NexusEngine)? = nil) {
        self.project = project
        self.warehouse = warehouse
        self.reporter = reporter
        self.processedAt = processedAt ?? Runner.defaultProcessedAt()
        self.engine = engine ?? (Runner.engineName(project) == "sql" ? SQLEngine() : NativeEngine())
    }

    /// The engine a run uses: `engine:` in nexus.yml, else native on SQLite and PostgreSQL:
    /// measured on this project's 2-core machine it is the faster of the two by far there
    /// (1,000,000 persons cold: native 183 s, sql 586 s), and exact; `engine: sql` keeps the
    /// data in the warehouse and nexus's memory small instead. On Snowflake the default is sql:
    /// the data stays where it is and the warehouse's compute does the work, instead of every
    /// row crossing the SQL API twice.
    public static func engineName(_ project: Project) -> String {
        project.config.engine ?? (project.config.warehouse.type == "snowflake" ? "sql" : "native")
    }

    /// The build time: `SOURCE_DATE_EPOCH` when set (for reproducible builds), else now.
    public static func defaultProcessedAt() -> Int64 {
        if let s = ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"], let secs = Int64(s) { return secs * 1_000_000 }
        return Timestamp.now()
    }

    /// Opens (connects to) the project's warehouse.
    public static func openWarehouse(_ project: Project) throws -> any Warehouse {
        try Warehouses.open(project)
    }

    func stage(_ name: String) -> String { Runner.stagePrefix + name }

    func markStaged(_ name: String) {
        if staged.insert(name).inserted { stagedOrder.append(name) }
    }

    /// The name to read a relation by in this run.
    func physical(_ name: String) -> String { staged.contains(name) ? stage(name) : name }

    func record(_ r: StepResult) {
        results.append(r)
        reporter.step(r)
    }

    /// Warnings of this run, kept for the build log.
    var warnings: [String] = []

    func warn(_ message: String) {
        warnings.append(message)
        reporter.warning(message)
    }

    func now() -> Double { Date().timeIntervalSince1970 }

    /// Runs the whole build. On error every staged relation is dropped and the error rethrown.
    ///
    /// - Parameter force: rebuild even when nothing changed since the last successful build.
    /// - Returns: false when the build was already up to date and nothing was rebuilt.
    @discardableResult
    public func run(force: Bool = false) throws -> Bool {
        let t0 = now()
        fullRun = force
        // One build at a time per warehouse: a run drops staging tables it finds (a killed
        // run's), which would be another live run's.
        let lock = try warehouse.lock(.build, timeout: project.config.warehouse.lockTimeout)
        defer { lock.release() }
        started?()
        let fingerprint = try BuildState.fingerprint(project)
        // The last build's record counts only while the warehouse is as that build left it
        // (a warehouse that cannot tell keeps no record: every run builds again).
        let last = BuildState.load(warehouse)
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
        try build(previous: previous)
        let log = BuildLog(processedAt: Timestamp.format(processedAt), engine: engine.identity, seconds: now() - t0,
                           steps: results.map(BuildLog.Step.init), warnings: warnings, relationRows: relationRows)
        try BuildState(fingerprint: fingerprint, changeCounter: 0, relationRows: relationRows, nodes: nodeFingerprints).save(warehouse, log: log)
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
            return common + "|" + sources + "|" + engine.identity + "|" + indexes + "|" + cfg.edgeQuality.fingerprint + (cfg.incremental ? "|incremental" : "")
        case .seed:
            return common
        }
    }

    /// Builds every node (those `previous` fingerprints as unchanged are kept) into staging,
    /// then publishes it, unless `publish` is false (`nexus compile` writes the publish down
    /// instead).
    func build(previous: [String: String], publish: Bool = true) throws {
        try dropStaged()
        let d = warehouse.dialect
        let text = d.typeName(.text)
        try warehouse.execute("CREATE TABLE IF NOT EXISTS \(d.quote(Runner.seedStateTable)) (name \(text) PRIMARY KEY, path \(text), size \(d.typeName(.integer)), mtime \(d.typeName(.real)), hash \(text), types \(text))")
        let plan = try BuildPlan.make(project)
        try warehouse.installCompatibilityFunctions()
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
                        try reportKeptEdgeQuality()
                        try reportLargestEntities()
                        continue
                    }
                    relationRows = [:]
                    try buildNexus(feed: feed)
                }
                // Models after the nexus step read the built tables, mostly by index.
                if case .nexus = node { try warehouse.useReadCache() }
            }
            guard publish else { return }
            let t0 = now()
            try swap()
            record(StepResult(kind: "swap", name: "publish build", rows: staged.count, seconds: now() - t0, note: "relations replaced in one transaction"))
        } catch {
            try? warehouse.withoutStatementTimeout { try dropStaged() }
            throw error
        }
    }

    /// Drops every relation left under a staging name (by this run, or a killed one).
    func dropStaged() throws {
        // A killed run's order is unknown, and a server refuses to drop a relation a view
        // still reads: views first, in passes until none is left (each pass drops at least
        // the views nothing else reads), then tables.
        var views = try warehouse.relations().filter { $0.name.hasPrefix(Runner.stagePrefix) && $0.kind == .view }.map(\.name)
        while !views.isEmpty {
            var left: [String] = []
            var lastError: Error?
            for name in views {
                do { try warehouse.execute("DROP VIEW IF EXISTS \(warehouse.dialect.quote(name))") } catch { left.append(name); lastError = error }
            }
            if left.count == views.count, let lastError { throw lastError }
            views = left
        }
        for (name, kind) in try warehouse.relations() where name.hasPrefix(Runner.stagePrefix) && kind == .table {
            try warehouse.execute("DROP TABLE IF EXISTS \(warehouse.dialect.quote(name))")
        }
    }

    /// Plans made before their seed's turn (by `planFeed`).
    var seedPlans: [String: SeedPlan] = [:]
    /// Tables to bring the planner's statistics up to date for at the swap (final names),
    /// besides the staged tables.
    var analyzeAlso: Set<String> = []
    /// Set by `nexus compile`: every seed loads, whatever its file state.
    var loadsEverySeed = false
    /// `--full`: with `incremental: true`, resolution starts afresh (ids minted again).
    var fullRun = false
    /// What incremental resolution did in this run, kept for the publish.
    var resolutionOutcome: IncrementalResolution.Outcome?
    /// Where the engine's parts of a step end (`EngineContext.checkpoint`).
    var checkpoint: (String) -> Void = { _ in }
    /// Staged tables whose statistics were gathered during the build (final names); the swap
    /// moves their statistics to the final names instead of reading the tables again.
    var analyzedStaged: Set<String> = []
}
