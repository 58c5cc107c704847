import Foundation
import Testing
import NexusCore
import NexusProject
import NexusScaffold
import NexusWarehouse
@testable import NexusBuild

func basicFixture() -> Fixture {
    let f = Fixture()
    f.event("e1", day: 1, [("email", "a@x.test"), ("segment_anonymous_id", "anon-1")])
    f.event("e2", day: 2, [("segment_anonymous_id", "anon-1"), ("phone", "+1")])
    f.event("e3", day: 3, [("email", "b@x.test")])
    f.trait("t1", ("email", "a@x.test"), "first_name", "Ann", day: 1)
    return f
}

/// Every bad input gets one clear error that names where it is.
struct BadInputTests {
    @Test func missingNexusYML() throws {
        let dir = NSTemporaryDirectory() + "nexus-empty-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let e = #expect(throws: NexusError.self) { _ = try Project.load(root: dir) }
        #expect(e?.message.contains("no nexus.yml") == true)
        #expect(e?.location?.file?.hasSuffix("nexus.yml") == true)
    }

    @Test func raggedSeedRow() throws {
        let f = basicFixture()
        try f.write()
        try "event_id,occurred_at,event_name,event_type,source\ne1,2025-01-01,x,y,s\ne2,2025-01-02,x,y\n".write(toFile: f.root + "/seeds/s_events.csv", atomically: true, encoding: .utf8)
        let e = #expect(throws: NexusError.self) { try f.build() }
        #expect(e?.location?.file == "seeds/s_events.csv")
        #expect(e?.location?.line == 3)
    }

    @Test func sourceRelationMissingRequiredColumns() throws {
        let f = basicFixture()
        try f.write()
        try "entity_identifier_id,event_id,entity_type,identifier_type,occurred_at\ni1,e1,person,email,2025-01-01\n".write(toFile: f.root + "/seeds/s_entity_identifiers.csv", atomically: true, encoding: .utf8)
        let e = #expect(throws: NexusError.self) { try f.build() }
        #expect(e?.location?.relation == "s_entity_identifiers")
        #expect(e?.location?.file == "seeds/s_entity_identifiers.csv")
        #expect(e?.message.contains("missing required columns edge_id, identifier_value") == true)
        #expect(e?.message.contains("it has: entity_identifier_id, event_id, entity_type, identifier_type, occurred_at") == true)
    }

    @Test func sourceWithoutItsRelation() throws {
        let f = basicFixture()
        try f.write()
        try FileManager.default.removeItem(atPath: f.root + "/seeds/s_entity_traits.csv")
        let e = #expect(throws: NexusError.self) { try f.build() }
        #expect(e?.message.contains("s_entity_traits") == true)
    }

    @Test func modelSQLError() throws {
        let f = basicFixture()
        f.extraFiles["models/report.sql"] = "select * from {{ ref('nexus_entities') }} join nowhere"
        let e = #expect(throws: NexusError.self) { try f.run() }
        #expect(e?.location?.model == "report")
        #expect(e?.location?.file == "models/report.sql")
        #expect(e?.message.contains("no such table: nowhere") == true)
    }

    @Test func templateErrors() throws {
        let f = basicFixture()
        f.extraFiles["models/m.sql"] = "select 1 as x\n-- {{ nexus.unknown_macro(a=1) }}"
        var e = #expect(throws: NexusError.self) { try f.run() }
        #expect(e?.location?.file == "models/m.sql" && e?.location?.line == 2 && e?.location?.column == 7)
        #expect(e?.message.contains("nexus.unknown_macro") == true)

        f.extraFiles["models/m.sql"] = "select * from {{ ref('does_not_exist') }}"
        e = #expect(throws: NexusError.self) { try f.run() }
        #expect(e?.message.contains("does_not_exist") == true && e?.location?.line == 1)

        f.extraFiles["models/m.sql"] = "select {{ var('missing') }}"
        e = #expect(throws: NexusError.self) { try f.run() }
        #expect(e?.message.contains("missing") == true)
    }

