import Foundation
import Testing
import NexusCore
import NexusProject
@testable import NexusBuild

struct TraitTests {
    func fixture() -> Fixture {
        let f = Fixture()
        f.event("e1", day: 1, [("email", "a@x.test"), ("patient_id", "P1")])
        return f
    }

    @Test func latestObservationWins() throws {
        let f = fixture()
        f.trait("t1", ("email", "a@x.test"), "status", "lead", day: 1)
        f.trait("t2", ("patient_id", "P1"), "status", "active", day: 3)
        f.trait("t3", ("email", "a@x.test"), "status", "inactive", day: 2)
        let w = try f.run()
        #expect(try w.scalar("SELECT status FROM nexus_entities") == "active")
        #expect(try w.scalar("SELECT _updated_at FROM nexus_entities") == Fixture.ts(day: 3))
    }

    @Test func tiesBreakOnIngestedAtThenLargestTraitID() throws {
        let f = fixture()
        f.trait("t-a", ("email", "a@x.test"), "plan", "basic", day: 2, ingested: "2025-02-01 00:00:00")
        f.trait("t-b", ("email", "a@x.test"), "plan", "pro", day: 2, ingested: "2025-02-02 00:00:00")
        f.trait("t-z", ("email", "a@x.test"), "tier", "z", day: 2)
        f.trait("t-y", ("email", "a@x.test"), "tier", "y", day: 2)
        let w = try f.run()
        #expect(try w.strings("SELECT plan, tier FROM nexus_entities")[0] == ["pro", "z"])
    }

    @Test func nullOrEmptyValuesNeverOverwrite() throws {
        let f = fixture()
        f.trait("t1", ("email", "a@x.test"), "phone", "+1555", day: 1)
        f.trait("t2", ("email", "a@x.test"), "phone", "", day: 5)
        f.trait("t3", ("email", "a@x.test"), "phone", nil, day: 6)
        let w = try f.run()
        #expect(try w.scalar("SELECT phone FROM nexus_entities") == "+1555")
    }

    @Test func nullOccurredAtSortsOldest() throws {
        let f = fixture()
        f.trait("t1", ("email", "a@x.test"), "city", "Paris", day: 1)
        f.traits.append(["t0", "e1", "person", "email", "a@x.test", "city", "Nowhere", "s", nil, nil])
        let w = try f.run()
        #expect(try w.scalar("SELECT city FROM nexus_entities") == "Paris")
    }

    @Test func traitsOnUnknownIdentifiersAreDroppedWithAWarning() throws {
        let f = fixture()
        f.trait("t1", ("email", "ghost@x.test"), "city", "Oslo", day: 1)
        let (w, reporter) = try f.runReporting()
        #expect(try w.count("SELECT count(*) FROM nexus_resolved_entity_traits") == 0)
        #expect(reporter.warnings.contains { $0.contains("1 trait row(s)") })
    }

    @Test func entityColumnsAreInAStableOrder() throws {
        let f = fixture()
        f.trait("t1", ("email", "a@x.test"), "Zip Code", "1", day: 1)
        f.trait("t2", ("email", "a@x.test"), "age", "3", day: 1)
        f.trait("t3", ("email", "a@x.test"), "Middle name", "q", day: 1)
        let w = try f.run()
        let cols = try w.columns(of: "nexus_entities")!
        #expect(cols.map(\.name) == ["entity_id", "entity_type", "age", "middle_name", "zip_code", "_created_at", "_updated_at",
                                     "_last_merged_at", "first_interaction_at", "last_interaction_at", "_processed_at"])
        #expect(cols.filter { $0.name.hasSuffix("_at") }.allSatisfy { $0.declaredType == "TIMESTAMP" })
        let resolved = try w.strings("SELECT trait_name, entity_trait_id, entity_id, trait_value FROM nexus_resolved_entity_traits ORDER BY trait_name")
        #expect(resolved.map { $0[0] } == ["age", "middle_name", "zip_code"])
        #expect(resolved[0][1] == NexusID.make("entity_trait", [resolved[0][2], "age", "3"]))
    }

    @Test func traitNamesCollidingAfterNormalisingAreAnError() throws {
        let f = fixture()
        f.trait("t1", ("email", "a@x.test"), "First Name", "A", day: 1)
        f.trait("t2", ("email", "a@x.test"), "first_name", "B", day: 1)
        let e = #expect(throws: NexusError.self) { try f.run() }
        #expect(e?.message.contains("'First Name'") == true)
        #expect(e?.message.contains("'first_name'") == true)
        #expect(e?.message.contains("source s") == true)
    }

    @Test func traitNamedLikeASystemColumnIsAnError() throws {
        let f = fixture()
        f.trait("t1", ("email", "a@x.test"), "Entity ID", "x", day: 1)
        let e = #expect(throws: NexusError.self) { try f.run() }
        #expect(e?.message.contains("system column") == true)
    }
}

