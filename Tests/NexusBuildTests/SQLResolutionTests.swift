import Foundation
import Testing
import NexusCore
import NexusEngine
import NexusScaffold
import NexusTesting
import NexusWarehouse

/// The SQL engine's identity resolution against the native engine's, row for row, on the
/// differential tests' random projects: on SQLite, and on a real PostgreSQL server.
struct SQLResolutionTests {
    static let types = DifferentialTests.types

    static func context(_ rows: @escaping (String, Int) -> Void = { _, _ in }) -> EngineContext {
        var c = EngineContext(entityTypes: types, processedAt: 0,
                              physicalName: { $0.hasPrefix("nexus_resolved_") ? "sql_" + $0 : $0 },
                              progress: { _, _, _ in }, warn: { _ in })
        c.relationRows = rows
        return c
    }

    static func mapping(_ w: any Warehouse, _ table: String, _ t: String) throws -> [[String?]] {
        try w.query("SELECT \(t)_identifier_id, \(t)_id, event_id, identifier_type, identifier_value, realtime_processed, existing_\(t), resolution_reason, previous_entity_id, resolved_at_watermark FROM \(table)")
            .rows.map { $0.map(\.string) }.sorted { DifferentialTests.rowOrder($0, $1) }
    }

    /// Native build (cold), then the SQL resolution over the same core relation.
    static func native(_ seed: UInt64, scale: Int) throws -> SQLiteWarehouse {
        let c = DifferentialTests.makeCase(seed, scale: scale)
        let f = Fixture()
        f.events = c.events.map { [$0.0, $0.1, "happened", "test", "s", $0.1] }
        f.identifiers = c.idents.enumerated().map { k, i in
            ["id\(k)", i.event, i.edge, i.etype, i.itype, i.value, i.role, "s", i.occurred, i.occurred]
        }
        f.traits = c.traits.map { t in [t.id, "e1", t.etype, t.itype, t.value, t.name, t.traitValue, "s", t.occurred, t.ingested] }
        f.declarations = c.declarations.map { d in
            [d.id, "e1", d.occurred, d.a.2, d.a.1, d.a.0, d.a.3, d.b.2, d.b.1, d.b.0, d.b.3, d.type, d.direction, d.active, d.source, d.ingested]
        }
        return try f.run()
    }

    /// A relation's rows as text, sorted: `columns` as given, or all of them.
    static func rows(_ w: any Warehouse, _ table: String) throws -> [[String?]] {
        try w.query("SELECT * FROM \(table)").rows.map { $0.map(\.string) }.sorted { DifferentialTests.rowOrder($0, $1) }
    }

    static let tables = ["nexus_resolved_entity_traits", "nexus_entity_participants", "nexus_entities", "nexus_relationships"]

    @Test(arguments: [(1, 1), (2, 1), (3, 1), (7, 1), (11, 1), (1001, 25), (1002, 25)])
    func sqlResolutionEqualsNativeOnSQLite(seed: Int, scale: Int) throws {
        let w = try SQLResolutionTests.native(UInt64(seed), scale: scale)
        let outcome = try SQLResolution(warehouse: w).run(SQLResolutionTests.context())
        for t in SQLResolutionTests.types {
            let native = try SQLResolutionTests.mapping(w, "nexus_resolved_\(t)_identifiers", t)
            let sql = try SQLResolutionTests.mapping(w, "sql_nexus_resolved_\(t)_identifiers", t)
            #expect(native == sql, "seed \(seed), \(t): \(native.count) native rows, \(sql.count) SQL rows")
        }
        #expect(outcome.labelsChanged.last == 0 && outcome.rounds >= 1)
        #expect(try w.integer("SELECT count(*) FROM nexus_entities") == outcome.entities)
        try SQLResolution(warehouse: w).writeTables(SQLResolutionTests.tablesContext())
        for t in SQLResolutionTests.tables {
            let native = try SQLResolutionTests.rows(w, t), sql = try SQLResolutionTests.rows(w, "sql_" + t)
            #expect(native == sql, "seed \(seed), \(t): \(native.count) native rows, \(sql.count) SQL rows")
            #expect(try w.columns(of: t)?.map(\.name) == w.columns(of: "sql_" + t)?.map(\.name), "\(t): same columns in the same order")
        }
    }

    /// Writes the SQL engine's tables beside the native ones (`sql_` + name), reading the
    /// native build's core relations; `_processed_at` as the fixture's build has it.
    static func tablesContext() -> EngineContext {
        EngineContext(entityTypes: types, processedAt: 1_800_000_000_000_000,
                      physicalName: { $0.hasPrefix("nexus_resolved_") || tables.contains($0) ? "sql_" + $0 : $0 },
                      progress: { _, _, _ in }, warn: { _ in })
    }

