import NexusCore
import NexusSQL
import NexusWarehouse

#if canImport(Glibc)
import Glibc
#endif

// Relationships: declarations resolved to entities and merged (`nexus_relationships`).
extension NativeEngine {
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

    func writeRelationships(_ w: any Warehouse, _ input: String, _ table: String, _ context: EngineContext) throws -> Int {
        let relTypes = StringPool(capacity: 16)
        let labels = StringPool(capacity: 64)
        var groups: [RelationshipKey: Int] = [:]
        var rels: [Relationship] = []
        var unresolved = 0
        let nodes = self.nodes, entityOfNode = self.entityOfNode, key = self.keyBuffer
        func resolve(_ row: BatchRow, value: Int, type: Int, etype: Int) -> Int32? {
            guard let et = etypeIndex(row, etype), !row.isNull(value), !row.isNull(type) else { return nil }
            NativeEngine.nodeKey(key, et, row, type: type, value: value)
            guard let node = nodes.find(key.bytes), entityOfNode[Int(node)] >= 0 else { return nil }
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
        let cols = NexusTables.relationships
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
