import Foundation
import NexusCore
import NexusEngine
import NexusOutputs
import NexusProject
import NexusSQL
import NexusWarehouse

/// What `nexus report` shows, read from the warehouse as the last build left it: that build's
/// steps, entity sizes, the largest entities with their pictures, edge-quality offenders,
/// trait coverage, the Customer.io outputs and the last syncs. Everything is sorted, so the
/// same warehouse gives the same report, byte for byte.
public struct RunReport {
    public struct Bucket: Equatable, Sendable {
        public var label: String
        public var entities: Int
    }

    public struct Largest: Sendable {
        public var id: String
        public var identifiers: Int
        public var emails: Int
        public var phones: Int
        public var events: Int
        /// The entity's picture: laid-out SVG, or the DOT text when Graphviz is absent.
        public var svg: String?
        public var dot: String?
        /// Why there is no picture (too large to draw here).
        public var noPicture: String?
    }

    public struct EntityType: Sendable {
        public var name: String
        public var entities: Int
        public var buckets: [Bucket]
        public var largest: [Largest]
        /// Per trait column (byte order): entities of this type with a value.
        public var traits: [(name: String, covered: Int)]
    }

    public struct Output: Sendable {
        public var name: String
        public var shape: String
        public var rows: Int
    }

    public var project: String
    public var location: String
    public var log: BuildLog?
    public var types: [EntityType] = []
    public var edgeQuality: [[String]] = []
    public var edgeQualityCount = 0
    public var edgeQualityBySeverity: [(severity: String, identifiers: Int)] = []
    public var outputs: [Output] = []
    public var syncColumns: [String] = []
    public var syncs: [[String]] = []

    /// Entities with more identifiers than this are listed without a picture.
    public static let largestPicture = 2_000
    static let bucketBounds: [(String, Int)] = [("1", 1), ("2", 2), ("3", 3), ("4–5", 5), ("6–10", 10), ("11–20", 20),
                                                ("21–50", 50), ("51–100", 100), ("101–500", 500), ("501–1,000", 1000)]

