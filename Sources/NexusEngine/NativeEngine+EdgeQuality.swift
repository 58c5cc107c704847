import NexusCore
import NexusWarehouse

// Edge quality (dbt-nexus §3.3): each identifier's distinct partners, the report and the
// gate, the filter with its orphans rule; then resolution's links, a union–find over each
// (entity type, edge_id) group's identifiers.
extension NativeEngine {
    /// Each group's distinct identifiers, in first-seen order: `members[range(g)]`.
    struct Groups {
        var start: [Int32]
        var members: [Int32]
        var count: Int { start.count - 1 }
        @inline(__always) func range(_ g: Int) -> Range<Int> { Int(start[g])..<Int(start[g + 1]) }
    }

    /// The groups, from the occurrences (a counting sort by group, then each group's repeats
    /// dropped in place).
    func buildGroups() -> Groups {
        let groupTotal = Int(groupCount)
        var start = [Int32](repeating: 0, count: groupTotal + 1)
        for g in occGroup where g >= 0 { start[Int(g) + 1] += 1 }
        for g in 0..<groupTotal { start[g + 1] += start[g] }
        var members = [Int32](repeating: 0, count: Int(start[groupTotal]))
        do {
            var fill = start
            for k in 0..<occGroup.count {
                let g = Int(occGroup[k])
                if g >= 0 { members[Int(fill[g])] = occNode[k]; fill[g] += 1 }
            }
        }
        var seen = [Int32](repeating: -1, count: nodes.count)
        var out: Int32 = 0
        for g in 0..<groupTotal {
            let s = Int(start[g]), e = Int(start[g + 1])
            start[g] = out
            for i in s..<e {
                let n = Int(members[i])
                if seen[n] != Int32(g) { seen[n] = Int32(g); members[Int(out)] = Int32(n); out += 1 }
            }
        }
        start[groupTotal] = out
        members.removeLast(members.count - Int(out))
        return Groups(start: start, members: members)
    }

    /// Judges every identifier's edges, reports, applies the gate and the filter, and links
    /// the identifiers that stay (`parent`, for `resolveComponents`).
    func judgeAndLink(_ context: EngineContext) throws {
        let groups = buildGroups()
        quality.ignored = nodeExcluded.reduce(0) { $0 + ($1 == NativeEngine.ignoredNode ? 1 : 0) }
        let found = measure(groups)
        var cut = [Bool]()
        if rules.onError == .filter {
            cut = [Bool](repeating: false, count: nodes.count)
            for (x, p) in found where p > rules.error { cut[Int(x)] = true }
            quality.filtered = found.filter { $0.partners > rules.error }.count
            quality.orphans = leaveOutOrphans(groups, cut: cut)
        }
        quality.rows = describe(found, groups, cut: cut)
        candidateGroups = Groups(start: [], members: []); candidateIndex = []; valueOf = []; values = StringPool(capacity: 16)
        quality.sort(entityTypes: etypes)
        try quality.apply(rules, context)
        link(cut: cut)
    }