    /// One chain of 2,000 identifiers, each linked only to the next, in shuffled row order:
    /// exact at any length (no depth limit), and few rounds thanks to pointer jumping.
    @Test func aLongChainIsOneEntity() throws {
        let f = Fixture()
        var r = SeededRandom(seed: 5)
        var rows: [[String?]] = []
        for k in 0..<2000 {
            let e = "e\(k)"
            f.events.append([e, "2025-01-01 00:00:00", "linked", "test", "s", "2025-01-01 00:00:00"])
            rows.append(["a\(k)", e, e, "person", "email", "v\(k)", nil, "s", "2025-01-01 00:00:00", nil])
            rows.append(["b\(k)", e, e, "person", "email", "v\(k + 1)", nil, "s", "2025-01-01 00:00:00", nil])
        }
        f.identifiers = rows.shuffled(using: &r)
        let w = try f.run()
        let outcome = try SQLResolution(warehouse: w).run(SQLResolutionTests.context())
        #expect(outcome.entities == 1)
        #expect(try w.integer("SELECT count(DISTINCT person_id) FROM sql_nexus_resolved_person_identifiers") == 1)
        #expect(try SQLResolutionTests.mapping(w, "nexus_resolved_person_identifiers", "person") == SQLResolutionTests.mapping(w, "sql_nexus_resolved_person_identifiers", "person"))
        #expect(outcome.rounds < 40, "rounds: \(outcome.rounds) \(outcome.labelsChanged)")
    }
}

extension SQLResolutionTests {
    /// The same resolution on PostgreSQL: the native build's core relation copied into a
    /// fresh schema of a real server, resolved there, compared with the native mapping.
    @Test(arguments: [(1, 1), (2, 1), (7, 1), (1001, 25)])
    func sqlResolutionEqualsNativeOnPostgres(seed: Int, scale: Int) throws {
        let native = try SQLResolutionTests.native(UInt64(seed), scale: scale)
        let server = try PostgresServer.shared()
        var settings = PostgresWarehouse.Settings(host: server.host, port: server.port, database: server.database, user: server.user, sslmode: "disable")
        settings.passwordFile = server.passwordFile
        let schema = "r_" + UUID().uuidString.prefix(8).lowercased()
        try PostgresWarehouse(settings).execute("CREATE SCHEMA \(schema)")
        settings.schema = schema
        let pg = try PostgresWarehouse(settings)
        let columns = ["entity_identifier_id", "event_id", "edge_id", "entity_type", "identifier_type", "identifier_value", "role", "source", "occurred_at", "_ingested_at"]
        try pg.execute("CREATE TABLE nexus_entity_identifiers (\(columns.map { "\($0) \($0.hasSuffix("_at") ? "timestamp" : "text")" }.joined(separator: ", ")))")
        try pg.copy(into: "nexus_entity_identifiers", columns: columns) { send in
            try native.stream("SELECT \(columns.joined(separator: ", ")) FROM nexus_entity_identifiers") { row in
                try send((0..<columns.count).map { row.string($0) })
            }
        }
        for (relation, cols) in [("nexus_events", ["event_id", "occurred_at", "event_name", "source"]),
                                 ("nexus_entity_traits", ["entity_trait_id", "entity_type", "identifier_type", "identifier_value", "trait_name", "trait_value", "source", "occurred_at", "_ingested_at"]),
                                 ("nexus_relationship_declarations", ["relationship_declaration_id", "occurred_at", "entity_a_identifier", "entity_a_identifier_type", "entity_a_type", "entity_a_role",
                                                                      "entity_b_identifier", "entity_b_identifier_type", "entity_b_type", "entity_b_role", "relationship_type",
                                                                      "relationship_direction", "is_active", "source", "_ingested_at"])] {
            try pg.execute("CREATE TABLE \(relation) (\(cols.map { "\($0) \($0.hasSuffix("_at") ? "timestamp" : ($0 == "is_active" ? "boolean" : "text"))" }.joined(separator: ", ")))")
            try pg.copy(into: relation, columns: cols) { send in
                try native.stream("SELECT \(cols.joined(separator: ", ")) FROM \(relation)") { row in try send((0..<cols.count).map { row.string($0) }) }
            }
        }
        let outcome = try SQLResolution(warehouse: pg).run(SQLResolutionTests.context())
        for t in SQLResolutionTests.types {
            let want = try SQLResolutionTests.mapping(native, "nexus_resolved_\(t)_identifiers", t)
            let got = try SQLResolutionTests.mapping(pg, "sql_nexus_resolved_\(t)_identifiers", t)
            #expect(want == got, "seed \(seed), \(t): \(want.count) native rows, \(got.count) PostgreSQL rows")
        }
        #expect(try native.integer("SELECT count(*) FROM nexus_entities") == outcome.entities)
        try SQLResolution(warehouse: pg).writeTables(SQLResolutionTests.tablesContext())
        for t in SQLResolutionTests.tables {
            let want = try SQLResolutionTests.rows(native, t), got = try SQLResolutionTests.rows(pg, "sql_" + t)
            #expect(want == got, "seed \(seed), \(t): \(want.count) native rows, \(got.count) PostgreSQL rows")
        }
    }
}
