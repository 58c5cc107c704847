import Foundation
import Testing
import NexusCore
import NexusEngine
import NexusSQL
import NexusTesting
import NexusWarehouse

/// The SQL engine's statements, per dialect, against files kept beside this test
/// (`__Snapshots__/`), as DialectSnapshotTests keeps the outputs' SQL: any change to what a
/// warehouse is sent shows up in review as a diff. `NEXUS_RECORD_SNAPSHOTS=1` rewrites them.
struct SQLEngineSnapshotTests {
    /// Writes down every statement it is sent (values bound shown as placeholders) and
    /// answers as an empty warehouse would: no rows, counts of 0 (so resolution stops after
    /// one round), one trait name. Not a stand-in for a warehouse's behaviour: only the text
    /// of the statements is under test here; SQLResolutionTests runs them for real.
    final class Recorder: Warehouse {
        let dialect: any SQLDialect
        var statements: [String] = []
        init(_ d: any SQLDialect) { dialect = d }
        func record(_ s: String) { statements.append(s) }
        func execute(_ sql: String) throws { record(sql) }
        func executeCounting(_ sql: String) throws -> Int { record(sql); return 0 }
        func query(_ sql: String) throws -> QueryResult {
            record(sql)
            return QueryResult(columns: [], rows: sql.contains("DISTINCT trait_name FROM") && !sql.contains("source") ? [[.text("plan")]] : [])
        }
        func execute(_ sql: SQL) throws { record(sql.rendered(dialect).text) }
        func query(_ sql: SQL) throws -> QueryResult { try query(sql.rendered(dialect).text) }
        func stream(_ sql: SQL, header: ([String]) -> Void, _ body: (any RowCursor) throws -> Void) throws { record(sql.rendered(dialect).text) }
        func stream(_ sql: String, header: ([String]) -> Void, _ body: (any RowCursor) throws -> Void) throws { record(sql) }
        /// Columns of the relations a test names (none otherwise).
        var catalog: [String: [ColumnInfo]] = [:]
        func columns(of relation: String) throws -> [ColumnInfo]? { catalog[relation] }
        func relationKind(_ name: String) throws -> RelationKind? { nil }
        func relations() throws -> [(name: String, kind: RelationKind)] { [] }
        func transaction<R>(_ body: () throws -> R) throws -> R { try body() }
        func executeMany(_ sql: String, _ rows: [[SQLValue]]) throws { record(sql) }
        func nexusOnlyFunctions(calledBy sql: String) -> [String] { [] }
        func createIndex(_ index: IndexSpec, on table: String, name: String) throws -> String { record("CREATE INDEX \(name) ON \(table) \(index.columns)"); return name }
        func indexes(on table: String) throws -> [[String]] { [] }
        func analyze(_ tables: [String]) throws { record("ANALYZE \(tables.joined(separator: ", "))") }
        func moveStatistics(_ renames: [(from: String, to: String)]) throws {}
        func lock(_ purpose: WarehouseLock.Purpose, timeout: Double) throws -> WarehouseLock { WarehouseLock {} }
        var location: String { "recorder" }
        func createTable(_ table: String, as select: String) throws -> Int { record("CREATE TABLE \(table) AS \(select)"); return 0 }
        func createTable(_ table: String, columns: [(name: String, type: String)], as select: String) throws -> Int {
            record("CREATE TABLE \(table) (\(columns.map { "\($0.name) \($0.type)" }.joined(separator: ", "))) AS \(select)")
            return 0
        }
        func insertPipelined(into table: String, columns: [String], _ produce: (BatchSink) throws -> Void) throws { record("INSERT INTO \(table)") }
        func scanPipelined(_ sql: String, _ body: (BatchRow) throws -> Void) throws { record(sql) }
    }

    @Test(arguments: [0, 1, 2])
    func theSQLEnginesStatements(_ k: Int) throws {
        let d: any SQLDialect = [SQLiteDialect(), PostgresDialect(), SnowflakeDialect()][k]
        let w = Recorder(d)
        let context = EngineContext(entityTypes: ["person", "group"], processedAt: 1_800_000_000_000_000,
                                    physicalName: { "__nexus_stage__" + $0 }, progress: { _, _, _ in }, warn: { _ in })
        try SQLEngine().run(context, warehouse: w)
        let text = w.statements.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) + ";" }.joined(separator: "\n\n")
        #expect(w.statements.count > 30)
        let outcome = try Snapshot.check(text, name: "sql-engine.\(d.name)", besides: #filePath)
        #expect(outcome == .matches, "sql-engine.\(d.name).sql: \(outcome == .recorded ? "recorded a new snapshot: look at it, then run again" : "differs from what the engine sends now")")
    }

    /// The four core unions, per dialect: a source whose columns have the contract's types
    /// (read as they are) and one with text timestamps, text booleans and only the required
    /// columns (converted, checked, NULL for the rest; its entity types filtered).
    @Test(arguments: [0, 1, 2])
    func theCoreUnions(_ k: Int) throws {
        let d: any SQLDialect = [SQLiteDialect(), PostgresDialect(), SnowflakeDialect()][k]
        let w = Recorder(d)
        var text: [String] = []
        for kind in SourceContract.Kind.allCases {
            let typed = kind.coreColumns.filter { $0.name != "_processed_at" }.map { ColumnInfo(name: $0.name, declaredType: d.typeName($0.type)) }
            let loose = kind.columns.filter(\.required).map { ColumnInfo(name: $0.name, declaredType: d.typeName(.text)) }
            w.catalog["web_\(kind.suffix)"] = typed
            w.catalog["crm_\(kind.suffix)"] = loose
            let inputs = [
                SourceInput(source: "web", relation: "web_\(kind.suffix)", physicalName: "web_\(kind.suffix)", file: nil, entityTypes: nil),
                SourceInput(source: "crm", relation: "crm_\(kind.suffix)", physicalName: "__nexus_stage__crm_\(kind.suffix)", file: nil, entityTypes: ["person"]),
            ]
            w.catalog["__nexus_stage__crm_\(kind.suffix)"] = loose
            let union = try CoreTables(warehouse: w).union(kind: kind, inputs: inputs, processedAt: kind == .events ? 1_800_000_000_000_000 : nil)
            text.append("-- \(kind.coreTable) (converts: \(union.converts), plain: \(union.plain.sorted().joined(separator: ", ")))\n\(union.sql);")
        }
        let outcome = try Snapshot.check(text.joined(separator: "\n\n"), name: "core-unions.\(d.name)", besides: #filePath)
        #expect(outcome == .matches, "core-unions.\(d.name).sql: \(outcome == .recorded ? "recorded a new snapshot: look at it, then run again" : "differs from what CoreTables writes now")")
    }
}
