import Foundation
import Testing
import NexusCore
@testable import NexusBuild

/// The full-path expectations of dbt-nexus's integration scenarios (dbt-nexus.md §7.1), plus
/// what nexus does differently on purpose: exact components for chains of any length.
struct ResolutionTests {
    @Test func birthSingleton() throws {
        let f = Fixture()
        f.event("e1", day: 1, [("email", "alice@x.test")])
        f.event("e2", day: 2, [("email", "bob@x.test")])
        let w = try f.run()
        #expect(try w.partition() == [["email:alice@x.test"], ["email:bob@x.test"]])
        #expect(try w.entityID("email", "alice@x.test") != w.entityID("email", "bob@x.test"))
        #expect(try w.count("SELECT count(*) FROM nexus_entities WHERE entity_type = 'person'") == 2)
    }

    @Test func accretion() throws {
        let f = Fixture()
        f.event("e1", day: 1, [("email", "a@x.test"), ("segment_anonymous_id", "anon-1")])
        f.event("e2", day: 2, [("segment_anonymous_id", "anon-1"), ("email", "c@x.test")])
        let w = try f.run()
        #expect(try w.partition() == [["email:a@x.test", "email:c@x.test", "segment_anonymous_id:anon-1"]])
    }

    @Test func simpleMerge() throws {
        let f = Fixture()
        f.event("e1", day: 1, [("email", "m1@x.test"), ("segment_anonymous_id", "anon-1")])
        f.event("e2", day: 1, hour: 1, [("email", "m2@x.test"), ("segment_anonymous_id", "anon-2")])
        f.event("e3", day: 2, [("segment_anonymous_id", "anon-1"), ("email", "m2@x.test")])
        let w = try f.run()
        #expect(try w.partition().count == 1)
        #expect(try w.count("SELECT count(*) FROM nexus_resolved_person_identifiers") == 4)
    }

    @Test func chainWithinOneLoad() throws {
        let f = Fixture()
        for p in 1...3 { f.event("base\(p)", day: 1, [("email", "p\(p)a@x.test"), ("email", "p\(p)b@x.test")]) }
        f.event("b1", day: 2, [("email", "p1b@x.test"), ("email", "x@x.test")])
        f.event("b2", day: 2, [("email", "x@x.test"), ("email", "p2a@x.test")])
        f.event("b3", day: 2, [("email", "p2b@x.test"), ("email", "y@x.test")])
        f.event("b4", day: 2, [("email", "y@x.test"), ("email", "p3a@x.test")])
        let w = try f.run()
        let p = try w.partition()
        #expect(p.count == 1)
        #expect(p.first?.count == 8)
    }

    @Test func chainAcrossDays() throws {
        let f = Fixture()
        for p in 1...3 { f.event("base\(p)", day: 1, [("email", "p\(p)a@x.test"), ("email", "p\(p)b@x.test")]) }
        f.event("d2", day: 2, [("email", "p1b@x.test"), ("email", "p2a@x.test")])
        f.event("d3", day: 3, [("email", "p2b@x.test"), ("email", "p3a@x.test")])
        let w = try f.run()
        #expect(try w.partition().count == 1)
    }

    @Test func reobservedPairsStaySeparateFromSolo() throws {
        let f = Fixture()
        f.event("e1", day: 1, [("email", "r1@x.test"), ("segment_anonymous_id", "anon")])
        f.event("e2", day: 2, [("email", "r1@x.test"), ("segment_anonymous_id", "anon")])
        f.event("e3", day: 3, [("email", "solo@x.test")])
        let w = try f.run()
        #expect(try w.partition() == [["email:r1@x.test", "segment_anonymous_id:anon"], ["email:solo@x.test"]])
    }

    @Test func outOfOrderEventsStillLink() throws {
        let f = Fixture()
        f.event("e1", day: 1, [("email", "o1@x.test"), ("segment_anonymous_id", "anon-1")])
        f.event("e2", day: 2, [("email", "o2@x.test")])
        f.identifiers.append(["late", "e3", "e3", "person", "segment_anonymous_id", "anon-1", "r", "s", "2023-06-01 00:00:00", "2025-01-03 00:00:00"])
        f.identifiers.append(["late2", "e3", "e3", "person", "email", "o2@x.test", "r", "s", "2023-06-01 00:00:00", "2025-01-03 00:00:00"])
        f.events.append(["e3", "2023-06-01 00:00:00", "late", "test", "s", "2025-01-03 00:00:00"])
        let w = try f.run()
        #expect(try w.partition().count == 1)
        // _created_at is the earliest occurrence, even when it arrived last.
        #expect(try w.scalar("SELECT _created_at FROM nexus_entities WHERE entity_type = 'person'") == "2023-06-01 00:00:00")
    }