    @Test func cyclesNameTheModels() throws {
        let f = basicFixture()
        f.extraFiles["models/a.sql"] = "select * from {{ ref('b') }}"
        f.extraFiles["models/b.sql"] = "select * from {{ ref('a') }}"
        let e = #expect(throws: NexusError.self) { try f.run() }
        #expect(e?.message.contains("cycle") == true)
        #expect(e?.message.contains("model a") == true && e?.message.contains("model b") == true)
    }

    @Test func duplicateEventIDsAcrossSources() throws {
        let f = basicFixture()
        f.events.append(["e1", Fixture.ts(day: 9), "again", "test", "s", nil])
        let e = #expect(throws: NexusError.self) { try f.run() }
        #expect(e?.message.contains("event_id must be unique") == true)
        #expect(e?.message.contains("e1") == true)
    }

    @Test func unreadableTimestampNamesTheRow() throws {
        let f = basicFixture()
        f.identifiers.append(["bad-row", "e1", "e1", "person", "email", "z@x.test", "r", "s", "yesterday", nil])
        let e = #expect(throws: NexusError.self) { try f.run() }
        #expect(e?.location?.row == "bad-row")
        #expect(e?.location?.columnName == "occurred_at")
        #expect(e?.description.contains("cannot read 'yesterday' as a timestamp") == true)
        #expect(e?.location?.relation == "s_entity_identifiers")
    }
}

/// A failed run leaves the previous build intact; a good one replaces it at once.
struct SafetyTests {
    @Test func failedRunLeavesThePreviousBuildIntact() throws {
        let f = basicFixture()
        f.extraFiles["models/people.sql"] = "{{ config(materialized='view') }}\nselect entity_id, first_name from {{ ref('nexus_entities') }} where entity_type = 'person'"
        let w = try f.run()
        let before = try w.strings("SELECT * FROM nexus_entities ORDER BY entity_id")
        let peopleBefore = try w.strings("SELECT * FROM people ORDER BY entity_id")
        #expect(before.count == 2)

        // Change the data, then make a model that runs after the nexus tables fail.
        f.event("e4", day: 4, [("email", "c@x.test")])
        f.extraFiles["models/zz_broken.sql"] = "select * from {{ ref('people') }} where nonexistent_column = 1"
        #expect(throws: NexusError.self) { try f.run() }

        let w2 = try f.warehouse()
        #expect(try w2.strings("SELECT * FROM nexus_entities ORDER BY entity_id") == before)
        #expect(try w2.strings("SELECT * FROM people ORDER BY entity_id") == peopleBefore)
        #expect(try w2.relations().filter { $0.name.hasPrefix(Runner.stagePrefix) }.isEmpty)

        // Fixing the model publishes the new data.
        f.extraFiles["models/zz_broken.sql"] = "select * from {{ ref('people') }}"
        let w3 = try f.run()
        #expect(try w3.count("SELECT count(*) FROM nexus_entities") == 3)
        #expect(try w3.count("SELECT count(*) FROM zz_broken") == 3)
    }

    @Test func leftoverStagingFromAKilledRunIsCleanedUp() throws {
        let f = basicFixture()
        let w = try f.run()
        try w.execute("CREATE TABLE \(Runner.stagePrefix)nexus_entities (x)")
        _ = try f.build()
        #expect(try f.warehouse().relations().filter { $0.name.hasPrefix(Runner.stagePrefix) }.isEmpty)
    }

    @Test func seedsReloadOnlyWhenTheirFileChanged() throws {
        let f = basicFixture()
        try f.write()
        let project = try Project.load(root: f.root)
        let w = try Runner.openSQLite(project)
        let r1 = SilentReporter()
        try Runner(project: project, warehouse: w, reporter: r1, processedAt: 0).run()
        #expect(r1.steps.filter { $0.kind == "seed" }.allSatisfy { $0.rows != nil })

        let r2 = SilentReporter()
        try Runner(project: project, warehouse: w, reporter: r2, processedAt: 0).run(force: true)
        #expect(r2.steps.filter { $0.kind == "seed" }.count == 4)
        #expect(r2.steps.filter { $0.kind == "seed" }.allSatisfy { $0.note == "unchanged" })

        // Same bytes, new mtime: content hash says unchanged. New bytes: reloaded.
        let path = f.root + "/seeds/s_events.csv"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: 60)], ofItemAtPath: path)
        let r3 = SilentReporter()
        try Runner(project: project, warehouse: w, reporter: r3, processedAt: 0).run(force: true)
        #expect(r3.steps.first { $0.name == "s_events" }?.note == "unchanged content")
        try (text + "e9,2025-01-09 00:00:00,x,test,s,\n").write(toFile: path, atomically: true, encoding: .utf8)
        let r4 = SilentReporter()
        try Runner(project: project, warehouse: w, reporter: r4, processedAt: 0).run()
        #expect(r4.steps.first { $0.name == "s_events" }?.rows == 4)
        #expect(try w.count("SELECT count(*) FROM nexus_events") == 4)
    }
}

