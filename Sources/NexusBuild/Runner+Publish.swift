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
        try warehouse.execute("PRAGMA legacy_alter_table=ON")
        defer { try? warehouse.execute("PRAGMA legacy_alter_table=OFF") }
        let viewNames = Set(stagedViews.map(\.name))
        try warehouse.transaction {
            // Views first: they may refer to the tables being replaced.
            for v in stagedViews { try warehouse.execute("DROP VIEW IF EXISTS \(d.quote(stage(v.name)))") }
            for name in staged.sorted() {
                switch try warehouse.relationKind(name) {
                case .view?: try warehouse.execute("DROP VIEW \(d.quote(name))")
                case .table?: try warehouse.execute("DROP TABLE \(d.quote(name))")
                case nil: break
                }
            }
            for name in staged.sorted() where !viewNames.contains(name) {
                try warehouse.execute("ALTER TABLE \(d.quote(stage(name))) RENAME TO \(d.quote(name))")
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
            for (seed, state) in seedStates {
                try warehouse.execute("""
                    INSERT OR REPLACE INTO \(id: Runner.seedStateTable) (name, path, size, mtime, hash, types)
                    VALUES (\(seed.name), \(seed.file), \(state.size), \(state.mtime), \(state.hash), \(state.types))
                    """ as SQL)
            }
        }
    }
}