    /// Reads the report from `warehouse`; `pictures: false` leaves the pictures out.
    public static func gather(project: Project, warehouse w: any Warehouse, pictures: Bool = true, largest: Int = 5) throws -> RunReport {
        let d = w.dialect
        guard try w.relationKind("nexus_entities") != nil else {
            throw NexusError("report", "the project has not been built into \(w.location) yet: run `nexus run` first")
        }
        var r = RunReport(project: project.config.name, location: w.location, log: try BuildLog.load(w))
        let columns = try w.columns(of: "nexus_entities")?.map(\.name) ?? []
        let traitNames = columns.filter { !EntityColumns.reserved.contains($0) }.sorted { Array($0.utf8).lexicographicallyPrecedes($1.utf8) }
        var coverage: [String: [String: Int]] = [:], totals: [String: Int] = [:]
        let counts = traitNames.map { "count(\(d.quote($0)))" }
        for row in try w.query("SELECT entity_type, count(*)\(counts.isEmpty ? "" : ", " + counts.joined(separator: ", ")) FROM \(d.quote("nexus_entities")) GROUP BY entity_type").rows {
            let t = row[0].string ?? ""
            totals[t] = Int(row[1].string ?? "") ?? 0
            for (i, name) in traitNames.enumerated() { coverage[t, default: [:]][name] = Int(row[i + 2].string ?? "") ?? 0 }
        }
        for t in project.config.entityTypes {
            let mapping = "nexus_resolved_\(t)_identifiers"
            guard try w.relationKind(mapping) != nil else { continue }
            let sizes = EntitySizes(warehouse: w, table: mapping, idColumn: "\(t)_id")
            var perSize: [Int: Int] = [:]
            for row in try w.query("SELECT n, count(*) FROM (SELECT count(*) AS n FROM \(id: mapping) GROUP BY \(id: "\(t)_id")) AS s GROUP BY n" as SQL).rows {
                perSize[Int(row[0].string ?? "") ?? 0] = Int(row[1].string ?? "") ?? 0
            }
            var buckets = bucketBounds.map { Bucket(label: $0.0, entities: 0) } + [Bucket(label: "over 1,000", entities: 0)]
            for (n, entities) in perSize {
                let i = bucketBounds.firstIndex { n <= $0.1 } ?? bucketBounds.count
                buckets[i].entities += entities
            }
            var top: [Largest] = []
            for e in try sizes.largest(largest, above: 1) {
                let events = try w.integer("SELECT count(DISTINCT event_id) FROM \(id: "nexus_entity_participants") WHERE entity_id = \(e.id)" as SQL)
                var l = Largest(id: e.id, identifiers: e.identifiers, emails: e.emails, phones: e.phones, events: events)
                if pictures {
                    if e.identifiers > largestPicture {
                        l.noPicture = "too large to draw here (\(e.identifiers) identifiers); `nexus explain` on one of its identifiers lists them"
                    } else if let (type, value) = try centre(of: e.id, type: t, mapping: mapping, warehouse: w) ?? sizes.anyIdentifier(of: e.id) {
                        let dot = try Explainer(warehouse: w).explain(type: type, value: value, entityType: t).dot()
                        if Graphviz.program() != nil { l.svg = try Graphviz.svg(dot, for: "report") } else { l.dot = dot }
                    }
                }
                top.append(l)
            }
            r.types.append(EntityType(name: t, entities: totals[t] ?? 0, buckets: buckets, largest: top,
                                      traits: traitNames.map { ($0, coverage[t]?[$0] ?? 0) }.filter { $0.covered > 0 }))
        }
        if try w.relationKind("nexus_edge_quality") != nil {
            let q = "nexus_edge_quality"
            r.edgeQualityCount = try w.integer("SELECT count(*) FROM \(id: q)" as SQL)
            for row in try w.query("SELECT severity, count(*) FROM \(id: q) GROUP BY severity" as SQL).rows {
                r.edgeQualityBySeverity.append((row[0].string ?? "", Int(row[1].string ?? "") ?? 0))
            }
            let rank = ["CRITICAL": 0, "ERROR": 1, "WARNING": 2]
            r.edgeQualityBySeverity.sort { (rank[$0.severity] ?? 3, $0.severity) < (rank[$1.severity] ?? 3, $1.severity) }
            // The table's own order (partners, then type order, then bytes) is its insertion order.
            let order = d.byteOrder("identifier_type") + ", " + d.byteOrder("identifier_value")
            r.edgeQuality = try w.query("""
                SELECT entity_type, identifier_type, identifier_value, partners, edges, connected_types, sources, severity, filtered
                FROM \(id: q) ORDER BY partners DESC, \(sql: typeRank(project.config.entityTypes)), \(sql: order) LIMIT 25
                """ as SQL).rows.map { $0.map { $0.string ?? "" } }
        }
        for m in project.models {
            guard let cols = try w.columns(of: m.name)?.map(\.name), let shape = SyncShape(columns: cols) else { continue }
            r.outputs.append(Output(name: m.name, shape: shape.syncType, rows: try w.integer("SELECT count(*) FROM \(id: m.name)" as SQL)))
        }
        r.outputs.sort { Array($0.name.utf8).lexicographicallyPrecedes($1.name.utf8) }
        if try w.relationKind(SyncState.runsTable) != nil {
            r.syncColumns = ["finished_at", "sent", "deleted", "unchanged", "failed", "skipped", "requests", "seconds", "stopped_at"]
            r.syncs = try w.query("""
                SELECT \(sql: r.syncColumns.map(d.quote).joined(separator: ", ")) FROM \(id: SyncState.runsTable)
                ORDER BY finished_at DESC, run_id DESC LIMIT 10
                """ as SQL).rows.map { $0.map { $0.string ?? "" } }
        }
        return r
    }

    /// The identifier to draw an entity around: its identifier with the most partners in
    /// `nexus_edge_quality` (the hub, when one glued it together; ties by type and value in
    /// byte order), or nil when none of its identifiers is there.
    static func centre(of entity: String, type t: String, mapping: String, warehouse w: any Warehouse) throws -> (String, String)? {
        guard try w.relationKind("nexus_edge_quality") != nil else { return nil }
        let d = w.dialect
        let row = try w.query("""
            SELECT q.identifier_type, q.identifier_value FROM \(id: "nexus_edge_quality") q
            JOIN \(id: mapping) m ON m.identifier_type = q.identifier_type AND m.identifier_value = q.identifier_value
            WHERE q.entity_type = \(t) AND m.\(id: "\(t)_id") = \(entity)
            ORDER BY q.partners DESC, \(sql: d.byteOrder("q.identifier_type")), \(sql: d.byteOrder("q.identifier_value")) LIMIT 1
            """ as SQL).rows.first
        guard let row, let type = row[0].string, let value = row[1].string else { return nil }
        return (type, value)
    }

    /// `entity_type`'s position in nexus.yml's list, as SQL.
    static func typeRank(_ types: [String]) -> String {
        "CASE entity_type " + types.enumerated().map { "WHEN '\($1.replacingOccurrences(of: "'", with: "''"))' THEN \($0)" }.joined(separator: " ") + " ELSE \(types.count) END"
    }
}
