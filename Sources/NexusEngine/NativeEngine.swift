import NexusCore
import NexusSQL
import NexusWarehouse

#if canImport(Glibc)
import Glibc
#endif

#if os(Linux)
/// glibc's `malloc_trim` (in malloc.h, which the Glibc module leaves out).
@_silgen_name("malloc_trim") func nexus_malloc_trim(_ pad: Int) -> Int32
#endif

/// The embedded engine: every nexus step in Swift over compact in-memory columns.
///
/// Identity resolution is exact connected components (union–find): every identifier
/// occurrence is united with the first occurrence of its `(entity_type, edge_id)` group, so
/// the cost is linear in occurrences and no pair table is ever built.
public final class NativeEngine: NexusEngine {
    public init() {}

    public var identity: String { "native-1" }

    static let missing = Int64.min

    // Nodes: one per (entity_type, identifier_type, identifier_value).
    var nodes = StringPool(capacity: 1 << 16)
    var nodeEType: [UInt8] = []
    var parent: [Int32] = []
    var size: [Int32] = []
    var nodeMinOccurred: [Int64] = []
    var nodeBestEdge: [Int32] = []
    var nodeBestEvent: [Int32] = []

    /// Per entity type, by edge id (in `edges`): the group of that (entity type, edge_id), or -1.
    var edgeGroup: [[Int32]] = []
    var groupCount: Int32 = 0
    /// Per node: 0, or why it resolves to no entity (`ignoredNode`, `orphanNode`).
    var nodeExcluded: [UInt8] = []
    static let ignoredNode: UInt8 = 1
    static let orphanNode: UInt8 = 2
    /// The blocklist (`edge_quality.ignore`), as node keys without the entity type byte.
    var ignoredKeys = StringPool(capacity: 16)
    /// Sources of identifier rows (NULL as `NULL`).
    var sources = StringPool(capacity: 64)
    /// What edge quality found, written as `nexus_edge_quality`.
    var quality = EdgeQualityReport()
    /// While edge quality is judged: each candidate's groups, each node's candidate index
    /// (-1: none) and value (in `values`).
    var candidateGroups = Groups(start: [], members: [])
    var candidateIndex: [Int32] = []
    var valueOf: [Int32] = []
    var values = StringPool(capacity: 16)

    /// Edge ids in `CompactID` spelling, while identifiers are read: only unions and the
    /// mapping's smallest-edge rule need them, so they are dropped before traits are read
    /// (at 1,000,000 persons with `create_nexus_id` edge ids, about 0.5 GB).
    var edges = StringPool(capacity: 1 << 16)

    var events = StringPool(capacity: 1 << 16)
    var eventOccurred: [Int64] = []

    var roles = StringPool(capacity: 64)
    var occNode: [Int32] = []
    var occEvent: [Int32] = []
    var occRole: [Int32] = []
    var occHasEdge: [Bool] = []
    /// Per occurrence: its (entity type, edge_id) group, or -1 (no edge_id, or ignored); its source.
    var occGroup: [Int32] = []
    var occSource: [Int32] = []

    var watermark: [Int64] = []

    // Entities.
    var entityOfNode: [Int32] = []
    var entityRep: [Int32] = []
    var entityEType: [UInt8] = []
    var entityIDs = StringPool(capacity: 1 << 16)
    var entityRank: [Int32] = []
    var entityOrder: [Int32] = []

    var etypes: [String] = []
    var etypePool = StringPool(capacity: 16)

    // Incremental resolution (`IncrementalResolution`): the last mapping, each node's change,
    // what the run did; identifier rows at or before the last watermark, and after it.
    var incremental: IncrementalResolution?
    var prior: PriorMapping?
    var changes: [Change] = []
    var incrementalOutcome = IncrementalResolution.Outcome(state: .init(watermark: NativeEngine.missing, occurrences: 0))
    var lateLimit = Int64.min
    var rowsThrough = 0
    var rowsAfter = 0

    /// Where node keys are assembled for lookups.
    let keyBuffer = ByteBuffer()

    /// Streams the rows of one core relation, in the engine's column order, into `body`.
    public typealias RowSource = ((BatchRow) throws -> Void) throws -> Void