    /// The identifiers with more distinct partners than `rules.warning`, with their count.
    ///
    /// A sum over an identifier's groups of (group size − 1) bounds its partners from above;
    /// only identifiers whose bound passes the threshold are counted exactly. Each is counted
    /// from its largest group, whose distinct values are marked once for every identifier
    /// sharing that largest group, plus a walk over its other groups: an edge_id with
    /// thousands of identifiers costs its size once, not once per identifier in it.
    func measure(_ groups: Groups) -> [(node: Int32, partners: Int)] {
        let n = nodes.count
        var bound = [Int32](repeating: 0, count: n)
        for g in 0..<groups.count {
            let r = groups.range(g)
            guard r.count > 1 else { continue }
            for i in r {
                let x = Int(groups.members[i])
                bound[x] = Int32(min(Int64(bound[x]) + Int64(r.count - 1), Int64(Int32.max)))
            }
        }
        var candidate = [Int32](repeating: -1, count: n)
        var cands: [Int32] = []
        for x in 0..<n where Int(bound[x]) > rules.warning {
            candidate[x] = Int32(cands.count)
            cands.append(Int32(x))
        }
        bound = []
        guard !cands.isEmpty else { return [] }
        // Each candidate's groups, and its largest (ties: the first).
        var cstart = [Int32](repeating: 0, count: cands.count + 1)
        for x in groups.members where candidate[Int(x)] >= 0 { cstart[Int(candidate[Int(x)]) + 1] += 1 }
        for c in 0..<cands.count { cstart[c + 1] += cstart[c] }
        var cgroups = [Int32](repeating: 0, count: Int(cstart[cands.count]))
        var base = [Int32](repeating: -1, count: cands.count)
        do {
            var fill = cstart
            for g in 0..<groups.count {
                let r = groups.range(g)
                for i in r {
                    let c = Int(candidate[Int(groups.members[i])])
                    guard c >= 0 else { continue }
                    cgroups[Int(fill[c])] = Int32(g); fill[c] += 1
                    if base[c] < 0 || groups.range(Int(base[c])).count < r.count { base[c] = Int32(g) }
                }
            }
        }
        candidateGroups = Groups(start: cstart, members: cgroups)
        candidateIndex = candidate
        // Values, compared as exact strings whatever their type.
        valueOf = [Int32](repeating: -1, count: n)
        for c in 0..<cands.count {
            for g in candidateGroups.members[candidateGroups.range(c)] {
                for y in groups.members[groups.range(Int(g))] where valueOf[Int(y)] < 0 { valueOf[Int(y)] = internValue(y) }
            }
        }
        let valueCount = values.count
        var markGroup = [Int32](repeating: -1, count: valueCount), markCount = [Int32](repeating: 0, count: valueCount)
        var stamp = [Int32](repeating: -1, count: valueCount)
        let order = (0..<Int32(cands.count)).sorted { (a: Int32, b: Int32) -> Bool in
            let ba = base[Int(a)], bb = base[Int(b)]
            return ba != bb ? ba < bb : a < b
        }
        var current: Int32 = -1, distinct = 0
        var found: [(node: Int32, partners: Int)] = []
        for c in order {
            let b = base[Int(c)], x = cands[Int(c)]
            if b != current {
                current = b; distinct = 0
                for y in groups.members[groups.range(Int(b))] {
                    let v = Int(valueOf[Int(y)])
                    if markGroup[v] != b { markGroup[v] = b; markCount[v] = 1; distinct += 1 } else { markCount[v] += 1 }
                }
            }
            let vx = Int(valueOf[Int(x)])
            // The largest group's values, less the identifier's own when nothing else has it.
            var partners = distinct - (markCount[vx] == 1 ? 1 : 0)
            for g in candidateGroups.members[candidateGroups.range(Int(c))] where g != b {
                for y in groups.members[groups.range(Int(g))] where y != x {
                    let v = Int(valueOf[Int(y)])
                    if markGroup[v] == b && (v != vx || markCount[v] > 1) { continue }
                    if stamp[v] == c { continue }
                    stamp[v] = c
                    partners += 1
                }
            }
            if partners > rules.warning { found.append((x, partners)) }
        }
        found.sort { $0.node < $1.node }
        return found
    }

    /// A node key's identifier type and value (`[etype][type]\0[value]`).
    @inline(__always) static func parts(_ key: UnsafeRawBufferPointer) -> (type: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        var k = 1
        while key[k] != 0 { k += 1 }
        return (UnsafeRawBufferPointer(rebasing: key[1..<k]), UnsafeRawBufferPointer(rebasing: key[(k + 1)...]))
    }

    /// The value of node `x` in `values`.
    func internValue(_ x: Int32) -> Int32 {
        nodes.withBytes(x) { values.intern(NativeEngine.parts($0).value) }
    }

    /// The identifier type of node `x`.
    func identifierType(_ x: Int32) -> String {
        nodes.withBytes(x) { String(decoding: NativeEngine.parts($0).type, as: UTF8.self) }
    }

