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

    /// Per entity type, by edge id (in `edges`): the first node seen under that edge, or -1.
    var edgeFirstNode: [[Int32]] = []

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

    /// Where node keys are assembled for lookups.
    let keyBuffer = ByteBuffer()

    /// Streams the rows of one core relation, in the engine's column order, into `body`.
    public typealias RowSource = ((BatchRow) throws -> Void) throws -> Void

    /// The core relations the engine reads, in its reading order, each with the columns it
    /// reads in the order it reads them.
    public static let reads: [(kind: SourceContract.Kind, columns: [String])] = [
        (.events, ["event_id", "occurred_at", "source"]),
        (.identifiers, ["entity_type", "identifier_type", "identifier_value", "edge_id", "event_id", "role", "occurred_at", "_ingested_at"]),
        (.traits, ["entity_type", "identifier_type", "identifier_value", "trait_name", "trait_value", "occurred_at", "_ingested_at", "entity_trait_id", "source"]),
    ]

    /// The columns the engine reads from one of `reads`.
    public static func columns(reading kind: SourceContract.Kind) -> [String] { reads.first { $0.kind == kind }!.columns }

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
        // The native engine reads and writes SQLite's own cursors and statements; warehouses
        // that are servers run the same steps as SQL instead.
        guard let warehouse = warehouse as? SQLiteWarehouse else {
            throw NexusError("engine", "the native engine runs on the embedded SQLite warehouse")
        }
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
        var rows = 0
        for (t, type) in etypes.enumerated() {
            let n = try writeMapping(warehouse, name("nexus_resolved_\(type)_identifiers"), etype: t, context)
            context.relationRows("nexus_resolved_\(type)_identifiers", n)
            rows += n
        }
        context.progress("resolved identifiers", rows, clock() - t0)

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
        events = StringPool(capacity: poolCapacity)
        edges = StringPool(capacity: poolCapacity)
        eventOccurred = []
        roles = StringPool(capacity: 64)
        occNode = []; occEvent = []; occRole = []; occHasEdge = []
        entityOfNode = []; entityRep = []; entityEType = []
        entityIDs = StringPool(capacity: poolCapacity)
        entityRank = []; entityOrder = []
        etypePool = StringPool(capacity: 16)
        edgeFirstNode = []
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
        edgeFirstNode = [[Int32]](repeating: [], count: etypes.count)
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
        // Edges only joined nodes; events are only read by id from here on.
        edgeFirstNode = []
        edges = StringPool(capacity: 16)
        nodeBestEdge = []
        events.dropLookup()
        resolveComponents()
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

    // MARK: reading

    @inline(__always)
    func timestamp(_ row: BatchRow, _ i: Int) -> Int64 {
        if row.isNull(i) { return NativeEngine.missing }
        return Timestamp.parseStored(row.bytes(i), days: &dayCache) ?? NativeEngine.missing
    }

    var dayCache = Timestamp.DayCache()

    func readEvents(_ source: RowSource) throws {
        var duplicates: [String] = []
        try source { row in
            if row.isNull(0) {
                throw NexusError("contract", "an event has a NULL event_id (source \(row.string(2) ?? "NULL"))", at: SourceLocation(relation: "nexus_events", columnName: "event_id"))
            }
            let before = events.count
            let id = row.withBytes(0) { events.intern($0) }
            if Int(id) < before {
                if duplicates.count < 5 { duplicates.append("\(row.string(0) ?? "") (source \(row.string(2) ?? "NULL"))") }
                return
            }
            let t = timestamp(row, 1)
            if t == NativeEngine.missing {
                throw NexusError("contract", "occurred_at is NULL (source \(row.string(2) ?? "NULL"))", at: SourceLocation(relation: "nexus_events", row: "event_id=\(row.string(0) ?? "")", columnName: "occurred_at"))
            }
            eventOccurred.append(t)
        }
        if !duplicates.isEmpty {
            throw NexusError("contract", "event_id must be unique across all sources; repeated: \(duplicates.joined(separator: ", "))", at: SourceLocation(relation: "nexus_events", columnName: "event_id"))
        }
    }

    /// The root of `x0`'s component, halving the path on the way (union–find).
    @inline(__always)
    static func root(_ x0: Int32, _ parent: inout [Int32]) -> Int32 {
        var x = x0
        while true {
            let p = parent[Int(x)]
            if p == x { return x }
            let gp = parent[Int(p)]
            parent[Int(x)] = gp
            x = gp
        }
    }

    /// Builds a node's key `[etype][identifier_type]\0[identifier_value]` in `key`.
    @inline(__always)
    static func nodeKey(_ key: ByteBuffer, _ etype: Int, _ row: BatchRow, type ti: Int, value vi: Int) {
        key.removeAll()
        key.append(UInt8(etype)); key.append(contentsOf: row.bytes(ti)); key.append(0); key.append(contentsOf: row.bytes(vi))
    }

    func etypeIndex(_ row: BatchRow, _ i: Int) -> Int? {
        if row.isNull(i) { return nil }
        let b = row.bytes(i)
        // Rows of one type come in runs: compare with the last type found first.
        if equalBytes(b, etypePool.bytes(lastEType)) { return Int(lastEType) }
        guard let t = etypePool.find(b) else { return nil }
        lastEType = t
        return Int(t)
    }

    var lastEType: Int32 = 0

    func readIdentifiers(_ source: RowSource, _ context: EngineContext) throws {
        var unknownTypes: [String: Int] = [:]
        var nullValues = 0
        rowsRead = 0
        // The hot loop works on locals (moved out of the engine and back), so that no access
        // to the engine's state costs a reference count or a uniqueness check on `self`.
        let nodes = self.nodes, events = self.events, edges = self.edges, roles = self.roles, key = self.keyBuffer
        let lastEdgeRaw = ByteBuffer(capacity: 64), edgeKey = ByteBuffer(capacity: 64)
        var lastEdge: Int32 = -1
        var nodeEType = take(&self.nodeEType), parent = take(&self.parent), size = take(&self.size)
        var nodeMinOccurred = take(&self.nodeMinOccurred), nodeBestEdge = take(&self.nodeBestEdge), nodeBestEvent = take(&self.nodeBestEvent)
        var eventOccurred = take(&self.eventOccurred), edgeFirstNode = take(&self.edgeFirstNode), watermark = take(&self.watermark)
        var occNode = take(&self.occNode), occEvent = take(&self.occEvent), occRole = take(&self.occRole), occHasEdge = take(&self.occHasEdge)
        defer {
            self.nodeEType = nodeEType; self.parent = parent; self.size = size
            self.nodeMinOccurred = nodeMinOccurred; self.nodeBestEdge = nodeBestEdge; self.nodeBestEvent = nodeBestEvent
            self.eventOccurred = eventOccurred; self.edgeFirstNode = edgeFirstNode; self.watermark = watermark
            self.occNode = occNode; self.occEvent = occEvent; self.occRole = occRole; self.occHasEdge = occHasEdge
        }
        @inline(__always) func union(_ a: Int32, _ b: Int32) {
            var ra = NativeEngine.root(a, &parent), rb = NativeEngine.root(b, &parent)
            if ra == rb { return }
            if size[Int(ra)] < size[Int(rb)] { swap(&ra, &rb) }
            parent[Int(rb)] = ra
            size[Int(ra)] += size[Int(rb)]
        }
        var lastEvent: Int32 = -1
        try source { row in
            rowsRead += 1
            guard let et = etypeIndex(row, 0) else {
                unknownTypes[row.string(0) ?? "NULL", default: 0] += 1
                return
            }
            if row.isNull(2) || row.isNull(1) { nullValues += 1; return }
            NativeEngine.nodeKey(key, et, row, type: 1, value: 2)
            let before = nodes.count
            let node = nodes.intern(key.bytes)
            if Int(node) == before {
                nodeEType.append(UInt8(et))
                parent.append(node)
                size.append(1)
                nodeMinOccurred.append(Int64.max)
                nodeBestEdge.append(-1)
                nodeBestEvent.append(-1)
            }
            let occurred = timestamp(row, 6)
            if occurred != NativeEngine.missing, occurred < nodeMinOccurred[Int(node)] { nodeMinOccurred[Int(node)] = occurred }
            let ingested = row.isNull(7) ? occurred : timestamp(row, 7)
            if ingested > watermark[et] { watermark[et] = ingested }

            // Event.
            var event: Int32 = -1
            if !row.isNull(4) {
                // An event's identifiers come in runs: try the last event before the pool.
                let eb = row.bytes(4)
                if lastEvent >= 0, equalBytes(eb, events.bytes(lastEvent)) {
                    event = lastEvent
                } else {
                    let evBefore = events.count
                    event = events.intern(eb)
                    if Int(event) == evBefore { eventOccurred.append(NativeEngine.missing) }
                    lastEvent = event
                }
            }
            // Edge: unite with the first node seen under the same (entity type, edge_id). An
            // edge's rows come in runs: try the last edge before the pool.
            var edge: Int32 = -1
            if !row.isNull(3) {
                let eb = row.bytes(3)
                if lastEdge >= 0, equalBytes(eb, lastEdgeRaw.bytes) {
                    edge = lastEdge
                } else {
                    edgeKey.removeAll()
                    CompactID.encode(eb, into: edgeKey)
                    edge = edges.intern(edgeKey.bytes)
                    lastEdge = edge
                    lastEdgeRaw.removeAll()
                    lastEdgeRaw.append(contentsOf: eb)
                }
                if edgeFirstNode[et].count <= Int(edge) {
                    edgeFirstNode[et].append(contentsOf: repeatElement(-1, count: max(edges.count, Int(edge) + 1) - edgeFirstNode[et].count))
                }
                let first = edgeFirstNode[et][Int(edge)]
                if first < 0 { edgeFirstNode[et][Int(edge)] = node } else { union(node, first) }
            }
            // The mapping's event_id: the occurrence with the smallest edge_id (NULL last), then smallest event_id.
            let best = nodeBestEdge[Int(node)]
            let bestEvent = nodeBestEvent[Int(node)]
            var better = false
            if bestEvent < 0 && best < 0 { better = true }
            else if edge >= 0 && best < 0 { better = true }
            else if edge >= 0 && best >= 0 {
                let c = edge == best ? 0 : CompactID.compare(edges.bytes(edge), edges.bytes(best))
                better = c < 0 || (c == 0 && event >= 0 && event != bestEvent && (bestEvent < 0 || events.compare(event, bestEvent) < 0))
            } else if edge < 0 && best < 0 {
                better = event >= 0 && (bestEvent < 0 || events.compare(event, bestEvent) < 0)
            }
            if better { nodeBestEdge[Int(node)] = edge; nodeBestEvent[Int(node)] = event }

            occNode.append(node)
            occEvent.append(event)
            var role: Int32 = -1
            if !row.isNull(5) { role = roles.intern(row.bytes(5)) }
            occRole.append(role)
            occHasEdge.append(edge >= 0)
        }
        for (t, n) in unknownTypes.sorted(by: { $0.key < $1.key }) {
            context.warn("nexus_entity_identifiers: \(n) row(s) of entity type '\(t)', which is not in entity_types, were ignored")
        }
        if nullValues > 0 { context.warn("nexus_entity_identifiers: \(nullValues) row(s) with a NULL identifier_type or identifier_value were ignored") }
    }

    // MARK: resolution

    func resolveComponents() {
        let n = nodes.count
        entityOfNode = [Int32](repeating: -1, count: n)
        var entityOfRoot = [Int32](repeating: -1, count: n)
        for i in 0..<n {
            let r = Int(NativeEngine.root(Int32(i), &parent))
            var e = entityOfRoot[r]
            if e < 0 {
                e = Int32(entityRep.count)
                entityOfRoot[r] = e
                entityRep.append(Int32(i))
                entityEType.append(nodeEType[i])
            } else if nodes.compare(Int32(i), entityRep[Int(e)]) < 0 {
                entityRep[Int(e)] = Int32(i)
            }
            entityOfNode[i] = e
        }
        parent = []
        size = []
        // Entity ids: <prefix>_ + md5("<identifier_type>-<identifier_value>") of the smallest identifier.
        let makers = etypes.map { IDMaker(kind: $0) }
        for e in 0..<entityRep.count {
            let ids = makers[Int(entityEType[e])]
            ids.input.removeAll()
            nodes.withBytes(entityRep[e]) { key in
                for k in 1..<key.count { ids.input.append(key[k] == 0 ? 45 : key[k]) }
            }
            _ = entityIDs.intern(ids.make())
        }
        // Deterministic output order: entity type (nexus.yml order), then entity id.
        var order = (0..<Int32(entityRep.count)).map { $0 }
        order.sort { a, b in
            let ta = entityEType[Int(a)], tb = entityEType[Int(b)]
            if ta != tb { return ta < tb }
            return entityIDs.compare(a, b) < 0
        }
        entityOrder = order
        entityRank = [Int32](repeating: 0, count: order.count)
        for (rank, e) in order.enumerated() { entityRank[Int(e)] = Int32(rank) }
    }

    // MARK: writing helpers

    /// - Parameter primaryKey: a unique column; SQLite indexes it, and the index keeps
    ///   following the table when the swap renames it.
    func create(_ w: SQLiteWarehouse, _ table: String, _ columns: [(String, ColumnType)], primaryKey: String? = nil) throws {
        let d = w.dialect
        try w.execute("DROP TABLE IF EXISTS \(d.quote(table))")
        let defs = columns.map { "\(d.quote($0.0)) \(d.typeName($0.1))\($0.0 == primaryKey ? " PRIMARY KEY" : "")" }
        try w.execute("CREATE TABLE \(d.quote(table)) (\(defs.joined(separator: ", ")))")
    }

    // MARK: mapping

    func writeMapping(_ w: SQLiteWarehouse, _ table: String, etype: Int, _ context: EngineContext) throws -> Int {
        let type = etypes[etype]
        let cols: [(String, ColumnType)] = [
            ("\(type)_identifier_id", .text), ("\(type)_id", .text), ("event_id", .text),
            ("identifier_type", .text), ("identifier_value", .text), ("realtime_processed", .boolean),
            ("existing_\(type)", .boolean), ("resolution_reason", .text), ("previous_entity_id", .text),
            ("resolved_at_watermark", .timestamp),
        ]
        try create(w, table, cols)
        let ids = IDMaker(kind: "\(type)_identifier")
        var rows = 0
        // Hot loop: the engine's class-held state in locals, so that no access retains it.
        let nodes = self.nodes, entityIDs = self.entityIDs, events = self.events
        let nodeEType = self.nodeEType, entityOfNode = self.entityOfNode, nodeBestEvent = self.nodeBestEvent
        let reason = Array("full_resolution".utf8)
        let stamps = TimestampWriter()
        try w.transaction {
            try w.insertPipelined(into: table, columns: cols.map(\.0)) { ins in
                for n in 0..<nodes.count where Int(nodeEType[n]) == etype {
                    let e = entityOfNode[n]
                    let key = nodes.bytes(Int32(n))
                    var k = 1
                    while key[k] != 0 { k += 1 }
                    let typeBytes = UnsafeRawBufferPointer(rebasing: key[1..<k])
                    let valueBytes = UnsafeRawBufferPointer(rebasing: key[(k + 1)...])
                    ins.bind(0, bytes: ids.make(entityIDs.bytes(e), typeBytes, valueBytes))
                    ins.bind(1, bytes: entityIDs.bytes(e))
                    bindPooled(ins, 2, events, nodeBestEvent[n])
                    ins.bind(3, bytes: typeBytes)
                    ins.bind(4, bytes: valueBytes)
                    ins.bind(5, Int64(0))
                    ins.bind(6, Int64(1))
                    reason.withUnsafeBytes { ins.bind(7, bytes: $0) }
                    ins.bindNull(8)
                    stamps.bind(ins, 9, watermark[etype])
                    try ins.insertRow()
                    rows += 1
                }
            }
        }
        return rows
    }

    // MARK: traits

    struct Traits {
        var names: [String] = []           // normalized names by id
        var nameRank: [Int32] = []         // position in sorted order
        var winnerEntity: [Int32] = []
        var winnerName: [Int32] = []
        var winnerOccurred: [Int64] = []
        var winnerIngested: [Int64] = []
        var valueStart: [Int] = []
        var valueLength: [Int32] = []
        /// Each winner's entity_trait_id (for the last tie-break) in `CompactID` spelling;
        /// dropped once all rows are read.
        var idStart: [Int] = []
        var idLength: [Int32] = []
        var values = ByteBuffer(capacity: 1 << 20)
        var ids = ByteBuffer(capacity: 1 << 20)
        /// Winner indices in output order (entity rank, then trait name).
        var order: [Int32] = []
    }

    static func normalizeTraitName(_ raw: String) -> String {
        String(raw.lowercased().map { $0 == " " ? "_" : $0 })
    }

    func readTraits(_ source: RowSource, _ context: EngineContext) throws -> Traits {
        var t = Traits()
        let rawNames = StringPool(capacity: 256)
        var rawToName: [Int32] = []
        var rawSource: [String] = []
        var nameFirstRaw: [Int32] = []
        let namePool = StringPool(capacity: 256)
        // An entity's winners, one per trait name, form a list (`head`, then `next`): a dozen
        // names per entity cost a short walk and 4 bytes per winner, where a map keyed by
        // (entity, name) cost 16–32 bytes per winner (0.5 GB at 1,000,000 persons). An entity
        // with more names than `wideAfter` moves to `wide`, a map, so that no walk grows long.
        let wideAfter = 24
        var head = [Int32](repeating: -1, count: entityRep.count)
        var next: [Int32] = []
        var isWide = [Bool](repeating: false, count: entityRep.count)
        var wide = Int64Map(capacity: 16)
        let idKey = ByteBuffer(capacity: 64)
        var dropped: [String: Int] = [:]
        var unknownTypes = 0
        rowsRead = 0
        let nodes = self.nodes, entityOfNode = self.entityOfNode, key = self.keyBuffer
        var lastNode: Int32 = -1
        try source { row in
            rowsRead += 1
            guard let et = etypeIndex(row, 0) else { unknownTypes += 1; return }
            if row.isNull(4) || row.isNull(3) || row.isNull(1) || row.isNull(2) { return }
            if row.bytes(4).isEmpty { return }
            NativeEngine.nodeKey(key, et, row, type: 1, value: 2)
            // A source lists an identifier's traits together: try the last node first.
            if lastNode < 0 || !equalBytes(key.bytes, nodes.bytes(lastNode)) {
                lastNode = nodes.find(key.bytes) ?? -1
            }
            let node = lastNode
            guard node >= 0 else {
                dropped[row.string(8) ?? "NULL", default: 0] += 1
                return
            }
            let entity = entityOfNode[Int(node)]
            let before = rawNames.count
            let raw = rawNames.intern(row.bytes(3))
            if Int(raw) == before {
                let rawString = rawNames.string(raw)
                let source = row.string(8) ?? "NULL"
                let norm = NativeEngine.normalizeTraitName(rawString)
                if EntityColumns.reserved.contains(norm) {
                    throw NexusError("contract", "trait '\(rawString)' (source \(source)) would become column '\(norm)', which is a system column of nexus_entities; rename the trait in its source",
                                     at: SourceLocation(relation: "nexus_entity_traits", columnName: "trait_name"))
                }
                let nBefore = namePool.count
                let nameID = namePool.intern(norm)
                if Int(nameID) == nBefore { nameFirstRaw.append(raw); t.names.append(norm) }
                else {
                    let first = nameFirstRaw[Int(nameID)]
                    throw NexusError("contract", "trait names '\(rawNames.string(first))' (source \(rawSource[Int(first)])) and '\(rawString)' (source \(source)) both become column '\(norm)' of nexus_entities; use one spelling",
                                     at: SourceLocation(relation: "nexus_entity_traits", columnName: "trait_name"))
                }
                rawToName.append(nameID)
                rawSource.append(source)
            }
            let nameID = rawToName[Int(raw)]
            let occurred = timestamp(row, 5)
            let ingested = timestamp(row, 6)
            let pair = Int64(entity) << 24 | Int64(nameID)
            var found: Int32 = -1
            if isWide[Int(entity)] {
                found = wide.get(pair) ?? -1
            } else {
                var i = head[Int(entity)], steps = 0
                while i >= 0 {
                    if t.winnerName[Int(i)] == nameID { found = i; break }
                    i = next[Int(i)]
                    steps += 1
                }
                if found < 0, steps >= wideAfter {
                    var j = head[Int(entity)]
                    while j >= 0 { wide.set(Int64(entity) << 24 | Int64(t.winnerName[Int(j)]), j); j = next[Int(j)] }
                    isWide[Int(entity)] = true
                }
            }
            if found >= 0 {
                let i = Int(found)
                var better = occurred > t.winnerOccurred[i]
                if occurred == t.winnerOccurred[i] {
                    better = ingested > t.winnerIngested[i]
                    if ingested == t.winnerIngested[i] {
                        idKey.removeAll()
                        CompactID.encode(row.bytes(7), into: idKey)
                        let start = t.idStart[i], len = Int(t.idLength[i])
                        better = CompactID.compare(idKey.bytes, UnsafeRawBufferPointer(start: t.ids.base + start, count: len)) > 0
                    }
                }
                if better {
                    t.winnerOccurred[i] = occurred
                    t.winnerIngested[i] = ingested
                    // A new winner no longer than the old one takes its place in the buffer (ids
                    // of one source have one length): a trait updated on every event would
                    // otherwise keep every value it ever had.
                    let value = row.bytes(4)
                    idKey.removeAll()
                    CompactID.encode(row.bytes(7), into: idKey)
                    t.valueStart[i] = t.values.store(value, over: t.valueStart[i], length: Int(t.valueLength[i]))
                    t.valueLength[i] = Int32(value.count)
                    t.idStart[i] = t.ids.store(idKey.bytes, over: t.idStart[i], length: Int(t.idLength[i]))
                    t.idLength[i] = Int32(idKey.count)
                }
            } else {
                let new = Int32(t.winnerEntity.count)
                if isWide[Int(entity)] {
                    wide.set(pair, new)
                    next.append(-1)
                } else {
                    next.append(head[Int(entity)])
                    head[Int(entity)] = new
                }
                t.winnerEntity.append(entity)
                t.winnerName.append(nameID)
                t.winnerOccurred.append(occurred)
                t.winnerIngested.append(ingested)
                let value = row.bytes(4)
                idKey.removeAll()
                CompactID.encode(row.bytes(7), into: idKey)
                t.valueStart.append(t.values.count)
                t.values.append(contentsOf: value); t.valueLength.append(Int32(value.count))
                t.idStart.append(t.ids.count)
                t.ids.append(contentsOf: idKey.bytes); t.idLength.append(Int32(idKey.count))
            }
        }
        head = []; next = []; isWide = []; wide = Int64Map(capacity: 16)
        t.ids = ByteBuffer(capacity: 16)
        t.idStart = []; t.idLength = []
        for (source, n) in dropped.sorted(by: { $0.key < $1.key }) {
            context.warn("nexus_entity_traits: \(n) trait row(s) from source \(source) name an identifier that occurs in no nexus_entity_identifiers row, and were dropped")
        }
        if unknownTypes > 0 { context.warn("nexus_entity_traits: \(unknownTypes) row(s) of entity types not in entity_types were ignored") }
        let sortedNames = (0..<t.names.count).sorted { t.names[$0] < t.names[$1] }
        t.nameRank = [Int32](repeating: 0, count: t.names.count)
        for (r, n) in sortedNames.enumerated() { t.nameRank[n] = Int32(r) }
        var keys = [UInt64](repeating: 0, count: t.winnerEntity.count)
        for i in 0..<keys.count {
            keys[i] = UInt64(entityRank[Int(t.winnerEntity[i])]) << 40 | UInt64(t.nameRank[Int(t.winnerName[i])]) << 24 | UInt64(i & 0xFFFFFF)
        }
        // Indices beyond 2^24 need the full index; sort (key, index) pairs instead of packing.
        if keys.count < (1 << 24) {
            // The low 24 bits are each key's own position, ascending already.
            RadixSort.sort(&keys, orderedLowBits: 24)
            t.order = keys.map { Int32($0 & 0xFFFFFF) }
        } else {
            t.order = (0..<Int32(keys.count)).sorted { a, b in
                let ka = keys[Int(a)] >> 24, kb = keys[Int(b)] >> 24
                return ka != kb ? ka < kb : a < b
            }
        }
        return t
    }

    func writeResolvedTraits(_ w: SQLiteWarehouse, _ table: String, _ t: Traits, _ context: EngineContext) throws -> Int {
        let cols: [(String, ColumnType)] = [
            ("entity_trait_id", .text), ("entity_id", .text), ("entity_type", .text), ("trait_name", .text),
            ("trait_value", .text), ("occurred_at", .timestamp), ("realtime_processed", .boolean),
        ]
        try create(w, table, cols)
        let ids = IDMaker(kind: "entity_trait")
        let namePool = StringPool(capacity: t.names.count)
        for n in t.names { _ = namePool.intern(n) }
        let entityIDs = self.entityIDs, etypePool = self.etypePool, entityEType = self.entityEType
        let stamps = TimestampWriter()
        try w.transaction {
            try w.insertPipelined(into: table, columns: cols.map(\.0)) { ins in
                try t.values.withUnsafeBytes { values in
                    for k in t.order {
                        let i = Int(k)
                        let e = t.winnerEntity[i]
                        let vs = t.valueStart[i], vl = Int(t.valueLength[i])
                        let value = UnsafeRawBufferPointer(rebasing: values[vs..<(vs + vl)])
                        let name = namePool.bytes(t.winnerName[i])
                        ins.bind(0, bytes: ids.make(entityIDs.bytes(e), name, value))
                        ins.bind(1, bytes: entityIDs.bytes(e))
                        ins.bind(2, bytes: etypePool.bytes(Int32(entityEType[Int(e)])))
                        ins.bind(3, bytes: name)
                        ins.bind(4, bytes: value)
                        stamps.bind(ins, 5, t.winnerOccurred[i])
                        ins.bind(6, Int64(0))
                        try ins.insertRow()
                    }
                }
            }
        }
        return t.order.count
    }

    // MARK: participants

    struct Interactions {
        var rows = 0
        var first: [Int64]
        var last: [Int64]
        var lastMerged: [Int64]
    }

    func writeParticipants(_ w: SQLiteWarehouse, _ table: String, _ context: EngineContext) throws -> Interactions {
        let entityCount = entityRep.count
        var inter = Interactions(first: [Int64](repeating: Int64.max, count: entityCount),
                                 last: [Int64](repeating: NativeEngine.missing, count: entityCount),
                                 lastMerged: [Int64](repeating: NativeEngine.missing, count: entityCount))
        let cols: [(String, ColumnType)] = [
            ("entity_participant_id", .text), ("entity_type", .text), ("event_id", .text),
            ("entity_id", .text), ("role", .text), ("occurred_at", .timestamp),
        ]
        try create(w, table, cols)
        // (event, entity, role) triples, deduplicated by sorting; roles shift by one so NULL is 0.
        func bits(_ n: Int) -> Int { var b = 1; while (1 << b) < n + 1 { b += 1 }; return b }
        let eb = bits(events.count), nb = bits(entityCount), rb = bits(roles.count + 1)
        var orphans = 0
        var triples: [(Int32, Int32, Int32)] = []
        var packed: [UInt64] = []
        let canPack = eb + nb + rb <= 64
        if canPack { packed.reserveCapacity(occNode.count) } else { triples.reserveCapacity(occNode.count) }
        for k in 0..<occNode.count {
            let ev = occEvent[k]
            guard ev >= 0, eventOccurred[Int(ev)] != NativeEngine.missing else { orphans += 1; continue }
            let e = entityOfNode[Int(occNode[k])]
            let t = eventOccurred[Int(ev)]
            if t < inter.first[Int(e)] { inter.first[Int(e)] = t }
            if t > inter.last[Int(e)] { inter.last[Int(e)] = t }
            if occHasEdge[k], t > inter.lastMerged[Int(e)] { inter.lastMerged[Int(e)] = t }
            if canPack {
                packed.append(UInt64(ev) << (nb + rb) | UInt64(e) << rb | UInt64(occRole[k] + 1))
            } else {
                triples.append((ev, e, occRole[k]))
            }
        }
        occNode = []; occHasEdge = []
        if canPack {
            RadixSort.sort(&packed)
        } else {
            triples.sort { $0.0 != $1.0 ? $0.0 < $1.0 : ($0.1 != $1.1 ? $0.1 < $1.1 : $0.2 < $1.2) }
        }
        if orphans > 0 {
            context.warn("nexus_entity_participants: \(orphans) identifier occurrence(s) whose event_id is not in nexus_events have no participant row")
        }
        let ids = IDMaker(kind: "entity_participant")
        let events = self.events, entityIDs = self.entityIDs, roles = self.roles, etypePool = self.etypePool
        let entityEType = self.entityEType, eventOccurred = self.eventOccurred
        let stamps = TimestampWriter()
        var rows = 0
        let count = canPack ? packed.count : triples.count
        let emask: UInt64 = (1 << UInt64(nb)) - 1, rmask: UInt64 = (1 << UInt64(rb)) - 1
        try w.transaction {
            try w.insertPipelined(into: table, columns: cols.map(\.0)) { ins in
                var previous: (Int32, Int32, Int32) = (-1, -1, -2)
                for k in 0..<count {
                    let triple: (Int32, Int32, Int32)
                    if canPack {
                        let p = packed[k]
                        triple = (Int32(p >> UInt64(nb + rb)), Int32((p >> UInt64(rb)) & emask), Int32(p & rmask) - 1)
                    } else { triple = triples[k] }
                    if triple == previous { continue }
                    previous = triple
                    let (ev, e, role) = triple
                    ins.bind(0, bytes: ids.make(events, ev, entityIDs, e, roles, role))
                    ins.bind(1, bytes: etypePool.bytes(Int32(entityEType[Int(e)])))
                    ins.bind(2, bytes: events.bytes(ev))
                    ins.bind(3, bytes: entityIDs.bytes(e))
                    bindPooled(ins, 4, roles, role)
                    stamps.bind(ins, 5, eventOccurred[Int(ev)])
                    try ins.insertRow()
                    rows += 1
                }
            }
        }
        inter.rows = rows
        return inter
    }

    // MARK: entities

    func writeEntities(_ w: SQLiteWarehouse, _ table: String, _ t: Traits, _ inter: Interactions, _ context: EngineContext) throws -> Int {
        let sortedNames = t.names.sorted()
        var cols: [(String, ColumnType)] = [("entity_id", .text), ("entity_type", .text)]
        cols += sortedNames.map { ($0, ColumnType.text) }
        cols += EntityColumns.trailing.map { ($0, ColumnType.timestamp) }
        // Outputs join persons by entity_id; without an index SQLite's planner may scan them per row.
        try create(w, table, cols, primaryKey: "entity_id")
        let entityCount = entityRep.count
        var created = [Int64](repeating: Int64.max, count: entityCount)
        for n in 0..<nodes.count {
            let e = Int(entityOfNode[n])
            if nodeMinOccurred[n] < created[e] { created[e] = nodeMinOccurred[n] }
        }
        var updated = [Int64](repeating: NativeEngine.missing, count: entityCount)
        for i in 0..<t.winnerEntity.count {
            let e = Int(t.winnerEntity[i])
            if t.winnerOccurred[i] > updated[e] { updated[e] = t.winnerOccurred[i] }
        }
        let traitBase = 2
        let tail = traitBase + sortedNames.count
        try w.transaction {
            try w.insertPipelined(into: table, columns: cols.map(\.0)) { ins in
                var cursor = 0
                let entityIDs = self.entityIDs, etypePool = self.etypePool, entityEType = self.entityEType
                let stamps = TimestampWriter(), processed = TimestampWriter()
                let values = t.values.bytes
                for e32 in entityOrder {
                    let e = Int(e32)
                    ins.bind(0, bytes: entityIDs.bytes(e32))
                    ins.bind(1, bytes: etypePool.bytes(Int32(entityEType[e])))
                    for k in 0..<sortedNames.count { ins.bindNull(traitBase + k) }
                    while cursor < t.order.count, t.winnerEntity[Int(t.order[cursor])] == e32 {
                        let i = Int(t.order[cursor])
                        let vs = t.valueStart[i], vl = Int(t.valueLength[i])
                        ins.bind(traitBase + Int(t.nameRank[Int(t.winnerName[i])]), bytes: UnsafeRawBufferPointer(rebasing: values[vs..<(vs + vl)]))
                        cursor += 1
                    }
                    let c = created[e] == Int64.max ? NativeEngine.missing : created[e]
                    stamps.bind(ins, tail, c)
                    stamps.bind(ins, tail + 1, updated[e] == NativeEngine.missing ? c : updated[e])
                    stamps.bind(ins, tail + 2, inter.lastMerged[e])
                    stamps.bind(ins, tail + 3, inter.first[e])
                    stamps.bind(ins, tail + 4, inter.last[e])
                    processed.bind(ins, tail + 5, context.processedAt)
                    try ins.insertRow()
                }
            }
        }
        return entityCount
    }

    // MARK: relationships

    struct RelationshipKey: Hashable { var a: Int32; var b: Int32; var type: Int32 }

    /// Text fields are ids in a pool of labels (types, roles, directions, sources: few
    /// distinct values), -1 for NULL; declaration ids are kept as strings only per group.
    struct Relationship {
        var firstOccurred: Int64, firstIngested: Int64, firstID: String, firstSource: Int32
        var lastOccurred: Int64, lastIngested: Int64, lastID: String
        var minKnown: Int64, maxKnown: Int64
        var aType: Int32, aRole: Int32, bType: Int32, bRole: Int32
        var direction: Int32, isActive: Int64?
    }

    func writeRelationships(_ w: SQLiteWarehouse, _ input: String, _ table: String, _ context: EngineContext) throws -> Int {
        let relTypes = StringPool(capacity: 16)
        let labels = StringPool(capacity: 64)
        var groups: [RelationshipKey: Int] = [:]
        var rels: [Relationship] = []
        var unresolved = 0
        let nodes = self.nodes, entityOfNode = self.entityOfNode, key = self.keyBuffer
        func resolve(_ row: BatchRow, value: Int, type: Int, etype: Int) -> Int32? {
            guard let et = etypeIndex(row, etype), !row.isNull(value), !row.isNull(type) else { return nil }
            NativeEngine.nodeKey(key, et, row, type: type, value: value)
            guard let node = nodes.find(key.bytes) else { return nil }
            return entityOfNode[Int(node)]
        }
        @inline(__always) func label(_ row: BatchRow, _ i: Int) -> Int32 {
            row.isNull(i) ? -1 : labels.intern(row.bytes(i))
        }
        let sql = """
            SELECT entity_a_identifier, entity_a_identifier_type, entity_a_type, entity_a_role,
                   entity_b_identifier, entity_b_identifier_type, entity_b_type, entity_b_role,
                   relationship_type, relationship_direction, is_active, source, occurred_at, _ingested_at,
                   relationship_declaration_id
            FROM \(w.dialect.quote(input))
            """
        rowsRead = 0
        try w.scanPipelined(sql) { row in
            rowsRead += 1
            guard let a = resolve(row, value: 0, type: 1, etype: 2), let b = resolve(row, value: 4, type: 5, etype: 6), !row.isNull(8) else {
                unresolved += 1
                return
            }
            let rt = relTypes.intern(row.bytes(8))
            let occurred = timestamp(row, 12)
            let ingested = timestamp(row, 13)
            let id = row.bytes(14)
            let key = RelationshipKey(a: a, b: b, type: rt)
            let isActive: Int64? = row.isNull(10) ? nil : row.int64(10)
            if let g = groups[key] {
                var r = rels[g]
                if (occurred, ingested) < (r.firstOccurred, r.firstIngested)
                    || ((occurred, ingested) == (r.firstOccurred, r.firstIngested) && compareBytes(id, r.firstID) < 0) {
                    r.firstOccurred = occurred; r.firstIngested = ingested; r.firstID = String(decoding: id, as: UTF8.self); r.firstSource = label(row, 11)
                }
                if (occurred, ingested) > (r.lastOccurred, r.lastIngested)
                    || ((occurred, ingested) == (r.lastOccurred, r.lastIngested) && compareBytes(id, r.lastID) > 0) {
                    r.lastOccurred = occurred; r.lastIngested = ingested; r.lastID = String(decoding: id, as: UTF8.self)
                    r.aType = label(row, 2); r.aRole = label(row, 3); r.bType = label(row, 6); r.bRole = label(row, 7)
                    r.direction = label(row, 9); r.isActive = isActive
                }
                if occurred != NativeEngine.missing {
                    if r.minKnown == NativeEngine.missing || occurred < r.minKnown { r.minKnown = occurred }
                    if occurred > r.maxKnown { r.maxKnown = occurred }
                }
                rels[g] = r
            } else {
                groups[key] = rels.count
                let idString = String(decoding: id, as: UTF8.self)
                rels.append(Relationship(firstOccurred: occurred, firstIngested: ingested, firstID: idString, firstSource: label(row, 11),
                                         lastOccurred: occurred, lastIngested: ingested, lastID: idString,
                                         minKnown: occurred, maxKnown: occurred,
                                         aType: label(row, 2), aRole: label(row, 3), bType: label(row, 6), bRole: label(row, 7),
                                         direction: label(row, 9), isActive: isActive))
            }
        }
        if unresolved > 0 {
            context.warn("nexus_relationship_declarations: \(unresolved) declaration(s) name an identifier on side A or B that no nexus_entity_identifiers row resolves, and were dropped")
        }
        let cols: [(String, ColumnType)] = [
            ("relationship_id", .text), ("entity_a_id", .text), ("entity_a_type", .text), ("entity_a_role", .text),
            ("entity_b_id", .text), ("entity_b_type", .text), ("entity_b_role", .text), ("relationship_type", .text),
            ("relationship_direction", .text), ("is_active", .boolean), ("established_at", .timestamp),
            ("last_updated_at", .timestamp), ("primary_source", .text), ("_processed_at", .timestamp),
            ("_updated_at", .timestamp), ("_created_at", .timestamp),
        ]
        try create(w, table, cols)
        let keys = groups.sorted { xe, ye in
            let x = xe.key, y = ye.key
            let ra = entityRank[Int(x.a)], rb = entityRank[Int(y.a)]
            if ra != rb { return ra < rb }
            let sa = entityRank[Int(x.b)], sb = entityRank[Int(y.b)]
            if sa != sb { return sa < sb }
            return relTypes.compare(x.type, y.type) < 0
        }
        let ids = IDMaker(kind: "relationship")
        let entityIDs = self.entityIDs
        let stamps = TimestampWriter(), stamps2 = TimestampWriter(), processed = TimestampWriter()
        try w.transaction {
            try w.insertPipelined(into: table, columns: cols.map(\.0)) { ins in
                for (key, g) in keys {
                    let r = rels[g]
                    ins.bind(0, bytes: ids.make(entityIDs, key.a, entityIDs, key.b, relTypes, key.type))
                    ins.bind(1, bytes: entityIDs.bytes(key.a))
                    bindPooled(ins, 2, labels, r.aType)
                    bindPooled(ins, 3, labels, r.aRole)
                    ins.bind(4, bytes: entityIDs.bytes(key.b))
                    bindPooled(ins, 5, labels, r.bType)
                    bindPooled(ins, 6, labels, r.bRole)
                    ins.bind(7, bytes: relTypes.bytes(key.type))
                    bindPooled(ins, 8, labels, r.direction)
                    if let a = r.isActive { ins.bind(9, a) } else { ins.bindNull(9) }
                    stamps.bind(ins, 10, r.minKnown)
                    stamps2.bind(ins, 11, r.maxKnown)
                    bindPooled(ins, 12, labels, r.firstSource)
                    processed.bind(ins, 13, context.processedAt)
                    stamps2.bind(ins, 14, r.maxKnown)
                    stamps.bind(ins, 15, r.minKnown)
                    try ins.insertRow()
                }
            }
        }
        return keys.count
    }
}

