import NexusCore
import NexusSQL
import NexusWarehouse

#if canImport(Glibc)
import Glibc
#endif

// Participants: one row per (event, entity, role) (`nexus_entity_participants`).
extension NativeEngine {
    struct Interactions {
        var rows = 0
        var first: [Int64]
        var last: [Int64]
        var lastMerged: [Int64]
    }

    func writeParticipants(_ w: any Warehouse, _ table: String, _ context: EngineContext) throws -> Interactions {
        let entityCount = entityRep.count
        var inter = Interactions(first: [Int64](repeating: Int64.max, count: entityCount),
                                 last: [Int64](repeating: NativeEngine.missing, count: entityCount),
                                 lastMerged: [Int64](repeating: NativeEngine.missing, count: entityCount))
        let cols = NexusTables.participants
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
            if e < 0 { continue }  // left out by edge quality
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
}