    /// The report's rows: each found identifier's edges, its partners' types and its partners
    /// per source.
    func describe(_ found: [(node: Int32, partners: Int)], _ groups: Groups, cut: [Bool]) -> [EdgeQualityReport.Row] {
        guard !found.isEmpty else { return [] }
        var reported = [Int32: Int](minimumCapacity: found.count)
        for (i, f) in found.enumerated() { reported[f.node] = i }
        var typeCache: [Int32: [String: Int]] = [:]
        func types(_ g: Int32) -> [String: Int] {
            if let t = typeCache[g] { return t }
            var t: [String: Int] = [:]
            for y in groups.members[groups.range(Int(g))] { t[identifierType(y), default: 0] += 1 }
            typeCache[g] = t
            return t
        }
        // Each found identifier's (group, source) pairs.
        var occurrences = [[(group: Int32, source: Int32)]](repeating: [], count: found.count)
        for k in 0..<occNode.count where occGroup[k] >= 0 {
            if let i = reported[occNode[k]] { occurrences[i].append((occGroup[k], occSource[k])) }
        }
        var stamp = [Int32](repeating: -1, count: values.count)
        var generation: Int32 = 0
        var rows: [EdgeQualityReport.Row] = []
        for (i, f) in found.enumerated() {
            let x = f.node, c = Int(candidateIndex[Int(x)])
            let own = identifierType(x)
            var connected = Set<String>()
            for g in candidateGroups.members[candidateGroups.range(c)] {
                for (t, count) in types(g) where count - (t == own ? 1 : 0) > 0 { connected.insert(t) }
            }
            var bySource: [Int32: Set<Int32>] = [:]
            for o in occurrences[i] { bySource[o.source, default: []].insert(o.group) }
            var counts: [(source: String, partners: Int)] = []
            if bySource.count == 1 {
                counts = [(sources.string(bySource.first!.key), f.partners)]
            } else {
                for (s, gs) in bySource {
                    generation += 1
                    var p = 0
                    for g in gs {
                        for y in groups.members[groups.range(Int(g))] where y != x {
                            let v = Int(valueOf[Int(y)])
                            if stamp[v] != generation { stamp[v] = generation; p += 1 }
                        }
                    }
                    if p > 0 { counts.append((sources.string(s), p)) }
                }
            }
            let value = nodes.withBytes(x) { String(decoding: NativeEngine.parts($0).value, as: UTF8.self) }
            rows.append(.init(entityType: etypes[Int(nodeEType[Int(x)])], identifierType: own, identifierValue: value,
                              partners: f.partners, edges: candidateGroups.range(c).count,
                              connectedTypes: EdgeQualityReport.typesText(connected), sources: EdgeQualityReport.sourcesText(counts),
                              filtered: !cut.isEmpty && cut[Int(x)]))
        }
        return rows
    }

    /// The filtered orphans rule (dbt-nexus §3.3): an identifier with no edge left (every
    /// group it is in has no second identifier whose edges stay) that shares a group with an
    /// identifier that has one resolves to no entity; one sharing a group with none stays,
    /// alone. Returns how many were left out.
    func leaveOutOrphans(_ groups: Groups, cut: [Bool]) -> Int {
        var survives = [Bool](repeating: false, count: nodes.count)
        for g in 0..<groups.count {
            let r = groups.range(g)
            var kept = 0
            for i in r where !cut[Int(groups.members[i])] { kept += 1 }
            guard kept >= 2 else { continue }
            for i in r where !cut[Int(groups.members[i])] { survives[Int(groups.members[i])] = true }
        }
        var orphans = 0
        for g in 0..<groups.count {
            let r = groups.range(g)
            guard r.contains(where: { survives[Int(groups.members[$0])] }) else { continue }
            for i in r {
                let y = Int(groups.members[i])
                if !survives[y] && nodeExcluded[y] == 0 { nodeExcluded[y] = NativeEngine.orphanNode; orphans += 1 }
            }
        }
        return orphans
    }

    /// Unites each occurrence's identifier with the first of its group, except identifiers
    /// left out and those whose edges are cut.
    func link(cut: [Bool]) {
        let n = nodes.count
        parent = (0..<Int32(n)).map { $0 }
        size = [Int32](repeating: 1, count: n)
        var first = [Int32](repeating: -1, count: Int(groupCount))
        var parent = take(&self.parent), size = take(&self.size)
        defer { self.parent = parent; self.size = size }
        let nodeExcluded = self.nodeExcluded
        for k in 0..<occGroup.count {
            let g = Int(occGroup[k])
            guard g >= 0 else { continue }
            let x = occNode[k]
            if nodeExcluded[Int(x)] != 0 || (!cut.isEmpty && cut[Int(x)]) { continue }
            let f = first[g]
            if f < 0 { first[g] = x; continue }
            var ra = NativeEngine.root(x, &parent), rb = NativeEngine.root(f, &parent)
            if ra == rb { continue }
            if size[Int(ra)] < size[Int(rb)] { swap(&ra, &rb) }
            parent[Int(rb)] = ra
            size[Int(ra)] += size[Int(rb)]
        }
        occGroup = []
        occSource = []
    }
}
