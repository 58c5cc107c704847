import Foundation
import NexusCore
import NexusEngine
import NexusProject
import NexusSQL
import NexusWarehouse

/// One finished step of a run.

// Indexes on models and nexus tables, and the planner's statistics.
extension Runner {
    /// Builds `specs` on `table`, the relation `name` in this build (its staging copy when this
    /// run rebuilds it), each unless an index on the same columns is there already. Returns
    /// how many it built.
    @discardableResult
    func buildIndexes(_ specs: [IndexSpec], on name: String, table: String, owner: String, at location: SourceLocation) throws -> Int {
        guard !specs.isEmpty, warehouse.dialect.hasIndexes else { return 0 }
        let columns = try warehouse.columns(of: table) ?? []
        var have = try warehouse.indexes(on: table)
        var built = 0
        for spec in specs {
            for c in spec.columns where !columns.contains(where: { $0.name == c }) {
                throw NexusError("index", "\(owner): index \(spec) names column '\(c)', which \(name) does not have (it has: \(columns.map(\.name).joined(separator: ", ")))", at: location)
            }
            if have.contains(spec.columns) { continue }
            do {
                try warehouse.createIndex(spec, on: table, name: "\(name)__\(spec.columns.joined(separator: "_"))")
            } catch let e as NexusError {
                throw NexusError("index", "\(owner): index \(spec) on \(name) failed: \(e.message)", at: location)
            }
            have.append(spec.columns)
            built += 1
        }
        if built > 0, !staged.contains(name) { analyzeAlso.insert(name) }
        return built
    }

    /// nexus's own indexes and those nexus.yml asks for, on the tables this run built. Where a
    /// core relation is a view, its indexes go on the source tables under it.
    func buildNexusIndexes() throws {
        let t0 = now()
        let cfg = project.config
        let location = SourceLocation(file: "nexus.yml")
        var specs = NexusIndexes.defaults(entityTypes: cfg.entityTypes)
        for (table, extra) in cfg.indexes {
            guard project.nexusRelations.contains(table) else {
                throw NexusError("index", "nexus.yml indexes: '\(table)' is not a nexus table (nexus tables: \(project.nexusRelations.joined(separator: ", ")))", at: location)
            }
            specs[table, default: []] += extra
        }
        var built = 0
        var identifierTypes: Set<String> = []
        for name in project.nexusRelations {
            var list = specs[name] ?? []
            if name == "nexus_entities" {
                let columns = try warehouse.columns(of: physical(name))?.map(\.name) ?? []
                list = NexusIndexes.entityLookups(columns: columns, identifierTypes: identifierTypes) + list
            }
            guard !list.isEmpty else { continue }
            if try warehouse.relationKind(physical(name)) == .view {
                guard let kind = SourceContract.Kind.allCases.first(where: { $0.coreTable == name }) else { continue }
                for input in sourceInputs(kind) where try warehouse.relationKind(input.physicalName) == .table {
                    built += try buildIndexes(list, on: input.relation, table: input.physicalName, owner: "indexes of \(name)", at: location)
                }
                continue
            }
            built += try buildIndexes(list, on: name, table: physical(name), owner: "indexes of \(name)", at: location)
            if name.hasPrefix("nexus_resolved_"), name.hasSuffix("_identifiers") {
                identifierTypes.formUnion(try distinctValues(of: "identifier_type", in: physical(name)))
            }
        }
        // Models built after this step read these tables: give the planner their statistics now.
        for name in project.nexusRelations where staged.contains(name) { try analyzeStaged(name) }
        record(StepResult(kind: "nexus", name: "indexes", rows: nil, seconds: now() - t0,
                          note: "\(built) index\(built == 1 ? "" : "es") on the keys models join on; planner statistics"))
    }


    /// Planner statistics for a relation this run built (a table), under its staging name.
    func analyzeStaged(_ name: String) throws {
        guard try warehouse.relationKind(stage(name)) == .table else { return }
        try warehouse.analyze([stage(name)])
        analyzedStaged.insert(name)
    }

    /// The distinct values of an indexed column, one index probe each (not a scan).
    func distinctValues(of column: String, in table: String) throws -> Set<String> {
        let d = warehouse.dialect, c = d.quote(column), t = d.quote(table)
        return Set(try warehouse.query("""
            WITH RECURSIVE v(x) AS (SELECT min(\(c)) FROM \(t) UNION ALL SELECT (SELECT min(\(c)) FROM \(t) WHERE \(c) > v.x) FROM v WHERE v.x IS NOT NULL)
            SELECT x FROM v WHERE x IS NOT NULL
            """).rows.compactMap { $0[0].string })
    }
}
