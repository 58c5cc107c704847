import Foundation
import Testing
import NexusBuild
import NexusCore
import NexusProject
import NexusScaffold
import NexusWarehouse

/// Indexes on the keys models join on, a model's own `indexes`, and the planner's statistics.
struct IndexTests {
    func fixture() -> Fixture {
        let f = Fixture()
        f.event("e1", day: 1, [("email", "a@x.test"), ("phone", "+1")])
        f.event("e2", day: 2, [("email", "b@x.test")])
        f.event("e3", day: 3, type: "group", [("location_id", "L1")])
        f.trait("t1", ("email", "a@x.test"), "email", "a@x.test", day: 1)
        f.trait("t2", ("email", "a@x.test"), "first_name", "Ann", day: 1)
        f.trait("t3", ("email", "b@x.test"), "email", "b@x.test", day: 2)
        f.trait("t4", type: "group", ("location_id", "L1"), "location_id", "L1", day: 3)
        f.declare("d1", a: ("email", "a@x.test"), b: ("location_id", "L1"), day: 3)
        return f
    }

    @Test func nexusTablesAreIndexedOnTheirJoinKeys() throws {
        let f = fixture()
        let (w, reporter) = try f.runReporting()
        func indexes(_ t: String) throws -> Set<[String]> { Set(try w.indexes(on: t)) }
        #expect(try indexes("nexus_entity_participants") == [["event_id"], ["entity_id", "entity_type", "event_id", "role", "occurred_at"]])
        #expect(try indexes("nexus_resolved_person_identifiers") == [["person_id"], ["identifier_type", "identifier_value"]])
        #expect(try indexes("nexus_resolved_group_identifiers") == [["group_id"], ["identifier_type", "identifier_value"]])
        #expect(try indexes("nexus_relationships") == [["entity_a_id"], ["entity_b_id"]])
        // Traits named after an identifier type (email, location_id; not first_name), and the key.
        #expect(try indexes("nexus_entities") == [["entity_id"], ["email"], ["location_id"]])
        #expect(try w.count("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND sql LIKE '%WHERE \"email\" IS NOT NULL'") == 1)
        // nexus_events is a view over the seed: its index is on the seed's table.
        #expect(try w.relationKind("nexus_events") == .view)
        #expect(try indexes("s_events") == [["event_id"]])
        #expect(reporter.steps.first { $0.name == "indexes" }?.note == "11 indexes on the keys models join on; planner statistics")
        // The planner has statistics for every table the build wrote.
        for t in ["nexus_entity_participants", "nexus_entities", "nexus_resolved_person_identifiers", "s_events", "s_entity_traits"] {
            #expect(try w.count("SELECT count(*) FROM sqlite_stat1 WHERE tbl = '\(t)'") >= 1, "\(t)")
        }
        #expect(try w.count("SELECT count(*) FROM sqlite_stat1 WHERE tbl LIKE '\\_\\_nexus%' ESCAPE '\\'") == 0)

        // A forced rebuild builds them again under free names while the old build still holds its own.
        _ = try f.build(force: true)
        #expect(try indexes("nexus_entity_participants") == [["event_id"], ["entity_id", "entity_type", "event_id", "role", "occurred_at"]])
        #expect(try indexes("s_events") == [["event_id"]])
        _ = try f.build(force: true)
        #expect(try w.count("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'nexus_entity_participants'") == 2)
    }

    @Test func modelsAndNexusYMLAskForIndexes() throws {
        let f = fixture()
        f.yml += "indexes:\n  nexus_entities:\n    - {columns: [first_name]}\n    - {columns: [entity_type, first_name], unique: false}\n"
        f.extraFiles["models/people.sql"] = """
            {{ config(materialized='table', indexes=[{'columns': ['email'], 'unique': true}, {'columns': ['first_name', 'entity_id'], 'type': 'btree'}]) }}
            select entity_id, email, first_name from {{ ref('nexus_entities') }} where entity_type = 'person'
            """
        let w = try f.run()
        #expect(Set(try w.indexes(on: "people")) == [["email"], ["first_name", "entity_id"]])
        #expect(try w.count("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'people' AND sql LIKE 'CREATE UNIQUE INDEX%'") == 1)
        #expect(Set(try w.indexes(on: "nexus_entities")).isSuperset(of: [["first_name"], ["entity_type", "first_name"]]))
        #expect(try w.count("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'people'") == 2)
    }

