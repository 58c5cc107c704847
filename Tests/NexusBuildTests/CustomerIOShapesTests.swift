import Foundation
import Testing
import NexusCore
import NexusProject
@testable import NexusBuild

/// Track, Objects and Relationships macros against hand-computed rows.
struct CustomerIOShapesTests {
    func fixture(_ models: [String: String]) -> Fixture {
        let f = Fixture()
        f.event("e1", day: 1, [("email", "a@x.test")], role: "patient", name: "appointment scheduled")
        f.event("e1", day: 1, type: "group", [("location_id", "L1")], role: "location")
        f.event("e2", day: 2, [("email", "a@x.test"), ("phone", "+1")], role: "payer", name: "payment completed")
        f.event("e2", day: 2, edge: "e2b", [("email", "a@x.test")], role: "patient")
        f.event("e4", day: 4, [("email", "b@x.test")], name: "page viewed")
        f.event("e5", day: 5, [("email", "c@x.test")], name: "page viewed")
        f.event("g1", day: 1, type: "group", [("location_id", "L1")], role: "location")
        f.event("g2", day: 1, type: "group", [("location_id", "L2")], role: "location")
        f.events.append(["w1", Fixture.ts(day: 6), "web visit", "web", "web", nil])
        f.identifiers.append(["w1i", "w1", "w1", "person", "email", "a@x.test", "visitor", "web", Fixture.ts(day: 6), nil])
        for (p, d) in [("a@x.test", 1), ("b@x.test", 4), ("c@x.test", 5)] {
            f.trait("te-\(p)", ("email", p), "email", p, day: d)
        }
        f.trait("tl1", type: "group", ("location_id", "L1"), "location_id", "L1", day: 1)
        f.trait("tn1", type: "group", ("location_id", "L1"), "location_name", "One", day: 1)
        f.trait("tl2", type: "group", ("location_id", "L2"), "location_id", "L2", day: 1)
        f.trait("tn2", type: "group", ("location_id", "L2"), "location_name", "Two", day: 2)
        f.declare("d1", a: ("email", "a@x.test"), b: ("location_id", "L1"), day: 1)
        f.declare("d2", a: ("email", "a@x.test"), b: ("location_id", "L2"), day: 5)
        f.declare("d3", a: ("email", "b@x.test"), b: ("location_id", "L1"), day: 4)
        f.declare("d4", a: ("email", "c@x.test"), b: ("location_id", "L2"), day: 4)
        f.extraFiles["models/customer_io_persons.sql"] = """
            {{ nexus.customer_io_identify(user_id_column='email', dedupe_column='email', filters=["email <> 'c@x.test'"]) }}
            """
        f.extraFiles["models/event_props.sql"] = "select 'e1' as event_id, 'A-1' as appointment_id, 42 as appointment_number"
        for (name, sql) in models { f.extraFiles["models/\(name).sql"] = sql }
        return f
    }

