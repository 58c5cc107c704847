import NexusCore
import NexusSQL
import NexusWarehouse

#if canImport(Glibc)
import Glibc
#endif

// Traits: the latest value per entity and trait name (`nexus_resolved_entity_traits`).
extension NativeEngine {
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
        var dropped: [String: Int] = [:], leftOut: [String: Int] = [:]
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
            guard entity >= 0 else {
                leftOut[row.string(8) ?? "NULL", default: 0] += 1
                return
            }
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
        for (source, n) in leftOut.sorted(by: { $0.key < $1.key }) {
            context.warn(EdgeQualityReport.droppedTraitsWarning(n, source: source))
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

    func writeResolvedTraits(_ w: any Warehouse, _ table: String, _ t: Traits, _ context: EngineContext) throws -> Int {
        let cols = NexusTables.resolvedTraits
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
}