/// Binds pooled string `id`, or NULL for a negative id.
@inline(__always)
func bindPooled(_ ins: BatchSink, _ i: Int, _ pool: StringPool, _ id: Int32) {
    if id < 0 { ins.bindNull(i) } else { ins.bind(i, bytes: pool.bytes(id)) }
}

@inline(__always)
func compareBytes(_ a: UnsafeRawBufferPointer, _ s: String) -> Int {
    var s = s
    return s.withUTF8 { compareBytes(a, UnsafeRawBufferPointer($0)) }
}

@inline(__always)
func equalBytes(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    a.count == b.count && (a.count == 0 || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0)
}

@inline(__always)
func compareBytes(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
    let n = min(a.count, b.count)
    if n > 0 {
        let c = memcmp(a.baseAddress!, b.baseAddress!, n)
        if c != 0 { return Int(c) }
    }
    return a.count - b.count
}

/// Moves an array out of its place, leaving it empty (so the moved copy stays unique).
@inline(__always)
func take<T>(_ a: inout [T]) -> [T] {
    var out: [T] = []
    swap(&out, &a)
    return out
}

/// Formats timestamps for binding, remembering the last one: rows sorted by entity or event
/// repeat the same instant often.
final class TimestampWriter {
    let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: 32)
    var last = Int64.min
    var length = 0

    deinit { buffer.deallocate() }

    @inline(__always) func bind(_ w: BatchSink, _ i: Int, _ micros: Int64) {
        if micros == NativeEngine.missing || micros == Int64.max { w.bindNull(i); return }
        if micros != last { length = Timestamp.write(micros, into: buffer); last = micros }
        w.bind(i, bytes: UnsafeRawBufferPointer(start: buffer, count: length))
    }
}

