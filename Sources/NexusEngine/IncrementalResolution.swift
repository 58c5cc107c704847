import NexusCore
import NexusSQL
import NexusWarehouse

/// What an incremental build (`incremental: true`) gives the engine and takes back from it.
///
/// Identity resolution runs against the last build's mapping: every identifier it mapped
/// keeps its entity (entities only grow or merge, never split), a component of identifiers
/// that touches no earlier entity is **born** with an id minted as a full run mints it, one
/// that touches one earlier entity keeps its id (new identifiers **accreted**), and one that
/// touches several is a **merge**: the survivor is the earlier entity with the most
/// identifiers in the mapping (tie: the smallest id in byte order), and every identifier of
/// the others is **repointed** to it. Each change is a row of `nexus_resolution_log`.
public struct IncrementalResolution {
    /// Resolve against the last mapping (false: `--full`, ids minted afresh; the log still
    /// records each identifier whose entity id changed as repointed).
    public var contract: Bool
    /// Written on each log row: the build's `_processed_at`, as text.
    public var runID: String
    /// The last incremental build's state; nil on the first.
    public var previous: State?
    /// Streams the last build's mapping of an entity type (nothing when there is none), with
    /// the columns of `mappingColumns`.
    public var mapping: (_ entityType: String, _ body: (BatchRow) throws -> Void) throws -> Void
    /// Receives what the run did, before anything is published.
    public var report: (Outcome) -> Void = { _ in }

    public init(contract: Bool, runID: String, previous: State?,
                mapping: @escaping (_ entityType: String, _ body: (BatchRow) throws -> Void) throws -> Void) {
        self.contract = contract; self.runID = runID; self.previous = previous; self.mapping = mapping
    }

    /// The columns read from a published `nexus_resolved_<type>_identifiers`, in order.
    public static func mappingColumns(_ type: String) -> [String] {
        ["identifier_type", "identifier_value", "\(type)_id", "resolution_reason", "previous_entity_id", "resolved_at_watermark"]
    }

    /// Kept between builds (in `_nexus_state`): the watermark (the latest `_ingested_at`
    /// resolved, microseconds) and how many identifier rows had been resolved, all at or
    /// before it, so that the next build can tell rows loaded late (behind the watermark).
    public struct State: Codable, Sendable, Equatable {
        public var watermark: Int64
        public var occurrences: Int
        public init(watermark: Int64, occurrences: Int) { self.watermark = watermark; self.occurrences = occurrences }
    }

    /// One build's changes.
    public struct Outcome: Sendable {
        public var state: State
        /// Identifier rows ingested after the last watermark, and rows at or before it that
        /// the last build had not seen (late loads): both resolved.
        public var afterWatermark = 0
        public var late = 0
        /// Entities born; earlier entities that gained identifiers; earlier entities merged
        /// into another; identifiers repointed; new identifiers accreted.
        public var born = 0
        public var grown = 0
        public var mergedAway = 0
        public var repointed = 0
        public var accreted = 0
        public var logRows = 0

        public var summary: String {
            var s = "watermark \(state.watermark == NativeEngine.missing ? "none" : Timestamp.format(state.watermark)); \(afterWatermark) identifier row(s) after the last watermark"
            if late > 0 { s += ", \(late) loaded late (at or before it) resolved too" }
            s += "; \(born) entit\(born == 1 ? "y" : "ies") born, \(grown) grown (\(accreted) identifier(s) accreted), \(mergedAway) merged into another (\(repointed) identifier(s) repointed); \(logRows) log row(s)"
            return s
        }
    }

    /// `nexus_resolution_log`'s columns.
    public static let logColumns: NexusTables.Columns = [
        ("resolution_id", .text), ("run_id", .text), ("entity_type", .text), ("identifier_type", .text),
        ("identifier_value", .text), ("entity_id", .text), ("previous_entity_id", .text), ("resolution_reason", .text),
        ("resolved_at_watermark", .timestamp),
    ]
}