    /// The core relations the engine reads, in its reading order, each with the columns it
    /// reads in the order it reads them.
    public static let reads: [(kind: SourceContract.Kind, columns: [String])] = [
        (.events, ["event_id", "occurred_at", "source"]),
        (.identifiers, ["entity_type", "identifier_type", "identifier_value", "edge_id", "event_id", "role", "occurred_at", "_ingested_at", "source"]),
        (.traits, ["entity_type", "identifier_type", "identifier_value", "trait_name", "trait_value", "occurred_at", "_ingested_at", "entity_trait_id", "source"]),
    ]

    /// The columns the engine reads from one of `reads`.
    public static func columns(reading kind: SourceContract.Kind) -> [String] { reads.first { $0.kind == kind }!.columns }

    /// The build's edge-quality rules.
    var rules = EdgeQualityRules()

    /// Inputs already read by `prefetch`, waiting for `run`.
    var prefetched: Traits?

    /// Reads the core relations of `reads` from `rows` (events, identifiers, then
    /// traits) and resolves identities, ahead of `run`; `run` then only writes. The runner
    /// uses it to take rows straight from the seed loader while the seeds load, instead of
    /// reading them back from SQLite; it must feed exactly the rows the core views would give.
    public func prefetch(_ context: EngineContext, rows: (SourceContract.Kind) -> RowSource) throws {
        prefetched = nil
        try begin(context)
        prefetched = try readInputs(context, rows: rows)
    }

    /// Forgets what `prefetch` read; the next `run` reads the core relations itself.
    public func discardPrefetch() { prefetched = nil }

    public func run(_ context: EngineContext, warehouse: any Warehouse) throws {
        // What the engine holds (about 2 GB at 1,000,000 persons) goes back to the system as
        // soon as it has written, so that the models built after it can use SQLite's cache.
        defer { release() }
        let name = context.physicalName
        let traits: Traits
        if let p = prefetched {
            traits = p
            prefetched = nil
        } else {
            try begin(context)
            traits = try readInputs(context) { kind in
                let sql = "SELECT \(NativeEngine.columns(reading: kind).joined(separator: ", ")) FROM \(warehouse.dialect.quote(name(kind.coreTable)))"
                return { body in try warehouse.scanPipelined(sql, body) }
            }
        }
        var t0 = clock()
        var rows = try quality.write(warehouse, table: name("nexus_edge_quality"), rules: rules)
        context.relationRows("nexus_edge_quality", rows)
        rows = 0
        for (t, type) in etypes.enumerated() {
            let n = try writeMapping(warehouse, name("nexus_resolved_\(type)_identifiers"), etype: t, context)
            context.relationRows("nexus_resolved_\(type)_identifiers", n)
            rows += n
        }
        context.progress("resolved identifiers", rows, clock() - t0)
        if let inc = incremental {
            t0 = clock()
            let logged = try writeLog(warehouse, name("nexus_resolution_log"), inc)
            context.progress("resolution log", logged, clock() - t0)
            context.relationRows("nexus_resolution_log", logged)
        }

        t0 = clock()
        rows = try writeResolvedTraits(warehouse, name("nexus_resolved_entity_traits"), traits, context)
        context.progress("resolved traits", rows, clock() - t0)
        context.relationRows("nexus_resolved_entity_traits", rows)

        t0 = clock()
        let interactions = try writeParticipants(warehouse, name("nexus_entity_participants"), context)
        context.progress("participants", interactions.rows, clock() - t0)
        context.relationRows("nexus_entity_participants", interactions.rows)

        t0 = clock()
        rows = try writeEntities(warehouse, name("nexus_entities"), traits, interactions, context)
        context.progress("entities", rows, clock() - t0)
        context.relationRows("nexus_entities", rows)

        t0 = clock()
        rows = try writeRelationships(warehouse, name("nexus_relationship_declarations"), name("nexus_relationships"), context)
        context.progress("relationships", rows, clock() - t0)
        context.relationRows("nexus_relationship_declarations", rowsRead)
        context.relationRows("nexus_relationships", rows)
        // The run's context, not the one kept from `prefetch` (the seed feed replays that one early).
        if prior != nil { context.incremental?.report(incrementalOutcome) }
    }

    /// Drops everything one build read, and hands freed heap back to the system (glibc keeps
    /// freed memory in its arenas otherwise, and the process's resident size with it).
    func release() {
        clear(poolCapacity: 16)
        #if os(Linux)
        _ = nexus_malloc_trim(0)
        #endif
    }