/// Builds `<prefix>_<md5 hex>` ids in one reused buffer: the prefix is written once, each id
/// costs one md5 and no allocation.
final class IDMaker {
    let buffer: UnsafeMutablePointer<UInt8>
    let start: Int
    /// The input being assembled for the next id.
    let input = ByteBuffer(capacity: 256)

    init(kind: String) {
        let prefix = Array(NexusID.prefix(for: kind).utf8) + [95]
        start = prefix.count
        buffer = .allocate(capacity: start + 32)
        buffer.initialize(from: prefix, count: start)
    }

    deinit { buffer.deallocate() }

    /// The id of the bytes assembled in `input`; valid until the next call.
    @inline(__always) func make() -> UnsafeRawBufferPointer {
        MD5.hex(input.bytes, into: buffer + start)
        return UnsafeRawBufferPointer(start: buffer, count: start + 32)
    }

    /// The id of three parts joined by '-', a NULL part (id < 0) spelled as dbt_utils does.
    @inline(__always) func make(_ p1: StringPool, _ i1: Int32, _ p2: StringPool, _ i2: Int32,
                                _ p3: StringPool, _ i3: Int32) -> UnsafeRawBufferPointer {
        input.removeAll()
        part(p1, i1); input.append(45); part(p2, i2); input.append(45); part(p3, i3)
        return make()
    }

    /// The id of three byte strings joined by '-'.
    @inline(__always) func make(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer, _ c: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        input.removeAll()
        input.append(contentsOf: a); input.append(45); input.append(contentsOf: b); input.append(45); input.append(contentsOf: c)
        return make()
    }

    static let nullToken = Array(NexusID.nullToken.utf8)

    @inline(__always) func part(_ pool: StringPool, _ id: Int32) {
        if id < 0 { IDMaker.nullToken.withUnsafeBytes { input.append(contentsOf: $0) } } else { input.append(contentsOf: pool.bytes(id)) }
    }
}