struct EntityTimestampTests {
    @Test func createdUpdatedAndInteractions() throws {
        let f = Fixture()
        f.event("e1", day: 3, [("email", "a@x.test")])
        f.event("e2", day: 7, [("email", "a@x.test"), ("phone", "1")])
        f.event("e3", day: 1, [("email", "solo@x.test")])
        f.trait("t1", ("phone", "1"), "city", "Rome", day: 5)
        let w = try f.run()
        let a = try w.strings("SELECT _created_at, _updated_at, _last_merged_at, first_interaction_at, last_interaction_at, _processed_at FROM nexus_entities WHERE city = 'Rome'")
        #expect(a == [[Fixture.ts(day: 3), Fixture.ts(day: 5), Fixture.ts(day: 7), Fixture.ts(day: 3), Fixture.ts(day: 7), "2027-01-15 08:00:00"]])
        // Without traits, _updated_at falls back to _created_at.
        let solo = try w.strings("SELECT _created_at, _updated_at FROM nexus_entities WHERE city IS NULL")
        #expect(solo == [[Fixture.ts(day: 1), Fixture.ts(day: 1)]])
    }
}

struct ParticipantTests {
    @Test func oneRowPerEventEntityRole() throws {
        let f = Fixture()
        // Two identifiers of one person in one event with the same role: one participant row.
        f.event("e1", day: 2, [("email", "a@x.test"), ("phone", "1")], role: "sender")
        f.event("e1", day: 2, edge: "other", [("email", "a@x.test")], role: "recipient")
        f.event("e2", day: 3, [("email", "b@x.test")], role: nil)
        let w = try f.run()
        let rows = try w.strings("SELECT entity_participant_id, event_id, entity_id, role, occurred_at, entity_type FROM nexus_entity_participants ORDER BY event_id, role")
        #expect(rows.count == 3)
        #expect(Set(rows.map { $0[0]! }).count == 3)
        let a = try #require(try w.entityID("email", "a@x.test"))
        #expect(rows[0][0] == NexusID.make("entity_participant", ["e1", a, "recipient"]))
        #expect(rows[0][0]?.hasPrefix("ent_prt_") == true)
        #expect(rows[0][4] == Fixture.ts(day: 2))
        #expect(rows[2][3] == nil)
        #expect(rows[2][0] == NexusID.make("entity_participant", ["e2", try w.entityID("email", "b@x.test"), nil]))
        #expect(try w.count("SELECT count(*) FROM (SELECT event_id, entity_id, role FROM nexus_entity_participants GROUP BY 1, 2, 3 HAVING count(*) > 1)") == 0)
    }

    @Test func occurredAtComesFromTheEvent() throws {
        let f = Fixture()
        f.event("e1", day: 2, [("email", "a@x.test")])
        f.identifiers.append(["x", "e1", "e1b", "person", "phone", "9", "r", "s", "2025-03-03 00:00:00", nil])
        let w = try f.run()
        #expect(try w.strings("SELECT DISTINCT occurred_at FROM nexus_entity_participants") == [[Fixture.ts(day: 2)]])
    }
}

struct RelationshipTests {
    @Test func establishedIsEarliestAndTheLatestDeclarationWins() throws {
        let f = Fixture()
        f.event("e1", day: 1, [("patient_id", "P1")])
        f.event("e2", day: 1, type: "group", [("location_id", "L1")])
        f.declare("d1", a: ("patient_id", "P1"), b: ("location_id", "L1"), day: 1)
        f.declare("d2", a: ("patient_id", "P1"), b: ("location_id", "L1"), day: 9, active: "false")
        f.declare("d3", a: ("patient_id", "P1"), b: ("location_id", "L1"), day: 4)
        f.declare("d4", a: ("patient_id", "NOBODY"), b: ("location_id", "L1"), day: 4)
        let w = try f.run()
        let rows = try w.strings("SELECT relationship_id, entity_a_id, entity_b_id, is_active, established_at, last_updated_at, _created_at, _updated_at, relationship_type, entity_a_role, primary_source FROM nexus_relationships")
        #expect(rows.count == 1)
        let r = rows[0]
        let a = try w.entityID("patient_id", "P1"), b = try w.entityID("location_id", "L1", entityType: "group")
        #expect(r[1] == a && r[2] == b)
        #expect(r[0] == NexusID.make("relationship", [a, b, "membership"]))
        #expect(r[3] == "0")
        #expect(r[4] == Fixture.ts(day: 1))
        #expect(r[5] == Fixture.ts(day: 9))
        #expect(r[6] == Fixture.ts(day: 1) && r[7] == Fixture.ts(day: 9))
        #expect(r[8] == "membership" && r[9] == "patient" && r[10] == "s")
    }
}

struct WarehouseSettingsTests {
    /// Outputs join persons by entity_id: the key is indexed, and the index follows the table
    /// through the swap's rename.
    @Test func entitiesAreKeyedByEntityID() throws {
        let f = basicFixture()
        let w = try f.run()
        #expect(try w.strings("SELECT name FROM pragma_index_list('nexus_entities') WHERE origin = 'pk'") == [["sqlite_autoindex_nexus_entities_1"]])
        // A forced rebuild replaces the table and its index; no staged name is left behind.
        let again = try f.build(force: true)
        #expect(try again.count("SELECT count(*) FROM pragma_index_list('nexus_entities')") == 1)
        #expect(try again.count("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name LIKE '%nexus_stage%'") == 0)
    }

    /// Dropping a replaced build must not rewrite every page of it (the SQLite nexus links is
    /// built with secure_delete on).
    @Test func droppedPagesAreNotZeroedOneByOne() throws {
        let w = try basicFixture().run()
        #expect(try w.scalar("PRAGMA secure_delete") == "2")
    }
}