struct DeterminismTests {
    func dump(_ w: SQLiteWarehouse, _ tables: [String]) throws -> [String: [[String?]]] {
        var out: [String: [[String?]]] = [:]
        for t in tables {
            // Physical order for tables; a view has no rowid and reads in its source's order.
            let isView = try w.count("SELECT count(*) FROM sqlite_master WHERE type = 'view' AND name = '\(t)'") == 1
            out[t] = try w.strings("SELECT * FROM \"\(t)\"" + (isView ? "" : " ORDER BY rowid"))
        }
        return out
    }

    @Test func sameInputsSameOutputs() throws {
        let tables = Project.nexusRelations(entityTypes: ["person", "group"])
        let a = basicFixture(), b = basicFixture()
        let da = try dump(try a.run(processedAt: 42), tables)
        let db = try dump(try b.run(processedAt: 42), tables)
        #expect(da == db)
        // And rebuilding in place changes nothing.
        #expect(try dump(try a.build(processedAt: 42, force: true), tables) == da)
    }
}

/// A run whose inputs did not change since the last build does nothing, and says so.
struct UpToDateTests {
    @Test func unchangedInputsSkipTheBuildAndAnyChangeRebuilds() throws {
        let f = basicFixture()
        f.extraFiles["models/people.sql"] = "select entity_id from {{ ref('nexus_entities') }}"
        try f.write()
        let project = try Project.load(root: f.root)
        func run(_ force: Bool = false) throws -> Bool {
            let w = try Runner.openSQLite(project)
            return try Runner(project: project, warehouse: w, reporter: SilentReporter(), processedAt: 0).run(force: force)
        }
        #expect(try run() == true)
        #expect(try run() == false)
        #expect(try run(true) == true)
        #expect(try run() == false)
        // The record is in the warehouse, not in a file beside it.
        #expect(try f.warehouse().readState("build")?.contains("fingerprint") == true)
        #expect(!FileManager.default.fileExists(atPath: f.root + "/warehouse.sqlite.nexus-state"))

        // A write to the warehouse by another tool (here: a seed table edited in place) rebuilds.
        try f.warehouse().execute("INSERT INTO s_events VALUES ('e7', '2025-01-07 00:00:00', 'x', 'test', 's', NULL)")
        #expect(try run() == true)
        #expect(try f.warehouse().count("SELECT count(*) FROM nexus_events") == 4)
        #expect(try run() == false)

        // A changed model rebuilds.
        try "select entity_id, entity_type from {{ ref('nexus_entities') }}".write(toFile: f.root + "/models/people.sql", atomically: true, encoding: .utf8)
        let changed = try Project.load(root: f.root)
        let w = try Runner.openSQLite(changed)
        #expect(try Runner(project: changed, warehouse: w, reporter: SilentReporter(), processedAt: 0).run() == true)
        #expect(try w.columns(of: "people")?.count == 2)

        // A dropped relation rebuilds.
        try w.execute("DROP TABLE people")
        #expect(try Runner(project: changed, warehouse: w, reporter: SilentReporter(), processedAt: 0).run() == true)
    }
}