    /// Empties every array and pool a build fills, pools sized for `poolCapacity` strings.
    func clear(poolCapacity: Int) {
        nodes = StringPool(capacity: poolCapacity)
        nodeEType = []; parent = []; size = []; nodeMinOccurred = []; nodeBestEdge = []; nodeBestEvent = []
        nodeExcluded = []; occGroup = []; occSource = []; groupCount = 0
        sources = StringPool(capacity: 64); ignoredKeys = StringPool(capacity: 16); quality = EdgeQualityReport()
        events = StringPool(capacity: poolCapacity)
        edges = StringPool(capacity: poolCapacity)
        eventOccurred = []
        roles = StringPool(capacity: 64)
        occNode = []; occEvent = []; occRole = []; occHasEdge = []
        entityOfNode = []; entityRep = []; entityEType = []
        entityIDs = StringPool(capacity: poolCapacity)
        entityRank = []; entityOrder = []
        etypePool = StringPool(capacity: 16)
        edgeGroup = []
        prior = nil; changes = []
    }

    /// Fresh state for one build.
    func begin(_ context: EngineContext) throws {
        clear(poolCapacity: 1 << 16)
        dayCache = Timestamp.DayCache()
        lastEType = 0
        etypes = context.entityTypes
        for t in etypes { _ = etypePool.intern(t) }
        var prefixes: [String: String] = [:]
        for t in etypes {
            let p = NexusID.prefix(for: t)
            if let other = prefixes[p] {
                throw NexusError("config", "entity types '\(other)' and '\(t)' would share the id prefix '\(p)_'; rename one", at: SourceLocation(file: "nexus.yml"))
            }
            prefixes[p] = t
        }
        watermark = [Int64](repeating: NativeEngine.missing, count: etypes.count)
        incremental = context.incremental
        prior = nil
        changes = []
        incrementalOutcome = IncrementalResolution.Outcome(state: .init(watermark: NativeEngine.missing, occurrences: 0))
        lateLimit = context.incremental?.previous?.watermark ?? Int64.min
        rowsThrough = 0
        rowsAfter = 0
        edgeGroup = [[Int32]](repeating: [], count: etypes.count)
        rules = context.edgeQuality
        for (type, values) in rules.ignore {
            for v in values { _ = (Array(type.utf8) + [0] + Array(v.utf8)).withUnsafeBytes { ignoredKeys.intern($0) } }
        }
    }

    /// Reads events and identifiers, resolves identities, then reads traits.
    func readInputs(_ context: EngineContext, rows: (SourceContract.Kind) -> RowSource) throws -> Traits {
        var t0 = clock()
        try readEvents(rows(.events))
        context.progress("read events", events.count, clock() - t0)
        context.relationRows("nexus_events", events.count)
        t0 = clock()
        try readIdentifiers(rows(.identifiers), context)
        context.progress("read identifiers", rowsRead, clock() - t0)
        context.relationRows("nexus_entity_identifiers", rowsRead)
        t0 = clock()
        if let inc = incremental {
            try loadPrior(inc)
            context.progress("read the last mapping", prior?.count.count ?? 0, clock() - t0)
            t0 = clock()
        }
        // Edges only group occurrences; events are only read by id from here on.
        edgeGroup = []
        edges = StringPool(capacity: 16)
        nodeBestEdge = []
        events.dropLookup()
        try judgeAndLink(context)
        contractPrior()
        resolveComponents()
        if let prior {
            changes = classifyChanges(prior)
            var o = incrementalOutcome
            o.state = .init(watermark: watermark.max() ?? NativeEngine.missing, occurrences: occNode.count)
            o.afterWatermark = rowsAfter
            o.late = max(0, rowsThrough - (incremental?.previous?.occurrences ?? 0))
            incrementalOutcome = o
        }
        context.progress("identity resolution", entityRep.count, clock() - t0)
        t0 = clock()
        let traits = try readTraits(rows(.traits), context)
        context.progress("read traits", rowsRead, clock() - t0)
        context.relationRows("nexus_entity_traits", rowsRead)
        return traits
    }

    /// Rows read by the last scan of a core relation.
    var rowsRead = 0

    func clock() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    // Kept from row to row by the readers: parsed days, the last entity type matched.
    var dayCache = Timestamp.DayCache()
    var lastEType: Int32 = 0
}
