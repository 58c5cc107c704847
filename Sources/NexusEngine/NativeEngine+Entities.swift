import NexusCore
import NexusSQL
import NexusWarehouse

#if canImport(Glibc)
import Glibc
#endif

// Entities with their traits pivoted into columns (`nexus_entities`).
extension NativeEngine {
    func writeEntities(_ w: any Warehouse, _ table: String, _ t: Traits, _ inter: Interactions, _ context: EngineContext) throws -> Int {
        let sortedNames = t.names.sorted()
        let cols = NexusTables.entities(traitNames: sortedNames)
        // Outputs join persons by entity_id; without an index SQLite's planner may scan them per row.
        try create(w, table, cols, primaryKey: "entity_id")
        let entityCount = entityRep.count
        var created = [Int64](repeating: Int64.max, count: entityCount)
        for n in 0..<nodes.count {
            let e = Int(entityOfNode[n])
            if e < 0 { continue }
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
}
