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
        guard warehouse.dialect.transactionalDDL else { return try swapInPlace() }
        let d = warehouse.dialect
        let viewNames = Set(stagedViews.map(\.name))
        let columns = ["name", "path", "size", "mtime", "hash", "types"]
        let upsert = d.upsert(into: Runner.seedStateTable, columns: columns, key: "name", placeholders: columns.indices.map { d.placeholder($0 + 1) })
        // The resolution log is appended to, never replaced.
        let log = Project.resolutionLog
        let staged = self.staged.subtracting([log])
        let stagedOrder = self.stagedOrder.filter { $0 != log }
        try warehouse.publish {
            try publishResolution()
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

    /// The publish where DDL commits on its own (Snowflake): no relation is ever missing. Each
    /// staged table trades places with the published one (`ALTER TABLE … SWAP WITH`, atomic
    /// per table), or takes a free name; each view is replaced in place (`CREATE OR REPLACE
    /// VIEW`); the old tables, now under the staging names, are dropped last. A reader sees
    /// each relation whole, old or new; while the publish runs (one statement per relation),
    /// a query over two relations may see one old and one new. A failure part way leaves
    /// every relation readable, some new and some old, and the next run publishes them all.
    func swapInPlace() throws {
        let d = warehouse.dialect
        let viewNames = Set(stagedViews.map(\.name))
        let columns = ["name", "path", "size", "mtime", "hash", "types"]
        let upsert = d.upsert(into: Runner.seedStateTable, columns: columns, key: "name", placeholders: columns.indices.map { d.placeholder($0 + 1) })
        try publishResolution()
        let stagedOrder = self.stagedOrder.filter { $0 != Project.resolutionLog }
        for name in stagedOrder where !viewNames.contains(name) {
            switch try warehouse.relationKind(name) {
            case .table?:
                try warehouse.execute("ALTER TABLE \(d.quote(stage(name))) SWAP WITH \(d.quote(name))")
            case .view?:
                // A relation that was a view and is now a table: a moment without it.
                try warehouse.execute("DROP VIEW \(d.quote(name))")
                try warehouse.renameTable(stage(name), to: name)
            case nil:
                try warehouse.renameTable(stage(name), to: name)
            }
        }
        for v in stagedViews {
            if try warehouse.relationKind(v.name) == .table { try warehouse.execute("DROP TABLE \(d.quote(v.name))") }
            try warehouse.execute("CREATE OR REPLACE VIEW \(d.quote(v.name)) AS \(try v.finalSQL())")
        }
        // The previous build's tables, now under the staging names, and the staged views.
        for v in stagedViews.reversed() { try warehouse.execute("DROP VIEW IF EXISTS \(d.quote(stage(v.name)))") }
        for name in stagedOrder.reversed() where !viewNames.contains(name) {
            try warehouse.execute("DROP TABLE IF EXISTS \(d.quote(stage(name)))")
        }
        try warehouse.executeMany(upsert, seedStates.map { seed, state in
            [.text(seed.name), .text(seed.file), .integer(state.size), .real(state.mtime), .text(state.hash), .text(state.types)]
        })
    }
}