    @Test func groupsMergeWithoutBleedingIntoPersons() throws {
        let f = Fixture()
        f.event("g1", day: 1, type: "group", [("domain", "xg.test"), ("name", "x-corp")])
        f.event("g2", day: 1, type: "group", [("domain", "yg.test"), ("name", "y-corp")])
        // One edge with two group domains and a person email.
        f.event("m", day: 2, edge: "shared", type: "group", [("domain", "xg.test"), ("domain", "yg.test")])
        f.event("m", day: 2, edge: "shared", type: "person", [("email", "cross@x.test")])
        let w = try f.run()
        #expect(try w.partition("group").count == 1)
        #expect(try w.partition("person") == [["email:cross@x.test"]])
        #expect(try w.scalar("SELECT group_id FROM nexus_resolved_group_identifiers LIMIT 1")?.hasPrefix("grp_") == true)
        #expect(try w.scalar("SELECT person_id FROM nexus_resolved_person_identifiers LIMIT 1")?.hasPrefix("per_") == true)
    }

    @Test func sameValueInTwoEntityTypesIsTwoEntities() throws {
        let f = Fixture()
        f.event("e1", day: 1, type: "person", [("email", "info@acme.test")])
        f.event("e1", day: 1, type: "group", [("email", "info@acme.test")])
        let w = try f.run()
        #expect(try w.count("SELECT count(*) FROM nexus_entities") == 2)
    }

    @Test func aFiftyIdentifierChainIsOneEntity() throws {
        let f = Fixture()
        // Links n_k–n_(k+1), written in a scrambled order; dbt-nexus's 5-hop bound would split this.
        let order = (0..<49).map { ($0 * 17) % 49 }
        for k in order { f.event("c\(k)", day: 1 + k % 20, [("anon", String(format: "n%02d", k)), ("anon", String(format: "n%02d", k + 1))]) }
        let w = try f.run()
        let p = try w.partition()
        #expect(p.count == 1)
        #expect(p.first?.count == 50)
        #expect(try w.entityID("anon", "n49") == NexusID.make("person", ["anon", "n00"]))
    }

    @Test func entityIDComesFromTheSmallestIdentifierTypeFirst() throws {
        let f = Fixture()
        f.event("e1", day: 1, [("phone", "+1000"), ("email", "zed@x.test"), ("segment_anonymous_id", "a")])
        let w = try f.run()
        let id = try w.entityID("phone", "+1000")
        #expect(id == NexusID.make("person", ["email", "zed@x.test"]))
        #expect(id == "per_" + NexusID.md5Hex("email-zed@x.test"))
        // dbt-nexus's example id.
        let g = Fixture()
        g.event("e1", day: 1, [("email", "alice@bs.test"), ("phone", "1")])
        #expect(try g.run().entityID("phone", "1") == "per_840d16ccb0ca0348891ce697d95c7b45")
    }

    @Test func mappingRowsFollowDbtNexusShape() throws {
        let f = Fixture()
        f.event("e2", day: 1, edge: "edge-b", [("email", "a@x.test")])
        f.event("e1", day: 2, edge: "edge-a", [("email", "a@x.test")])
        let w = try f.run()
        let cols = try w.columns(of: "nexus_resolved_person_identifiers")!.map(\.name)
        #expect(cols == ["person_identifier_id", "person_id", "event_id", "identifier_type", "identifier_value", "realtime_processed",
                         "existing_person", "resolution_reason", "previous_entity_id", "resolved_at_watermark"])
        let row = try w.strings("SELECT person_identifier_id, person_id, event_id, resolution_reason, previous_entity_id FROM nexus_resolved_person_identifiers")[0]
        let person = NexusID.make("person", ["email", "a@x.test"])
        #expect(row[1] == person)
        #expect(row[0] == NexusID.make("person_identifier", [person, "email", "a@x.test"]))
        #expect(row[2] == "e1") // the occurrence with the smallest edge_id
        #expect(row[3] == "full_resolution")
        #expect(row[4] == nil)
    }

    @Test func identifiersOfUnknownEntityTypesAreIgnoredWithAWarning() throws {
        let f = Fixture()
        f.event("e1", day: 1, type: "robot", [("serial", "r2")])
        f.event("e2", day: 1, [("email", "a@x.test")])
        let (w, reporter) = try f.runReporting()
        #expect(try w.count("SELECT count(*) FROM nexus_entities") == 1)
        #expect(reporter.warnings.contains { $0.contains("'robot'") })
    }
}

import NexusProject