extension BadInputTests {
    /// Only changed nodes and what reads them are rebuilt: an edited output model keeps the
    /// nexus tables, a changed source rebuilds them (and their readers, not the others),
    /// and --full rebuilds every model and nexus table.
    @Test func onlyChangedNodesAndTheirReadersRebuild() throws {
        let f = basicFixture()
        f.extraFiles["models/people.sql"] = "select entity_id from {{ ref('nexus_entities') }}"
        f.extraFiles["models/constant.sql"] = "select 1 as x"
        try f.write()
        /// What each step reported: nil when it was built, its note when it was kept.
        func run(force: Bool = false) throws -> [String: String] {
            let project = try Project.load(root: f.root)
            let w = try Runner.openSQLite(project)
            let r = SilentReporter()
            try Runner(project: project, warehouse: w, reporter: r, processedAt: 0).run(force: force)
            var out: [String: String] = [:]
            for step in r.steps where out[step.name] == nil { out[step.name] = step.note ?? "built" }
            return out
        }
        _ = try run()
        try "select entity_id, entity_type from {{ ref('nexus_entities') }}".write(toFile: f.root + "/models/people.sql", atomically: true, encoding: .utf8)
        var s = try run()
        #expect(s["nexus tables"]?.hasPrefix("unchanged") == true)
        #expect(s["people"] == "built" && s["constant"]?.hasPrefix("unchanged") == true)
        #expect(try f.warehouse().columns(of: "people")?.count == 2)
        #expect(try f.warehouse().count("SELECT count(*) FROM nexus_entities") == 2)

        f.event("e4", day: 4, [("email", "c@x.test")])
        try f.write()
        s = try run()
        #expect(s["nexus tables"] == nil && s["read identifiers"] != nil)  // the engine ran
        #expect(s["people"] == "built" && s["constant"]?.hasPrefix("unchanged") == true)
        #expect(try f.warehouse().count("SELECT count(*) FROM people") == 3)

        s = try run(force: true)
        #expect(s["people"] == "built" && s["constant"] == "built" && s["read identifiers"] != nil)
    }
}

