import Foundation
import Testing
import NexusCore
import NexusProject
@testable import NexusBuild

/// `nexus.customer_io_identify`: every parameter, the seed's composition, and the errors.
struct CustomerIOIdentifyTests {
    /// Four persons: two whose emails differ only by case (so two entities), one without an
    /// email, one anonymous-only visitor.
    func fixture(_ model: String) -> Fixture {
        let f = Fixture()
        f.event("e1", day: 1, [("user_id", "u1"), ("email", "Ann@X.test")])
        f.event("e2", day: 2, [("user_id", "u2"), ("email", "ann@x.test")])
        f.event("e3", day: 3, [("user_id", "u3")])
        f.event("e4", day: 4, [("segment_anonymous_id", "anon-4")])
        f.event("e5", day: 5, [("user_id", "u5")])
        f.trait("t1", ("user_id", "u1"), "email", "Ann@X.test ", day: 1)
        f.trait("t2", ("user_id", "u2"), "email", "ann@x.test", day: 6)
        f.trait("t3", ("user_id", "u3"), "first_name", "Cid", day: 3)
        f.trait("t5", ("user_id", "u5"), "first_name", "Eve", day: 5)
        for (id, u, d) in [("u1", "u1", 1), ("u2", "u2", 2), ("u3", "u3", 3), ("u5", "u5", 5)] {
            f.trait("tu-\(id)", ("user_id", u), "user_id", u, day: d)
            f.trait("ts-\(id)", ("user_id", u), "status", id == "u5" ? "lead" : "active", day: d)
        }
        f.trait("ta", ("segment_anonymous_id", "anon-4"), "segment_anonymous_id", "anon-4", day: 4)
        f.extraFiles["models/output/customer_io.sql"] = model
        return f
    }

    func rows(_ f: Fixture) throws -> (columns: [String], rows: [[String?]]) {
        let w = try f.run()
        let r = try w.query("SELECT * FROM customer_io")
        return (r.columns, r.rows.map { $0.map { $0.isNull ? nil : $0.description } })
    }

    @Test func basicColumnsDiscoveryAndNullDedupeValuesKept() throws {
        let f = fixture("{{ nexus.customer_io_identify(entity_type='person', user_id_column='user_id') }}")
        let (cols, rows) = try rows(f)
        #expect(cols == ["userId", "timestamp", "email", "first_name", "segment_anonymous_id", "status", "created_at",
                         "_updated_at", "_last_merged_at", "first_interaction_at", "last_interaction_at"])
        // u1 and u2 share an email after lower/trim: the most recently updated (u2) stays.
        // u3 and u5 have no email: both stay. The anonymous visitor has no user id: excluded.
        #expect(Set(rows.map { $0[0]! }) == ["u2", "u3", "u5"])
        let u2 = try #require(rows.first { $0[0] == "u2" })
        #expect(u2[1] == Fixture.ts(day: 6))
        #expect(u2[6] == Fixture.ts(day: 2)) // created_at, from _created_at
    }

    @Test func anonymousIDFiltersIgnoreAndRename() throws {
        let f = fixture("""
            {{ nexus.customer_io_identify(
                user_id_column='user_id',
                anonymous_id_column='segment_anonymous_id',
                dedupe_column='email',
                ignore_traits=['_last_merged_at', 'first_interaction_at', 'last_interaction_at', '_updated_at'],
                rename_traits={'first_name': 'firstName', '_created_at': 'signed_up_at'},
                filters=["status = 'active' OR status IS NULL"]
            ) }}
            """)
        let (cols, rows) = try rows(f)
        #expect(cols == ["userId", "anonymousId", "timestamp", "email", "firstName", "status", "signed_up_at"])
        // u5 is a lead (filtered out); the anonymous visitor is in, with its anonymousId.
        #expect(Set(rows.map { $0[0] ?? "anon:" + ($0[1] ?? "") }) == ["u2", "u3", "anon:anon-4"])
    }

    @Test func dedupeByTheUserIDColumnAndCaseInsensitiveNames() throws {
        let f = fixture("{{ nexus.customer_io_identify(user_id_column='USER_ID', dedupe_column='User_Id') }}")
        let (cols, rows) = try rows(f)
        #expect(cols.first == "userId")
        #expect(!cols.contains("user_id"))
        #expect(rows.count == 4)
    }

    @Test func composableAsACTEAsInTheSeed() throws {
        let f = fixture("""
            {{ config(materialized='view') }}
            with active as (
                select entity_id from {{ ref('nexus_entities') }} where status = 'active'
            ),
            persons as (
                {{ nexus.customer_io_identify(
                    entity_type='person',
                    user_id_column='user_id',
                    dedupe_column='email',
                    filters=["entity_id IN (SELECT entity_id FROM active)"]
                ) }}
            ),
            persons_with_state as (
                select p.*, 'paying' as "customer_journey_state"
                from persons p
            )
            select * from persons_with_state
            order by "timestamp" desc
            """)
        let (cols, rows) = try rows(f)
        #expect(cols.last == "customer_journey_state")
        #expect(rows.map { $0[0] } == ["u2", "u3"])
        #expect(try f.warehouse().relationKind("customer_io") == .view)
    }

    @Test func entityTypeSelectsWhichEntities() throws {
        let f = fixture("{{ nexus.customer_io_identify(entity_type='group', user_id_column='location_id', dedupe_column='location_id') }}")
        f.event("g1", day: 2, type: "group", [("location_id", "L1")])
        f.trait("tg", type: "group", ("location_id", "L1"), "location_id", "L1", day: 2)
        let (cols, rows) = try rows(f)
        #expect(rows.map { $0[0] } == ["L1"])
        #expect(cols.first == "userId" && !cols.contains("location_id"))
    }

    @Test func aNewTraitAppearsWithoutTouchingTheModel() throws {
        let f = fixture("{{ nexus.customer_io_identify(user_id_column='user_id') }}")
        #expect(try !rows(f).columns.contains("plan"))
        f.trait("tp", ("user_id", "u3"), "plan", "pro", day: 7)
        #expect(try rows(f).columns.contains("plan"))
    }

    @Test(arguments: [
        ("dedupe_column='phone'", "dedupe_column 'phone' is not a column of nexus_entities; available columns: email, first_name"),
        ("user_id_column='uid'", "user_id_column 'uid' is not a column of nexus_entities"),
        ("user_id_column='entity_id'", "user_id_column 'entity_id' is a system column"),
        ("rename_traits={'first_name': 'status'}", "columns 'first_name' and 'status' would both be output as \"status\""),
        ("rename_traits={'nope': 'x'}", "rename_traits renames 'nope'"),
        ("ignore_traits=['email']", "dedupe_column 'email' is in ignore_traits"),
        ("dedupe='email'", "unknown argument 'dedupe'"),
        ("filters='x = 1'", "filters must be a list of strings"),
    ])
    func clearErrorsBeforeAnySQLRuns(args: String, message: String) throws {
        let f = fixture("select 1 as x\n-- line 2\n{{ nexus.customer_io_identify(user_id_column='user_id', \(args)) }}")
        f.extraFiles["models/output/customer_io.sql"] = f.extraFiles["models/output/customer_io.sql"]!.replacingOccurrences(of: "user_id_column='user_id', user_id_column=", with: "user_id_column=")
        let e = #expect(throws: NexusError.self) { try f.run() }
        #expect(e?.message.contains(message) == true, "\(e?.message ?? "")")
        #expect(e?.location?.file == "models/output/customer_io.sql")
        #expect(e?.location?.line == 3)
    }
}
