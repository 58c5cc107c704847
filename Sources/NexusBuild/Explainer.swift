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
    }

    let warehouse: any Warehouse

    public init(warehouse: any Warehouse) { self.warehouse = warehouse }

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
            FROM nexus_entity_identifiers i
            JOIN \(id: mapping) m ON m.identifier_type = i.identifier_type AND m.identifier_value = i.identifier_value
            LEFT JOIN nexus_events e ON e.event_id = i.event_id
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
        return Explanation(entityID: entity, entityType: entityType, links: links)
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
    /// that linked them; identifiers no link reaches are listed after it.
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
        out.append("\(root.identifier)   (asked about)")
        func walk(_ id: String, _ prefix: String) {
            let kids = (children[id] ?? []).sorted { $0.identifier < $1.identifier }
            for (i, kid) in kids.enumerated() {
                let last = i == kids.count - 1
                let hop = kid.path.last!
                let what = [hop.eventName, hop.occurredAt].compactMap { $0 }.joined(separator: " at ")
                out.append("\(prefix)\(last ? "└─ " : "├─ ")\(kid.identifier)   via event \(hop.eventID)\(what.isEmpty ? "" : " (\(what))"), edge \(hop.edgeID)")
                walk(kid.identifier, prefix + (last ? "   " : "│  "))
            }
        }
        walk(root.identifier, "")
        for link in unlinked { out.append("\(link.identifier)   (no link found)") }
        return out.joined(separator: "\n")
    }

    /// The same tree in Graphviz's DOT language: identifiers as nodes (the one asked about
    /// filled), each link an edge labelled with its event. Deterministic: nodes and edges in
    /// the tree's order.
    public func dot() -> String {
        func q(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
        var out = ["graph \(q("\(entityType) \(entityID)")) {", "  graph [rankdir=LR, fontname=\"Helvetica\"];",
                   "  node [shape=box, style=rounded, fontname=\"Helvetica\", fontsize=11];", "  edge [fontname=\"Helvetica\", fontsize=9];"]
        for (i, link) in links.enumerated() {
            out.append("  \(q(link.identifier))\(i == 0 ? " [style=\"rounded,filled\", fillcolor=\"#ffe08a\"]" : "");")
        }
        for link in links {
            guard let hop = link.path.last else { continue }
            let label = [hop.eventName, hop.occurredAt].compactMap { $0 }.joined(separator: "\\n")
            out.append("  \(q(hop.from)) -- \(q(link.identifier)) [label=\(q(label.isEmpty ? hop.eventID : label))];")
        }
        out.append("}")
        return out.joined(separator: "\n")
    }
}
