import Foundation
import Testing
import NexusBuild
import NexusCore
import NexusProject
import NexusWarehouse

/// A project folder in a temporary directory, written row by row in the source contract's shape.
final class Fixture {
    let root: String
    var events: [[String?]] = []
    var identifiers: [[String?]] = []
    var traits: [[String?]] = []
    var declarations: [[String?]] = []
    var yml: String
    var extraFiles: [String: String] = [:]

    init(entityTypes: String = "[person, group]") {
        root = NSTemporaryDirectory() + "nexus-build-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        yml = """
            name: fixture
            entity_types: \(entityTypes)
            sources:
              s:
                enabled: true
                events: true
                entities: true
                relationships: true

            """
    }

    static func ts(day: Int, hour: Int = 0) -> String { String(format: "2025-01-%02d %02d:00:00", day, hour) }

    /// An event with identifier occurrences sharing one edge (`edge` defaults to the event id).
    @discardableResult
    func event(_ id: String, day: Int, hour: Int = 0, edge: String? = nil, type: String = "person",
               _ idents: [(String, String)], role: String? = "r", name: String = "happened") -> String {
        let at = Fixture.ts(day: day, hour: hour)
        if !events.contains(where: { $0[0] == id }) {
            events.append([id, at, name, "test", "s", at])
        }
        for (k, (t, v)) in idents.enumerated() {
            identifiers.append(["ident-\(id)-\(identifiers.count)-\(k)", id, edge ?? id, type, t, v, role, "s", at, at])
        }
        return id
    }

    func trait(_ id: String, event: String = "e0", type: String = "person", _ ident: (String, String), _ name: String, _ value: String?, day: Int, hour: Int = 0, ingested: String? = nil) {
        let at = Fixture.ts(day: day, hour: hour)
        traits.append([id, event, type, ident.0, ident.1, name, value, "s", at, ingested ?? at])
    }

    func declare(_ id: String, a: (String, String), b: (String, String), day: Int, type: String = "membership", active: String = "true", aType: String = "person", bType: String = "group") {
        declarations.append([id, "e0", Fixture.ts(day: day), a.1, a.0, aType, "patient", b.1, b.0, bType, "location", type, "a_to_b", active, "s"])
    }

    func write() throws {
        let seeds = root + "/seeds"
        try FileManager.default.createDirectory(atPath: seeds, withIntermediateDirectories: true)
        try yml.write(toFile: root + "/nexus.yml", atomically: true, encoding: .utf8)
        func csv(_ name: String, _ header: [String], _ rows: [[String?]]) throws {
            var s = header.joined(separator: ",") + "\n"
            for r in rows { s += r.map { v in v.map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" } ?? "" }.joined(separator: ",") + "\n" }
            try s.write(toFile: "\(seeds)/\(name).csv", atomically: true, encoding: .utf8)
        }
        try csv("s_events", ["event_id", "occurred_at", "event_name", "event_type", "source", "_ingested_at"], events)
        try csv("s_entity_identifiers", ["entity_identifier_id", "event_id", "edge_id", "entity_type", "identifier_type", "identifier_value", "role", "source", "occurred_at", "_ingested_at"], identifiers)
        try csv("s_entity_traits", ["entity_trait_id", "event_id", "entity_type", "identifier_type", "identifier_value", "trait_name", "trait_value", "source", "occurred_at", "_ingested_at"], traits)
        // A declaration row of 16 values also carries `_ingested_at` (optional in the contract).
        try csv("s_relationship_declarations", ["relationship_declaration_id", "event_id", "occurred_at", "entity_a_identifier", "entity_a_identifier_type", "entity_a_type", "entity_a_role", "entity_b_identifier", "entity_b_identifier_type", "entity_b_type", "entity_b_role", "relationship_type", "relationship_direction", "is_active", "source"]
                + (declarations.contains { $0.count == 16 } ? ["_ingested_at"] : []), declarations)
        for (path, text) in extraFiles {
            let full = root + "/" + path
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: full, atomically: true, encoding: .utf8)
        }
    }

    /// Writes the project and builds it; returns the warehouse.
    @discardableResult
    func run(processedAt: Int64 = 1_800_000_000_000_000) throws -> SQLiteWarehouse {
        try write()
        return try build(processedAt: processedAt)
    }

    func build(processedAt: Int64 = 1_800_000_000_000_000, force: Bool = false) throws -> SQLiteWarehouse {
        let project = try Project.load(root: root)
        let w = try Runner.openSQLite(project)
        try Runner(project: project, warehouse: w, reporter: SilentReporter(), processedAt: processedAt).run(force: force)
        return w
    }

    /// Writes and builds the project, keeping what the run reported.
    func runReporting(processedAt: Int64 = 0) throws -> (SQLiteWarehouse, SilentReporter) {
        try write()
        let project = try Project.load(root: root)
        let w = try Runner.openSQLite(project)
        let reporter = SilentReporter()
        try Runner(project: project, warehouse: w, reporter: reporter, processedAt: processedAt).run()
        return (w, reporter)
    }

    func warehouse() throws -> SQLiteWarehouse { try SQLiteWarehouse(path: root + "/warehouse.sqlite") }
}

final class SilentReporter: RunReporter {
    var warnings: [String] = []
    var steps: [StepResult] = []
    func step(_ result: StepResult) { steps.append(result) }
    func warning(_ message: String) { warnings.append(message) }
}

extension SQLiteWarehouse {
    func strings(_ sql: String) throws -> [[String?]] {
        try query(sql).rows.map { $0.map { $0.isNull ? nil : $0.description } }
    }
    func scalar(_ sql: String) throws -> String? { try strings(sql).first?.first ?? nil }
    func count(_ sql: String) throws -> Int { Int(try scalar(sql) ?? "0") ?? -1 }

    /// Groups of identifiers ("type:value") that resolved to the same entity, as sorted sets.
    func partition(_ entityType: String = "person") throws -> Set<[String]> {
        let rows = try strings("SELECT \(entityType)_id, identifier_type || ':' || identifier_value FROM nexus_resolved_\(entityType)_identifiers")
        var groups: [String: [String]] = [:]
        for r in rows { groups[r[0]!, default: []].append(r[1]!) }
        return Set(groups.values.map { $0.sorted() })
    }

    func entityID(_ type: String, _ value: String, entityType: String = "person") throws -> String? {
        try scalar("SELECT \(entityType)_id FROM nexus_resolved_\(entityType)_identifiers WHERE identifier_type = '\(type)' AND identifier_value = '\(value)'")
    }
}

extension Runner {
    /// The project's warehouse, which these tests build on SQLite.
    static func openSQLite(_ project: Project) throws -> SQLiteWarehouse {
        try openWarehouse(project) as! SQLiteWarehouse
    }
}
