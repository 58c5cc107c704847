import NexusCore
import NexusSQL
import NexusWarehouse

/// The last build's mapping, node by node of this build (see `IncrementalResolution`).
final class PriorMapping {
    /// Per node of this build: its earlier entity (in `ids`), or -1 for an identifier new to
    /// the mapping; the reason, previous entity and watermark of its mapping row.
    var entityOfNode: [Int32]
    var reasonOfNode: [Int32]
    var previousOfNode: [Int32]
    var watermarkOfNode: [Int64]
    /// Entity ids of the mapping (and the previous ids its rows name), and per id how many
    /// mapping rows name it as their entity.
    var ids = StringPool(capacity: 1 << 12)
    var count: [Int32] = []
    var reasons = StringPool(capacity: 8)

    init(nodes: Int) {
        entityOfNode = [Int32](repeating: -1, count: nodes)
        reasonOfNode = [Int32](repeating: -1, count: nodes)
        previousOfNode = [Int32](repeating: -1, count: nodes)
        watermarkOfNode = [Int64](repeating: NativeEngine.missing, count: nodes)
    }

    func id(_ bytes: UnsafeRawBufferPointer) -> Int32 {
        let i = ids.intern(bytes)
        if Int(i) == count.count { count.append(0) }
        return i
    }
}

/// What happened to one identifier in this build.
enum Change: UInt8 {
    case unchanged = 0, born, accreted, repointed

    var reason: String {
        switch self {
        case .unchanged: return "unchanged"
        case .born: return "born"
        case .accreted: return "accreted"
        case .repointed: return "repointed"
        }
    }
}

// Incremental resolution in the native engine: read the last mapping, contract against it,
// keep or mint ids, say what changed.
extension NativeEngine {
    /// Reads the last build's mapping of every entity type onto this build's nodes.
    func loadPrior(_ inc: IncrementalResolution) throws {
        let prior = PriorMapping(nodes: nodes.count)
        let key = ByteBuffer(capacity: 128)
        for (t, type) in etypes.enumerated() {
            try inc.mapping(type) { row in
                guard !row.isNull(0), !row.isNull(1), !row.isNull(2) else { return }
                let e = prior.id(row.bytes(2))
                prior.count[Int(e)] += 1
                NativeEngine.nodeKey(key, t, row, type: 0, value: 1)
                guard let n = nodes.find(key.bytes) else { return }  // no longer in the data
                prior.entityOfNode[Int(n)] = e
                if !row.isNull(3) { prior.reasonOfNode[Int(n)] = prior.reasons.intern(row.bytes(3)) }
                if !row.isNull(4) { prior.previousOfNode[Int(n)] = prior.id(row.bytes(4)) }
                prior.watermarkOfNode[Int(n)] = timestamp(row, 5)
            }
        }
        self.prior = prior
    }

    /// Unites the nodes of each earlier entity: entities only grow or merge.
    func contractPrior() {
        guard let prior, incremental?.contract == true else { return }
        var parent = take(&self.parent), size = take(&self.size)
        defer { self.parent = parent; self.size = size }
        var first = [Int32](repeating: -1, count: prior.ids.count)
        for n in 0..<nodes.count where nodeExcluded[n] == 0 {
            let e = Int(prior.entityOfNode[n])
            guard e >= 0 else { continue }
            let f = first[e]
            if f < 0 { first[e] = Int32(n); continue }
            var ra = NativeEngine.root(Int32(n), &parent), rb = NativeEngine.root(f, &parent)
            if ra == rb { continue }
            if size[Int(ra)] < size[Int(rb)] { swap(&ra, &rb) }
            parent[Int(rb)] = ra
            size[Int(ra)] += size[Int(rb)]
        }
    }