/// The bundled demo builds and shows the merges it promises.
struct DemoTests {
    @Test func demoShowsItsMerges() throws {
        let dir = NSTemporaryDirectory() + "nexus-demo-" + UUID().uuidString
        try DemoProject.write(to: dir)
        let project = try Project.load(root: dir)
        let w = try Runner.openSQLite(project)
        let reporter = SilentReporter()
        let runner = Runner(project: project, warehouse: w, reporter: reporter, processedAt: 0)
        try runner.run()
        #expect(reporter.warnings.isEmpty)
        // The summary's row counts are the relations' real sizes.
        for name in project.nexusRelations {
            #expect(runner.relationRows[name] == (try w.count("SELECT count(*) FROM \"\(name)\"")), "\(name)")
        }

        // A chain of more than five hops is one person.
        let chain = try #require(try w.entityID("email", "chain.walker@example.com"))
        #expect(try w.entityID("segment_anonymous_id", "anon-chain-0") == chain)
        let explanation = try Explainer(warehouse: w).explain(type: "email", value: "chain.walker@example.com", entityType: "person")
        #expect(explanation.links.first { $0.identifier == "segment_anonymous_id anon-chain-0" }?.path.count == 8)

        // A merge through a shared anonymous id.
        #expect(try w.entityID("email", "lead.sam@example.com") == w.entityID("patient_id", "P0007"))
        // Emails that differ by case and blanks meet after the source model normalises them.
        #expect(try w.entityID("email", "carla.costa@example.com") == w.entityID("patient_id", "P0003"))
        #expect(try w.entityID("segment_anonymous_id", "anon-0003") == w.entityID("patient_id", "P0003"))
        // Locations are groups, with membership relationships from appointments.
        #expect(try w.count("SELECT count(*) FROM nexus_entities WHERE entity_type = 'group'") == 6)
        #expect(try w.count("SELECT count(*) FROM nexus_relationships WHERE relationship_type = 'membership'") > 250)
        #expect(try w.count("SELECT count(*) FROM nexus_entities WHERE entity_type = 'person' AND location_name IS NOT NULL") == 0)

        // Core relations whose sources need no conversion are views (no copy of the rows).
        #expect(try w.relationKind("nexus_events") == .view)
        #expect(try w.relationKind("nexus_entity_identifiers") == .view)
        // Any SQLite client (without nexus's functions) can read every table and every nexus
        // relation (views that call nexus's functions, like the Customer.io models, need them).
        let plain = try SQLiteWarehouse(path: dir + "/warehouse.sqlite", nexusFunctions: false)
        for (name, kind) in try plain.relations() where kind == .table || name.hasPrefix("nexus_") {
            _ = try plain.query("SELECT * FROM \"\(name)\" LIMIT 1")
        }

        // The seed's four Customer.io examples run as written.
        let persons = try w.query("SELECT * FROM customer_io_persons")
        #expect(Array(persons.columns.prefix(3)) == ["userId", "anonymousId", "timestamp"])
        #expect(persons.columns.last == "customer_journey_state")
        #expect(!persons.columns.contains("email") && !persons.columns.contains("location_name"))
        #expect(persons.rows.count > 150)
        #expect(try w.count("SELECT count(*) FROM customer_io_persons WHERE customer_journey_state = 'lead'") == 0)
        #expect(try w.count("SELECT count(*) FROM customer_io_events WHERE \"userId\" NOT IN (SELECT \"userId\" FROM customer_io_persons)") == 0)
        #expect(try w.count("SELECT count(*) FROM customer_io_events WHERE event = 'payment completed' AND value IS NOT NULL AND value_unit = 'USD'") > 100)
        #expect(try w.strings("SELECT DISTINCT \"objectTypeId\" FROM customer_io_locations") == [["1"]])
        #expect(try w.count("SELECT count(*) FROM customer_io_locations WHERE location_lobbie_integration_uuid IS NOT NULL") == 6)
        let attributes = try w.strings("SELECT \"relationshipAttributes\" FROM customer_io_location_relationships").map { $0[0]! }
        #expect(attributes.count > 200)
        for json in attributes {
            for key in ["is_primary_location", "is_most_recent_location", "is_first_location", "has_multiple_locations"] {
                #expect(json.contains("\"\(key)\":true") || json.contains("\"\(key)\":false"), "\(json)")
            }
            #expect(json.range(of: #""location_count":[0-9]+,"#, options: .regularExpression) != nil)
            #expect(json.range(of: #""first_interaction_at":"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}""#, options: .regularExpression) != nil)
        }
        #expect(attributes.contains { $0.contains("\"has_multiple_locations\":true") })

        // The macros give the same rows as the hand-written seed models.
        func same(_ a: String, _ b: String, _ columns: [String]) throws {
            let cols = columns.map { "\"\($0)\"" }.joined(separator: ", ")
            let x = try w.strings("SELECT \(cols) FROM \(a) ORDER BY \(cols)")
            let y = try w.strings("SELECT \(cols) FROM \(b) ORDER BY \(cols)")
            #expect(x.count > 0)
            #expect(x == y, "\(a) vs \(b)")
        }
        try same("customer_io_events", "cio_events", ["userId", "anonymousId", "timestamp", "event", "event_type", "value", "value_unit", "event_data_source"])
        try same("customer_io_locations", "cio_locations", ["groupId", "objectTypeId", "timestamp", "location_name", "location_lobbie_integration_uuid", "nexus_entity_id", "created_at"])
        try same("customer_io_location_relationships", "cio_location_relationships", ["groupId", "objectTypeId", "userId", "timestamp", "relationshipAttributes"])
    }

    @Test func syntheticProjectBuilds() throws {
        let dir = NSTemporaryDirectory() + "nexus-gen-" + UUID().uuidString
        let stats = try SyntheticClinic(persons: 200).write(to: dir)
        let project = try Project.load(root: dir)
        let w = try Runner.openSQLite(project)
        try Runner(project: project, warehouse: w, reporter: SilentReporter(), processedAt: 0).run()
        #expect(try w.count("SELECT count(*) FROM nexus_events") == stats.events)
        #expect(try w.count("SELECT count(*) FROM nexus_entity_identifiers") == stats.identifiers)
        let persons = try w.count("SELECT count(*) FROM nexus_entities WHERE entity_type = 'person'")
        #expect(persons == 200)
        // Written twice with the same seed, the files are identical.
        let dir2 = NSTemporaryDirectory() + "nexus-gen-" + UUID().uuidString
        _ = try SyntheticClinic(persons: 200).write(to: dir2)
        for name in ["clinic_events", "clinic_entity_identifiers", "clinic_entity_traits"] {
            #expect(FileManager.default.contentsEqual(atPath: "\(dir)/seeds/\(name).csv", andPath: "\(dir2)/seeds/\(name).csv"))
        }
    }
}

