import NexusCore
import NexusSQL
import NexusWarehouse

/// What an engine found about edge quality, and what it did: the rows of
/// `nexus_edge_quality` (identifiers with more distinct partners than the warning threshold)
/// and the counts the run reports. Both engines fill it; one writer, one summary and one gate
/// serve them, so that the two cannot word or order anything differently.
///
/// Partners (dbt-nexus §3.3): the distinct identifier values an identifier co-occurs with in
/// an edge_id, among identifiers of its own entity type (docs/decisions.md says why not every
/// type), itself excluded; values are compared as exact strings, whatever their type.
public struct EdgeQualityReport: Sendable {
    public struct Row: Sendable, Equatable {
        public var entityType: String
        public var identifierType: String
        public var identifierValue: String
        public var partners: Int
        /// Distinct edge_ids the identifier occurs in.
        public var edges: Int
        /// The partners' identifier types, byte order, comma separated.
        public var connectedTypes: String
        /// Distinct partners per source of the identifier's rows: `source: n`, most first.
        public var sources: String
        /// Whether its edges were cut before resolution (`on_error: filter`).
        public var filtered: Bool
    }

    public var rows: [Row] = []
    /// Identifiers whose edges were cut, and filtered orphans left out of resolution.
    public var filtered = 0
    public var orphans = 0
    /// Distinct identifiers on the blocklist that occurred, and their rows.
    public var ignored = 0
    public var ignoredRows = 0

    public init() {}

    public static let columns: NexusTables.Columns = [
        ("entity_type", .text), ("identifier_type", .text), ("identifier_value", .text),
        ("partners", .integer), ("edges", .integer), ("connected_types", .text), ("sources", .text),
        ("severity", .text), ("filtered", .boolean),
    ]

    /// The table's order: most partners first, then entity type (nexus.yml order), identifier
    /// type and value in byte order.
    public mutating func sort(entityTypes: [String]) {
        let rank = Dictionary(uniqueKeysWithValues: entityTypes.enumerated().map { ($1, $0) })
        rows.sort { a, b in
            if a.partners != b.partners { return a.partners > b.partners }
            if a.entityType != b.entityType { return (rank[a.entityType] ?? .max, a.entityType) < (rank[b.entityType] ?? .max, b.entityType) }
            if a.identifierType != b.identifierType { return Array(a.identifierType.utf8).lexicographicallyPrecedes(b.identifierType.utf8) }
            return Array(a.identifierValue.utf8).lexicographicallyPrecedes(b.identifierValue.utf8)
        }
    }

    /// `source: n` per source, most partners first, then source in byte order.
    public static func sourcesText(_ counts: [(source: String, partners: Int)]) -> String {
        counts.sorted { $0.partners != $1.partners ? $0.partners > $1.partners : Array($0.source.utf8).lexicographicallyPrecedes($1.source.utf8) }
            .map { "\($0.source): \($0.partners)" }.joined(separator: ", ")
    }

    /// Identifier types in byte order, comma separated.
    public static func typesText(_ types: Set<String>) -> String {
        types.sorted { Array($0.utf8).lexicographicallyPrecedes($1.utf8) }.joined(separator: ", ")
    }

    /// Writes `nexus_edge_quality`.
    public func write(_ w: any Warehouse, table: String, rules: EdgeQualityRules) throws -> Int {
        try NexusTables.create(w, table, EdgeQualityReport.columns)
        try w.transaction {
            try w.insertPipelined(into: table, columns: EdgeQualityReport.columns.map(\.0)) { ins in
                for r in rows {
                    ins.bind(0, r.entityType); ins.bind(1, r.identifierType); ins.bind(2, r.identifierValue)
                    ins.bind(3, Int64(r.partners)); ins.bind(4, Int64(r.edges))
                    ins.bind(5, r.connectedTypes); ins.bind(6, r.sources)
                    ins.bind(7, rules.severity(r.partners)); ins.bind(8, Int64(r.filtered ? 1 : 0))
                    try ins.insertRow()
                }
            }
        }
        return rows.count
    }

    /// How the run's edge-quality warning begins.
    public static let warningPrefix = "edge quality:"

    /// One identifier, for messages.
    static func describe(_ r: Row) -> String {
        "\(r.entityType) \(r.identifierType) '\(r.identifierValue)' (\(r.partners) partners; \(r.sources))"
    }

    /// The run's one-line summary, the warning above `error`, and the gate: with `fail`, an
    /// error naming the worst offenders, before anything is written.
    public func apply(_ rules: EdgeQualityRules, _ context: EngineContext) throws {
        let aboveError = rows.filter { $0.partners > rules.error }
        let aboveCritical = rows.filter { $0.partners > rules.critical }.count
        var summary = "\(rows.count) identifier(s) above warning (\(rules.warning) partners), \(aboveError.count) above error (\(rules.error)), \(aboveCritical) above critical (\(rules.critical))"
        if !rows.isEmpty { summary += "; worst: " + rows.prefix(3).map(EdgeQualityReport.describe).joined(separator: "; ") }
        if rules.onError == .filter { summary += "; filter: \(filtered) identifier(s) cut, \(orphans) filtered orphan(s) left out" }
        if ignored > 0 { summary += "; ignore list: \(ignored) identifier(s) in \(ignoredRows) row(s) left out" }
        context.check("edge quality", rows.count, summary)
        guard !aboveError.isEmpty else { return }
        let worst = aboveError.prefix(5).map(EdgeQualityReport.describe).joined(separator: "; ")
        switch rules.onError {
        case .warn:
            context.warn("\(EdgeQualityReport.warningPrefix) \(aboveError.count) identifier(s) co-occur with more than \(rules.error) distinct identifiers (edge_quality.error), the way one noisy identifier (a shared phone, a placeholder email) merges many people into one: \(worst). See nexus_edge_quality; list placeholders under edge_quality.ignore, or set edge_quality.on_error to filter")
        case .fail:
            throw NexusError("edge_quality", "\(aboveError.count) identifier(s) co-occur with more than \(rules.error) distinct identifiers (edge_quality.error, on_error: fail): \(worst). Fix them at the source, list placeholders under edge_quality.ignore, or set edge_quality.on_error to filter or warn; the previous build is unchanged",
                             at: SourceLocation(relation: "nexus_entity_identifiers"))
        case .filter:
            break
        }
    }

    /// The warning for trait rows that name an identifier left out by the ignore list or the
    /// filter, per source.
    static func droppedTraitsWarning(_ n: Int, source: String) -> String {
        "nexus_entity_traits: \(n) trait row(s) from source \(source) name an identifier left out of resolution by edge_quality (ignored or filtered), and were dropped"
    }
}
