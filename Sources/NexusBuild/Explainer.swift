import NexusCore
import NexusWarehouse

/// Answers "why are these two one person?": the entity an identifier belongs to, all its
/// identifiers, and for each the chain of shared edge_ids (with their events) that links it
/// to the identifier asked about.
public struct Explainer {
    public struct Hop: Sendable {
        public var from: String
        public var edgeID: String
        public var eventID: String
        public var eventName: String?
        public var occurredAt: String?
    }

    public struct Link: Sendable {
        public var identifier: String
        public var path: [Hop]
    }

    public struct Explanation: Sendable {
        public var entityID: String
        public var entityType: String
        public var links: [Link]
        /// Identifiers whose removal would split the entity: each is the only thing joining
        /// some of the others to the rest (articulation points of the co-occurrence graph).
        public var bridges: Set<String> = []
        /// With incremental resolution: the entity's history from `nexus_resolution_log`,
        /// one line per run and change, oldest first.
        public var history: [String] = []
    }

    let warehouse: any Warehouse

    public init(warehouse: any Warehouse) { self.warehouse = warehouse }

    /// What `nexus_resolution_log` says about an entity: when it was born, what it absorbed
    /// (and from which entity) and what it gained, run by run; identifiers it gave up when a
    /// `--full` run renumbered. Empty without the log.
    func history(of entity: String, entityType: String) throws -> [String] {
        guard try warehouse.relationKind("nexus_resolution_log") != nil else { return [] }
        let rows = try warehouse.query("""
            SELECT run_id, resolution_reason, previous_entity_id, entity_id, count(*), max(resolved_at_watermark) FROM "nexus_resolution_log"
            WHERE entity_type = \(entityType) AND (entity_id = \(entity) OR previous_entity_id = \(entity))
            GROUP BY run_id, resolution_reason, previous_entity_id, entity_id
            ORDER BY run_id, resolution_reason, previous_entity_id, entity_id
            """ as SQL).rows
        return rows.map { r in
            let run = r[0].string ?? "?", reason = r[1].string ?? "?", previous = r[2].string, to = r[3].string ?? "?"
            let n = Int(r[4].string ?? "") ?? 0
            let mark = r[5].string.map { " (watermark \(Timestamp.parse($0).map(Timestamp.format) ?? $0))" } ?? ""
            switch reason {
            case "born": return "run \(run)\(mark): born with \(n) identifier(s)"
            case "accreted": return "run \(run)\(mark): \(n) new identifier(s) accreted"
            case "repointed" where to == entity: return "run \(run)\(mark): absorbed \(previous ?? "?") (\(n) identifier(s) repointed here)"
            case "repointed": return "run \(run)\(mark): \(n) identifier(s) repointed to \(to)"
            default: return "run \(run)\(mark): \(n) identifier(s) \(reason)"
            }
        }
    }

    public func explain(type: String, value: String, entityType: String) throws -> Explanation {
        let d = warehouse.dialect
        let mapping = "nexus_resolved_\(entityType)_identifiers"
        guard try warehouse.relationKind(mapping) != nil else {
            throw NexusError("explain", "there is no \(mapping): run `nexus run` first, or check --entity-type", at: SourceLocation(relation: mapping))
        }
        let idColumn = d.quote("\(entityType)_id")
        let found = try warehouse.query("SELECT \(id: "\(entityType)_id") FROM \(id: mapping) WHERE identifier_type = \(type) AND identifier_value = \(value)" as SQL)
        guard let entity = found.rows.first?[0].string else {
            let close = try suggestions(type: type, value: value, mapping: mapping)
            let hint = close.isEmpty ? "identifiers match exactly: check case and blanks"
                : "close matches: " + close.map { "\($0.type) '\($0.value)'" }.joined(separator: ", ")
            throw NexusError("explain", "no \(entityType) has identifier \(type) = '\(value)' (\(hint))", at: SourceLocation(relation: mapping))
        }
        let occ = try warehouse.query("""
            SELECT i.identifier_type, i.identifier_value, i.edge_id, i.event_id, e.event_name, e.occurred_at
            FROM "nexus_entity_identifiers" i
            JOIN \(id: mapping) m ON m.identifier_type = i.identifier_type AND m.identifier_value = i.identifier_value
            LEFT JOIN "nexus_events" e ON e.event_id = i.event_id
            WHERE i.entity_type = \(entityType) AND m.\(sql: idColumn) = \(entity)
            ORDER BY i.edge_id, i.identifier_type, i.identifier_value, i.event_id
            """ as SQL)
        func key(_ t: String, _ v: String) -> String { "\(t) \(v)" }
        var byEdge: [String: [(String, String, String?, String?)]] = [:] // edge -> (identifier, event, name, time)
        var edgesOf: [String: [String]] = [:]
        var all: Set<String> = []
        for r in occ.rows {
            let ident = key(r[0].string ?? "", r[1].string ?? "")
            all.insert(ident)
            guard let edge = r[2].string else { continue }
            byEdge[edge, default: []].append((ident, r[3].string ?? "", r[4].string, r[5].string))
            if edgesOf[ident]?.last != edge { edgesOf[ident, default: []].append(edge) }
        }
        let start = key(type, value)
        var path: [String: [Hop]] = [start: []]
        var queue = [start]
        var head = 0
        while head < queue.count {
            let cur = queue[head]; head += 1
            for edge in (edgesOf[cur] ?? []).sorted() {
                let members = byEdge[edge] ?? []
                guard let via = members.first(where: { $0.0 == cur }) else { continue }
                for m in members.sorted(by: { $0.0 < $1.0 }) where path[m.0] == nil {
                    path[m.0] = path[cur]! + [Hop(from: cur, edgeID: edge, eventID: via.1, eventName: via.2, occurredAt: via.3)]
                    queue.append(m.0)
                }
            }
        }
        let links = all.sorted { a, b in
            let pa = path[a]?.count ?? Int.max, pb = path[b]?.count ?? Int.max
            return pa != pb ? pa < pb : a < b
        }.map { Link(identifier: $0, path: path[$0] ?? []) }
        let groups = byEdge.keys.sorted().map { edge in Array(Set((byEdge[edge] ?? []).map(\.0))).sorted() }
        var x = Explanation(entityID: entity, entityType: entityType, links: links,
                           bridges: Explainer.bridges(identifiers: all.sorted(), groups: groups))
        x.history = try history(of: entity, entityType: entityType)
        return x
    }