    @Test func trackRowsPerEventAndPerson() throws {
        let f = fixture(["track": """
            {{ nexus.customer_io_track(user_id_column='email', sources=['s'], event_columns=['event_id'],
                                       properties_model='event_props') }}
            """])
        let w = try f.run()
        let r = try w.query("SELECT * FROM track ORDER BY event_id")
        #expect(r.columns == ["userId", "timestamp", "event", "event_type", "value", "value_unit", "event_data_source",
                              "event_id", "appointment_id", "appointment_number"])
        let rows = r.rows.map { $0.map { $0.isNull ? nil : $0.description } }
        // c@x.test is not in the persons output; w1 is from another source; e2 (two roles) once.
        #expect(rows == [
            ["a@x.test", Fixture.ts(day: 1), "appointment scheduled", "test", nil, nil, "s", "e1", "A-1", "42"],
            ["a@x.test", Fixture.ts(day: 2), "payment completed", "test", nil, nil, "s", "e2", nil, nil],
            ["b@x.test", Fixture.ts(day: 4), "page viewed", "test", nil, nil, "s", "e4", nil, nil],
        ])
    }

    @Test func objectsForOneType() throws {
        let f = fixture(["locations": "{{ nexus.customer_io_objects(id_column='location_id', object_type_id=2, traits=['location_name', '_created_at']) }}"])
        let w = try f.run()
        let r = try w.query("SELECT * FROM locations ORDER BY \"groupId\"")
        #expect(r.columns == ["groupId", "objectTypeId", "timestamp", "location_name", "created_at", "nexus_entity_id"])
        let rows = r.rows.map { $0.map { $0.isNull ? nil : $0.description } }
        let l1 = try w.entityID("location_id", "L1", entityType: "group")
        #expect(rows[0] == ["L1", "2", Fixture.ts(day: 1), "One", Fixture.ts(day: 1), l1])
        #expect(rows[1][0] == "L2" && rows[1][2] == Fixture.ts(day: 2) && rows[1][3] == "Two")
        #expect(rows.count == 2)
    }

    @Test func relationshipsWithTheSeedsAttributes() throws {
        let f = fixture(["rels": """
            {{ nexus.customer_io_relationships(object_type_id='1', object_id_column='location_id',
                                               object_name_column='location_name', user_id_column='email',
                                               extra_attributes={'relationship_id': 'r.relationship_id'}) }}
            """])
        let w = try f.run()
        let r = try w.query("SELECT * FROM rels ORDER BY \"userId\", \"groupId\"")
        #expect(r.columns == ["groupId", "objectTypeId", "userId", "timestamp", "relationshipAttributes"])
        let rows = r.rows.map { $0.map { $0.isNull ? nil : $0.description } }
        #expect(rows.map { [$0[0], $0[1], $0[2], $0[3]] } == [
            ["L1", "1", "a@x.test", Fixture.ts(day: 1)],
            ["L2", "1", "a@x.test", Fixture.ts(day: 5)],
            ["L1", "1", "b@x.test", Fixture.ts(day: 4)],
        ])
        let rel = try #require(try w.scalar("SELECT relationship_id FROM nexus_relationships r JOIN nexus_resolved_group_identifiers g ON g.group_id = r.entity_b_id WHERE g.identifier_value = 'L1' AND r.entity_a_id = (SELECT person_id FROM nexus_resolved_person_identifiers WHERE identifier_value = 'a@x.test')"))
        #expect(rows[0][4] == #"{"is_primary_location":false,"is_most_recent_location":false,"is_first_location":true,"has_multiple_locations":true,"location_count":2,"first_interaction_at":"2025-01-01 00:00:00.000","last_interaction_at":"2025-01-01 00:00:00.000","location_name":"One","relationship_id":"\#(rel)"}"#)
        #expect(rows[1][4]?.hasPrefix(#"{"is_primary_location":true,"is_most_recent_location":true,"is_first_location":false,"has_multiple_locations":true,"location_count":2,"#) == true)
        #expect(rows[2][4]?.hasPrefix(#"{"is_primary_location":true,"is_most_recent_location":true,"is_first_location":true,"has_multiple_locations":false,"location_count":1,"#) == true)
    }

    @Test(arguments: [
        ("{{ nexus.customer_io_objects(object_type_id='1') }}", "missing required argument 'id_column'"),
        ("{{ nexus.customer_io_objects(id_column='nope', object_type_id='1') }}", "id_column 'nope' is not a column of nexus_entities"),
        ("{{ nexus.customer_io_objects(id_column='location_id', object_type_id=true) }}", "object_type_id must be a string or an integer"),
        ("{{ nexus.customer_io_track(persons_model='missing') }}", "reads 'missing', which names no model"),
        ("{{ nexus.customer_io_track(event_columns=['nope']) }}", "event_columns entry 'nope' is not a column of nexus_events"),
        ("{{ nexus.customer_io_relationships(object_type_id='1', object_id_column='location_id', colour='red') }}", "unknown argument 'colour'"),
        ("{{ nexus.customer_io_relationships(object_type_id='1', object_id_column='location_id', extra_attributes={'location_count': '1'}) }}", "'location_count' is already a relationship attribute"),
    ])
    func errorsNameTheCall(model: String, message: String) throws {
        let f = fixture(["bad": "select 1\n" + model])
        let e = #expect(throws: NexusError.self) { try f.run() }
        #expect(e?.message.contains(message) == true, "\(e?.message ?? "")")
        #expect(e?.location?.file == "models/bad.sql")
        #expect(e?.location?.line == 2)
    }
}
