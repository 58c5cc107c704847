import NexusCore
import NexusWarehouse

/// What an engine needs to know about one build.
public struct EngineContext {
    /// Entity types, in nexus.yml order; each gets `nexus_resolved_<type>_identifiers`.
    public var entityTypes: [String]
    /// The build's `_processed_at`.
    public var processedAt: Int64
    /// Maps a final table name to the name to write (or read) it under in this build.
    public var physicalName: (String) -> String
    /// Reports a finished step: name, rows written, seconds.
    public var progress: (String, Int, Double) -> Void
    /// Reports something the user should know that does not stop the build.
    public var warn: (String) -> Void
    /// Reports how many rows a nexus relation holds (read or written), for the run's summary.
    public var relationRows: (String, Int) -> Void = { _, _ in }
    /// Edge-quality thresholds, gate and blocklist.
    public var edgeQuality = EdgeQualityRules()
    /// Reports a check's outcome: name, rows it concerns, a one-line summary.
    public var check: (String, Int, String) -> Void = { _, _, _ in }
    /// Marks the end of a part of a step (`nexus compile` writes each part to its own file).
    public var checkpoint: (String) -> Void = { _ in }
    /// Incremental resolution against the last build (`incremental: true`); nil: a full one.
    public var incremental: IncrementalResolution?

    public init(entityTypes: [String], processedAt: Int64, physicalName: @escaping (String) -> String,
                progress: @escaping (String, Int, Double) -> Void, warn: @escaping (String) -> Void) {
        self.entityTypes = entityTypes; self.processedAt = processedAt; self.physicalName = physicalName
        self.progress = progress; self.warn = warn
    }
}

/// Runs the nexus steps after the core tables exist: resolution, traits, entities,
/// participants, relationships. The native engine does them in Swift; a SQL engine will do
/// them inside the warehouse, and the two must agree row for row.
public protocol NexusEngine {
    /// Names the engine and the version of its rules: a build whose engine identity changed
    /// rebuilds the nexus tables even when their inputs did not.
    var identity: String { get }
    func run(_ context: EngineContext, warehouse: any Warehouse) throws
}

/// Columns nexus puts on every entity; a trait may not take one of these names.
public enum EntityColumns {
    public static let leading = ["entity_id", "entity_type"]
    public static let trailing = ["_created_at", "_updated_at", "_last_merged_at", "first_interaction_at", "last_interaction_at", "_processed_at"]
    /// Names reserved for system columns (including dbt-nexus's `traits_entity_id`).
    public static let reserved: Set<String> = Set(leading + trailing + ["traits_entity_id"])
}