/// The engine takes its rows from the seed loader when the core views are plain projections
/// of seeds loaded in the same run; it must build exactly what reading the views gives.
struct SeedFeedTests {
    let tables = Project.nexusRelations(entityTypes: ["person", "group"])

    func fed(_ r: SilentReporter) -> Bool {
        r.steps.contains { $0.kind == "engine" && $0.note == "during the seed load" }
    }

    /// Builds `f` cold, then rebuilds it with `--full` (seeds unchanged, so the engine reads
    /// the views back from SQLite); returns whether the cold run was fed, and both dumps.
    func coldAndFull(_ f: Fixture) throws -> (fed: Bool, cold: [String: [[String?]]], full: [String: [[String?]]]) {
        let (w, r) = try f.runReporting(processedAt: 42)
        let cold = try DeterminismTests().dump(w, tables)
        let project = try Project.load(root: f.root)
        let again = SilentReporter()
        try Runner(project: project, warehouse: w, reporter: again, processedAt: 42).run(force: true)
        #expect(!fed(again))
        return (fed(r), cold, try DeterminismTests().dump(w, tables))
    }

    @Test func aFedBuildEqualsOneThatReadsTheViews() throws {
        let f = basicFixture()
        // The source keeps persons only: its group rows must not reach the engine either.
        f.yml = f.yml.replacingOccurrences(of: "entities: true", with: "entities: [person]")
        f.event("e4", day: 4, [("email", "b@x.test"), ("phone", "+2")], role: nil)
        f.event("e5", day: 5, type: "group", [("location_id", "L1")])
        f.trait("t2", ("email", "b@x.test"), "first_name", "", day: 2)
        f.trait("t3", ("email", "b@x.test"), "first_name", nil, day: 3)
        f.trait("t4", type: "group", ("location_id", "L1"), "city", "Oslo", day: 5, ingested: "2025-01-06 00:00:00")
        f.trait("t5", ("phone", "+2"), "plan", "gold", day: 4)
        let (wasFed, cold, full) = try coldAndFull(f)
        #expect(wasFed)
        #expect(cold == full)
        #expect(cold["nexus_entities"]?.count == 2)
    }

    @Test func aViewThatConvertsAColumnTheEngineReadsIsReadBack() throws {
        // Every trait value is a number: the seed column is INTEGER and the view casts it to
        // text, so the rows the loader bound are not the rows the view gives.
        let f = basicFixture()
        f.traits = []
        f.trait("t1", ("email", "a@x.test"), "score", "10", day: 1)
        f.trait("t2", ("email", "b@x.test"), "score", "7", day: 2)
        let (wasFed, cold, full) = try coldAndFull(f)
        #expect(!wasFed)
        #expect(cold == full)
        #expect(cold["nexus_resolved_entity_traits"]?.first?[4] == "10")
    }

    @Test func aSeedReloadedWithOtherTypesIsReadBack() throws {
        // `role` looks like integers for the first rows the loader samples, then is text:
        // the identifiers load starts again, after the engine had seen its first rows.
        let f = Fixture()
        for i in 0..<(SeedLoader.sampleRows + 20) {
            f.event("e\(i)", day: 1 + i % 28, [("email", "p\(i % 5000)@x.test"), ("phone", "+\(i % 7000)")], role: i < SeedLoader.sampleRows + 10 ? "1" : "patient")
        }
        f.trait("t1", ("email", "p1@x.test"), "first_name", "Ann", day: 1)
        let (wasFed, cold, full) = try coldAndFull(f)
        #expect(!wasFed)
        #expect(cold == full)
        #expect(cold["nexus_entity_participants"]?.contains { $0[4] == "patient" } == true)
    }
}
