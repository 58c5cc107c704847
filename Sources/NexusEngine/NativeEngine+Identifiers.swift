import NexusCore
import NexusSQL
import NexusWarehouse

#if canImport(Glibc)
import Glibc
#endif

// Reading events and identifier occurrences, identity resolution (union–find), and the
// resolved identifiers (`nexus_resolved_<type>_identifiers`).
extension NativeEngine {
    @inline(__always)
    func timestamp(_ row: BatchRow, _ i: Int) -> Int64 {
        if row.isNull(i) { return NativeEngine.missing }
        return Timestamp.parseStored(row.bytes(i), days: &dayCache) ?? NativeEngine.missing
    }


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


    func readIdentifiers(_ source: RowSource, _ context: EngineContext) throws {
        var unknownTypes: [String: Int] = [:]
        var nullValues = 0
        rowsRead = 0
        // The hot loop works on locals (moved out of the engine and back), so that no access
        // to the engine's state costs a reference count or a uniqueness check on `self`.
        let nodes = self.nodes, events = self.events, edges = self.edges, roles = self.roles, key = self.keyBuffer
        let sources = self.sources, ignored = self.ignoredKeys
        let lastEdgeRaw = ByteBuffer(capacity: 64), edgeKey = ByteBuffer(capacity: 64)
        var lastEdge: Int32 = -1
        var nodeEType = take(&self.nodeEType), nodeExcluded = take(&self.nodeExcluded)
        var nodeMinOccurred = take(&self.nodeMinOccurred), nodeBestEdge = take(&self.nodeBestEdge), nodeBestEvent = take(&self.nodeBestEvent)
        var eventOccurred = take(&self.eventOccurred), edgeGroup = take(&self.edgeGroup), watermark = take(&self.watermark)
        var occNode = take(&self.occNode), occEvent = take(&self.occEvent), occRole = take(&self.occRole), occHasEdge = take(&self.occHasEdge)
        var occGroup = take(&self.occGroup), occSource = take(&self.occSource)
        var groups = self.groupCount
        var ignoredRows = 0
        let lateLimit = self.lateLimit
        var through = 0, after = 0
        defer {
            self.rowsThrough = through; self.rowsAfter = after
            self.nodeEType = nodeEType; self.nodeExcluded = nodeExcluded
            self.nodeMinOccurred = nodeMinOccurred; self.nodeBestEdge = nodeBestEdge; self.nodeBestEvent = nodeBestEvent
            self.eventOccurred = eventOccurred; self.edgeGroup = edgeGroup; self.watermark = watermark
            self.occNode = occNode; self.occEvent = occEvent; self.occRole = occRole; self.occHasEdge = occHasEdge
            self.occGroup = occGroup; self.occSource = occSource
            self.groupCount = groups
            self.quality.ignoredRows = ignoredRows
        }
        let nullSource = sources.intern("NULL")
        var lastSource: Int32 = nullSource
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
                nodeMinOccurred.append(Int64.max)
                nodeBestEdge.append(-1)
                nodeBestEvent.append(-1)
                // On the ignore list: a node that links nothing and resolves to no entity.
                let listed = ignored.count > 0 && ignored.find(UnsafeRawBufferPointer(rebasing: key.bytes[1...])) != nil
                nodeExcluded.append(listed ? NativeEngine.ignoredNode : 0)
            }
            let occurred = timestamp(row, 6)
            if occurred != NativeEngine.missing, occurred < nodeMinOccurred[Int(node)] { nodeMinOccurred[Int(node)] = occurred }
            let ingested = row.isNull(7) ? occurred : timestamp(row, 7)
            if ingested > watermark[et] { watermark[et] = ingested }
            if ingested <= lateLimit { through += 1 } else { after += 1 }
            let listed = nodeExcluded[Int(node)] != 0
            if listed { ignoredRows += 1 }

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
            // Edge: the occurrence joins the group of its (entity type, edge_id), which links
            // its identifiers once edge quality has been judged. An edge's rows come in runs:
            // try the last edge before the pool.
            var edge: Int32 = -1
            var group: Int32 = -1
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
                if edgeGroup[et].count <= Int(edge) {
                    edgeGroup[et].append(contentsOf: repeatElement(-1, count: max(edges.count, Int(edge) + 1) - edgeGroup[et].count))
                }
                group = edgeGroup[et][Int(edge)]
                if group < 0 { group = groups; groups += 1; edgeGroup[et][Int(edge)] = group }
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
            occGroup.append(listed ? -1 : group)
            if row.isNull(8) {
                lastSource = nullSource
            } else {
                let sb = row.bytes(8)
                if !equalBytes(sb, sources.bytes(lastSource)) { lastSource = sources.intern(sb) }
            }
            occSource.append(lastSource)
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
        for i in 0..<n where nodeExcluded[i] == 0 {
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
        // Entity ids: <prefix>_ + md5("<identifier_type>-<identifier_value>") of the smallest
        // identifier; incrementally, the surviving earlier entity's id when there is one.
        let makers = etypes.map { IDMaker(kind: $0) }
        let survivor = incremental?.contract == true ? prior.map(survivors) : nil
        for e in 0..<entityRep.count {
            if let survivor, survivor[e] >= 0, let prior {
                let before = entityIDs.count
                _ = entityIDs.intern(prior.ids.bytes(survivor[e]))
                precondition(entityIDs.count == before + 1, "two entities would share the id \(String(decoding: prior.ids.bytes(survivor[e]), as: UTF8.self))")
                continue
            }
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
    func create(_ w: any Warehouse, _ table: String, _ columns: NexusTables.Columns, primaryKey: String? = nil) throws {
        try NexusTables.create(w, table, columns, primaryKey: primaryKey)
    }

    // MARK: mapping

    func writeMapping(_ w: any Warehouse, _ table: String, etype: Int, _ context: EngineContext) throws -> Int {
        let type = etypes[etype]
        let cols = NexusTables.resolvedIdentifiers(type)
        try create(w, table, cols)
        let ids = IDMaker(kind: "\(type)_identifier")
        var rows = 0
        // Hot loop: the engine's class-held state in locals, so that no access retains it.
        let nodes = self.nodes, entityIDs = self.entityIDs, events = self.events, prior = self.prior, changes = self.changes
        let nodeEType = self.nodeEType, entityOfNode = self.entityOfNode, nodeBestEvent = self.nodeBestEvent
        let reason = Array("full_resolution".utf8)
        let stamps = TimestampWriter()
        try w.transaction {
            try w.insertPipelined(into: table, columns: cols.map(\.0)) { ins in
                for n in 0..<nodes.count where Int(nodeEType[n]) == etype {
                    let e = entityOfNode[n]
                    if e < 0 { continue }
                    let (typeBytes, valueBytes) = NativeEngine.parts(nodes.bytes(Int32(n)))
                    ins.bind(0, bytes: ids.make(entityIDs.bytes(e), typeBytes, valueBytes))
                    ins.bind(1, bytes: entityIDs.bytes(e))
                    bindPooled(ins, 2, events, nodeBestEvent[n])
                    ins.bind(3, bytes: typeBytes)
                    ins.bind(4, bytes: valueBytes)
                    ins.bind(5, Int64(0))
                    ins.bind(6, Int64(1))
                    if let prior {
                        // Incrementally: a row keeps its reason until its identifier changes.
                        let change = changes[n]
                        if change == .unchanged {
                            bindPooled(ins, 7, prior.reasons, prior.reasonOfNode[n])
                            bindPooled(ins, 8, prior.ids, prior.previousOfNode[n])
                            stamps.bind(ins, 9, prior.watermarkOfNode[n])
                        } else {
                            ins.bind(7, change.reason)
                            if change == .repointed { ins.bind(8, bytes: prior.ids.bytes(prior.entityOfNode[n])) } else { ins.bindNull(8) }
                            stamps.bind(ins, 9, watermark[etype])
                        }
                    } else {
                        reason.withUnsafeBytes { ins.bind(7, bytes: $0) }
                        ins.bindNull(8)
                        stamps.bind(ins, 9, watermark[etype])
                    }
                    try ins.insertRow()
                    rows += 1
                }
            }
        }
        return rows
    }
}
