import Foundation
import NexusCore
import NexusSQL
import NexusWarehouse

/// The engine that runs every nexus step as SQL inside the warehouse (`engine: sql`): the
/// data never leaves it, and the nexus process holds only a statement at a time. Same rules
/// and ids as the native engine (docs/decisions.md); the differential tests hold the two to
/// the same rows.
public final class SQLEngine: NexusEngine {
    /// When set, resolution runs this many rounds (rounded up to an even number) even after
    /// no label changes, then checks in SQL that the last round changed none: the statements
    /// `nexus compile` writes, whose loop cannot stop early when run by hand. More rounds
    /// when the data needs them.
    public let fixedRounds: Int?

    public init(fixedRounds: Int? = nil) { self.fixedRounds = fixedRounds }

    /// What the last run's identity resolution did.
    public private(set) var lastResolution: SQLResolution.Outcome?

    public var identity: String { "sql-1" }

    /// Work tables carry the staging prefix, so that a killed run's are dropped with the rest
    /// of its staging by the next run.
    public static let workPrefix = "__nexus_stage__work_"

    public func run(_ context: EngineContext, warehouse: any Warehouse) throws {
        let resolution = SQLResolution(warehouse: warehouse, workPrefix: SQLEngine.workPrefix, fixedRounds: fixedRounds)
        defer { try? resolution.dropWork() }
        let d = warehouse.dialect
        for core in ["nexus_events", "nexus_entity_identifiers", "nexus_entity_traits", "nexus_relationship_declarations"] {
            context.relationRows(core, try warehouse.integer("SELECT count(*) FROM \(d.quote(context.physicalName(core)))"))
        }
        var t0 = Date()
        let outcome = try resolution.run(context)
        lastResolution = outcome
        context.progress("identity resolution (\(outcome.rounds) rounds)", outcome.entities, Date().timeIntervalSince(t0))
        context.relationRows("nexus_edge_quality", try outcome.quality.write(warehouse, table: context.physicalName("nexus_edge_quality"), rules: context.edgeQuality))
        context.checkpoint("nexus_edge_quality")
        let steps: [(String, String, (EngineContext) throws -> Int)] = [
            ("resolved traits", "nexus_resolved_entity_traits", resolution.writeTraits),
            ("participants", "nexus_entity_participants", resolution.writeParticipants),
            ("entities", "nexus_entities", resolution.writeEntities),
            ("relationships", "nexus_relationships", resolution.writeRelationships),
        ]
        for (step, relation, write) in steps {
            t0 = Date()
            let rows = try write(context)
            context.relationRows(relation, rows)
            context.progress(step, rows, Date().timeIntervalSince(t0))
        }
        if let o = outcome.incremental { context.incremental?.report(o) }
    }
}