    /// Articulation points among `identifiers` of the graph where each group (the distinct
    /// identifiers of one edge_id) joins its members: Tarjan's algorithm, iteratively, on the
    /// bipartite graph of identifiers and groups (groups of one member join nothing and are
    /// left out, so a flagged identifier always has another identifier cut off behind it).
    static func bridges(identifiers: [String], groups: [[String]]) -> Set<String> {
        let index = Dictionary(uniqueKeysWithValues: identifiers.enumerated().map { ($1, $0) })
        let n = identifiers.count
        let joined = groups.filter { $0.count > 1 }
        var adjacency = [[Int]](repeating: [], count: n + joined.count)
        for (g, members) in joined.enumerated() {
            for m in members { guard let i = index[m] else { continue }; adjacency[i].append(n + g); adjacency[n + g].append(i) }
        }
        var order = [Int](repeating: -1, count: adjacency.count), low = order
        var cut = Set<Int>()
        var clock = 0
        for start in 0..<n where order[start] < 0 {
            // Frames: (vertex, parent, next neighbour to look at, children in the DFS tree).
            var stack: [(v: Int, parent: Int, next: Int, children: Int)] = [(start, -1, 0, 0)]
            order[start] = clock; low[start] = clock; clock += 1
            while !stack.isEmpty {
                let top = stack.count - 1
                let v = stack[top].v
                if stack[top].next < adjacency[v].count {
                    let w = adjacency[v][stack[top].next]
                    stack[top].next += 1
                    if order[w] < 0 {
                        stack[top].children += 1
                        order[w] = clock; low[w] = clock; clock += 1
                        stack.append((w, v, 0, 0))
                    } else if w != stack[top].parent {
                        low[v] = min(low[v], order[w])
                    }
                    continue
                }
                let frame = stack.removeLast()
                if let parent = stack.last {
                    low[parent.v] = min(low[parent.v], low[frame.v])
                    if parent.parent >= 0, low[frame.v] >= order[parent.v] { cut.insert(parent.v) }
                } else if frame.children > 1 {
                    cut.insert(frame.v)
                }
            }
        }
        return Set(cut.filter { $0 < n }.map { identifiers[$0] })
    }

    /// Identifiers that differ from the one asked about only in case or surrounding blanks,
    /// or that have its value under another identifier type (at most five, sorted).
    func suggestions(type: String, value: String, mapping: String) throws -> [(type: String, value: String)] {
        let folded = value.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        let d = warehouse.dialect
        let rows = try warehouse.query("""
            SELECT DISTINCT identifier_type, identifier_value FROM \(id: mapping)
            WHERE lower(\(sql: d.trimBlanks("identifier_value"))) = \(folded) OR identifier_value = \(value)
            """ as SQL).rows
        return rows.compactMap { r -> (type: String, value: String)? in
            guard let t = r[0].string, let v = r[1].string, !(t == type && v == value) else { return nil }
            return (t, v)
        }.sorted { ($0.type, $0.value) < ($1.type, $1.value) }.prefix(5).map { $0 }
    }
}