    /// An index naming a column the model lacks, or one that cannot be built, fails the run
    /// with the model and the column named, and the previous build stays as it was.
    @Test func badIndexesFailTheRunAndKeepThePreviousBuild() throws {
        let f = fixture()
        f.extraFiles["models/people.sql"] = "{{ config(materialized='table') }}\nselect entity_id, first_name from {{ ref('nexus_entities') }}"
        let w = try f.run()
        let before = try w.strings("SELECT * FROM people ORDER BY entity_id")

        f.extraFiles["models/people.sql"] = "{{ config(materialized='table', indexes=[{'columns': ['emial']}]) }}\nselect entity_id, first_name from {{ ref('nexus_entities') }}"
        var error = #expect(throws: NexusError.self) { try f.run() }
        #expect(error?.location?.model == "people")
        #expect(error?.message.contains("'emial'") == true && error?.message.contains("entity_id, first_name") == true, "\(error?.message ?? "")")

        // A unique index over duplicate values cannot be built.
        f.extraFiles["models/people.sql"] = "{{ config(materialized='table', indexes=[{'columns': ['entity_type'], 'unique': true}]) }}\nselect entity_id, entity_type from {{ ref('nexus_entities') }}"
        error = #expect(throws: NexusError.self) { try f.run() }
        #expect(error?.location?.model == "people")
        #expect(error?.message.contains("unique (entity_type)") == true, "\(error?.message ?? "")")

        f.extraFiles["models/people.sql"] = "{{ config(materialized='table', indexes=[{'columns': 'email'}]) }}\nselect 1"
        error = #expect(throws: NexusError.self) { try f.run() }
        #expect(error?.location?.file == "models/people.sql")

        f.extraFiles["models/people.sql"] = "{{ config(materialized='table') }}\nselect entity_id, first_name from {{ ref('nexus_entities') }}"
        f.yml += "indexes:\n  nexus_entities: [{columns: [nickname]}]\n"
        error = #expect(throws: NexusError.self) { try f.run() }
        #expect(error?.message.contains("'nickname'") == true && error?.message.contains("nexus_entities") == true, "\(error?.message ?? "")")

        let w2 = try f.warehouse()
        #expect(try w2.strings("SELECT * FROM people ORDER BY entity_id") == before)
        #expect(try w2.relations().filter { $0.name.hasPrefix(Runner.stagePrefix) }.isEmpty)
        #expect(try w2.indexes(on: "people").isEmpty)
    }

    @Test func indexesOnlyForNexusTablesInNexusYML() throws {
        let error = #expect(throws: NexusError.self) {
            _ = try ProjectConfig.parse("name: x\nindexes:\n  people: [{columns: [a]}]\n", file: "nexus.yml")
        }
        #expect(error?.location?.line == 3)
        #expect(error?.message.contains("config(indexes=") == true)
    }

    /// The seed's Track example finds each person's participations through an index, instead
    /// of scanning every participant once per person (which took over 10 minutes at 10,000 persons).
    @Test func theSeedsTrackModelSearchesParticipants() throws {
        let dir = NSTemporaryDirectory() + "nexus-plan-" + UUID().uuidString
        _ = try SyntheticClinic(persons: 300, seedOutputs: true).write(to: dir)
        let project = try Project.load(root: dir)
        let w = try Runner.openSQLite(project)
        try Runner(project: project, warehouse: w, reporter: SilentReporter(), processedAt: 0).run()
        let plan = try w.strings("EXPLAIN QUERY PLAN SELECT * FROM customer_io_events").map { $0[3] ?? "" }
        #expect(plan.contains { $0.hasPrefix("SEARCH") && $0.contains("nexus_entity_participants") }, "\(plan)")
        #expect(!plan.contains { $0.hasPrefix("SCAN nexus_entity_participants") }, "\(plan)")
    }
}
