import Foundation
import NexusCore
import NexusEngine
import NexusProject
import NexusSQL
import NexusWarehouse

/// One finished step of a run.

// Publishing a build: the staged relations replace the published ones in one transaction.
extension Runner {
    func swap() throws {
        let d = warehouse.dialect
        let viewNames = Set(stagedViews.map(\.name))
        let columns = ["name", "path", "size", "mtime", "hash", "types"]
        let upsert = d.upsert(into: Runner.seedStateTable, columns: columns, key: "name", placeholders: columns.indices.map { d.placeholder($0 + 1) })
        try warehouse.publish {
            // Dependents before what they read (a server refuses otherwise): the staged views
            // and then the published relations, each in the reverse of the build order.
            for v in stagedViews.reversed() { try warehouse.execute("DROP VIEW IF EXISTS \(d.quote(stage(v.name)))") }
            for name in stagedOrder.reversed() {
                switch try warehouse.relationKind(name) {
                case .view?: try warehouse.execute("DROP VIEW \(d.quote(name))")
                case .table?: try warehouse.execute("DROP TABLE \(d.quote(name))")
                case nil: break
                }
            }
            for name in staged.sorted() where !viewNames.contains(name) {
                try warehouse.renameTable(stage(name), to: name)
            }
            for v in stagedViews {
                try warehouse.execute("CREATE VIEW \(d.quote(v.name)) AS \(try v.finalSQL())")
            }
            // The planner's statistics for every table this build replaced or indexed: those
            // gathered under staging names move to the final names (sqlite_stat1 rows name
            // tables, and a rename leaves them behind); the others are gathered now.
            try warehouse.moveStatistics(analyzedStaged.sorted().map { (from: stage($0), to: $0) })
            let tables = try staged.union(analyzeAlso).subtracting(analyzedStaged).sorted().filter { try warehouse.relationKind($0) == .table }
            try warehouse.analyze(tables)
            try warehouse.executeMany(upsert, seedStates.map { seed, state in
                [.text(seed.name), .text(seed.file), .integer(state.size), .real(state.mtime), .text(state.hash), .text(state.types)]
            })
        }
    }
}