    /// Each entity's earlier entity that survives it (-1: none, the entity is born): among
    /// the earlier entities its identifiers had, the one with the most mapping rows, then the
    /// smallest id in byte order.
    func survivors(_ prior: PriorMapping) -> [Int32] {
        var survivor = [Int32](repeating: -1, count: entityRep.count)
        for n in 0..<nodes.count {
            let e = Int(entityOfNode[n]), p = prior.entityOfNode[n]
            guard e >= 0, p >= 0 else { continue }
            let s = survivor[e]
            if s < 0 { survivor[e] = p; continue }
            if s == p { continue }
            let cp = prior.count[Int(p)], cs = prior.count[Int(s)]
            if cp > cs || (cp == cs && prior.ids.compare(p, s) < 0) { survivor[e] = p }
        }
        return survivor
    }

    /// Per node, what changed since the last mapping, and the counts the run reports.
    func classifyChanges(_ prior: PriorMapping) -> [Change] {
        var change = [Change](repeating: .unchanged, count: nodes.count)
        // Whether each entity's id was an entity of the last mapping.
        var known = [Bool](repeating: false, count: entityRep.count)
        for e in 0..<entityRep.count {
            if let p = prior.ids.find(entityIDs.bytes(Int32(e))), prior.count[Int(p)] > 0 { known[e] = true }
        }
        var grown = Set<Int32>(), losers = Set<Int32>()
        var outcome = incrementalOutcome
        for n in 0..<nodes.count {
            let e = entityOfNode[n]
            guard e >= 0 else { continue }
            let p = prior.entityOfNode[n]
            if p < 0 {
                change[n] = known[Int(e)] ? .accreted : .born
                if known[Int(e)] { outcome.accreted += 1; grown.insert(e) }
            } else if !equalBytes(prior.ids.bytes(p), entityIDs.bytes(e)) {
                change[n] = .repointed
                outcome.repointed += 1
                losers.insert(p)
            }
        }
        outcome.born = known.reduce(0) { $0 + ($1 ? 0 : 1) }
        outcome.grown = grown.count
        outcome.mergedAway = losers.count
        outcome.logRows = change.reduce(0) { $0 + ($1 == .unchanged ? 0 : 1) }
        incrementalOutcome = outcome
        return change
    }

    /// `nexus_resolution_log`'s rows of this build: one per identifier that changed, in
    /// entity type order, then in the order identifiers were first read.
    func writeLog(_ w: any Warehouse, _ table: String, _ inc: IncrementalResolution) throws -> Int {
        let cols = IncrementalResolution.logColumns
        try create(w, table, cols)
        guard let prior else { return 0 }
        let stamps = TimestampWriter()
        var rows = 0
        try w.transaction {
            try w.insertPipelined(into: table, columns: cols.map(\.0)) { ins in
                for (t, type) in etypes.enumerated() {
                    for n in 0..<nodes.count where Int(nodeEType[n]) == t && changes[n] != .unchanged {
                        let e = entityOfNode[n]
                        let (typeBytes, valueBytes) = NativeEngine.parts(nodes.bytes(Int32(n)))
                        let itype = String(decoding: typeBytes, as: UTF8.self), value = String(decoding: valueBytes, as: UTF8.self)
                        let entity = String(decoding: entityIDs.bytes(e), as: UTF8.self), reason = changes[n].reason
                        ins.bind(0, NexusID.make("resolution", [type, itype, value, entity, reason, inc.runID]))
                        ins.bind(1, inc.runID)
                        ins.bind(2, type)
                        ins.bind(3, bytes: typeBytes)
                        ins.bind(4, bytes: valueBytes)
                        ins.bind(5, bytes: entityIDs.bytes(e))
                        if changes[n] == .repointed { ins.bind(6, bytes: prior.ids.bytes(prior.entityOfNode[n])) } else { ins.bindNull(6) }
                        ins.bind(7, reason)
                        stamps.bind(ins, 8, watermark[t])
                        try ins.insertRow()
                        rows += 1
                    }
                }
            }
        }
        return rows
    }
}