extension Explainer.Explanation {
    /// The links as a tree from the identifier asked about: each identifier once, under the
    /// identifier that reached it first (breadth first, ties by identifier), with the event
    /// that linked them, bridges marked; identifiers no link reaches are listed after it.
    public func tree() -> String {
        var children: [String: [Explainer.Link]] = [:]
        var root: Explainer.Link?
        var unlinked: [Explainer.Link] = []
        for link in links {
            if let hop = link.path.last { children[hop.from, default: []].append(link) }
            else if root == nil { root = link } else { unlinked.append(link) }
        }
        var out = ["\(entityType) \(entityID): \(links.count) identifier(s)", ""]
        guard let root else { return out.joined(separator: "\n") }
        out.append("\(root.identifier)\(bridges.contains(root.identifier) ? "  [bridge]" : "")   (asked about)")
        func walk(_ id: String, _ prefix: String) {
            let kids = (children[id] ?? []).sorted { $0.identifier < $1.identifier }
            for (i, kid) in kids.enumerated() {
                let last = i == kids.count - 1
                let hop = kid.path.last!
                let what = [hop.eventName, hop.occurredAt].compactMap { $0 }.joined(separator: " at ")
                let mark = bridges.contains(kid.identifier) ? "  [bridge]" : ""
                out.append("\(prefix)\(last ? "└─ " : "├─ ")\(kid.identifier)\(mark)   via event \(hop.eventID)\(what.isEmpty ? "" : " (\(what))"), edge \(hop.edgeID)")
                walk(kid.identifier, prefix + (last ? "   " : "│  "))
            }
        }
        walk(root.identifier, "")
        for link in unlinked { out.append("\(link.identifier)   (no link found)") }
        if !history.isEmpty { out += ["", "history (nexus_resolution_log):"] + history.map { "  " + $0 } }
        return out.joined(separator: "\n")
    }

    /// The same tree in Graphviz's DOT language: identifiers as nodes (the one asked about
    /// filled), each link an edge labelled with its event. Deterministic: nodes and edges in
    /// the tree's order.
    public func dot() -> String {
        func escaped(_ s: String) -> String { s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") }
        func q(_ s: String) -> String { "\"" + escaped(s) + "\"" }
        // Up to 30 identifiers, left to right by distance from the one asked about; more (a
        // hub's star, a chain of dozens) radially around it, labels without their times, so
        // that a 50- or 500-identifier entity stays a picture to read, not a 4,000-pixel column.
        let large = links.count > 30
        let layout = large ? "layout=twopi, root=\(q(links.first?.identifier ?? "")), ranksep=3, overlap=false" : "rankdir=LR"
        var out = ["graph \(q("\(entityType) \(entityID)")) {", "  graph [\(layout), fontname=\"Helvetica\"];",
                   "  node [shape=box, style=rounded, fontname=\"Helvetica\", fontsize=11];", "  edge [fontname=\"Helvetica\", fontsize=9];"]
        for (i, link) in links.enumerated() {
            var attributes: [String] = []
            if i == 0 { attributes += ["style=\"rounded,filled\"", "fillcolor=\"#ffe08a\""] }
            if bridges.contains(link.identifier) { attributes += ["color=\"#c0392b\"", "penwidth=2"] }
            out.append("  \(q(link.identifier))\(attributes.isEmpty ? "" : " [" + attributes.joined(separator: ", ") + "]");")
        }
        for link in links {
            guard let hop = link.path.last else { continue }
            // DOT's `\n` breaks a label's line; the parts themselves are escaped.
            let parts = (large ? [hop.eventName] : [hop.eventName, hop.occurredAt]).compactMap { $0 }
            let label = (parts.isEmpty ? [hop.eventID] : parts).map(escaped).joined(separator: "\\n")
            out.append("  \(q(hop.from)) -- \(q(link.identifier)) [label=\"\(label)\"];")
        }
        out.append("}")
        return out.joined(separator: "\n")
    }

    /// One self-contained HTML page (no scripts, nothing fetched): the graph laid out by
    /// Graphviz (`svg`), then the tree as text.
    public func html(svg: String) -> String {
        func escaped(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
        }
        // The SVG inline: without its XML prolog and doctype, which HTML does not take.
        let body = svg.range(of: "<svg").map { String(svg[$0.lowerBound...]) } ?? svg
        let title = escaped("\(entityType) \(entityID)")
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>\(title)</title>
            <style>body{font-family:Helvetica,Arial,sans-serif;margin:2em;color:#222}figure{margin:1em 0;overflow:auto}
            pre{background:#f6f6f6;padding:1em;overflow:auto;font-size:12px}.legend span{margin-right:1.5em}</style></head>
            <body><h1>\(title)</h1>
            <p>\(links.count) identifier(s), \(bridges.count) bridge(s): an identifier whose removal would split the entity.</p>
            <p class="legend"><span>yellow: the identifier asked about</span><span>red outline: a bridge</span><span>each line: the event that linked two identifiers</span></p>
            <figure>\(body)</figure>
            <pre>\(escaped(tree()))</pre>
            </body></html>

            """
    }
}
