import Foundation
import Testing
import NexusCore
import NexusProject
@testable import NexusBuild

/// `nexus doctor` on crafted broken projects.
struct DoctorTests {
    func doctor(_ f: Fixture, trait: String? = nil) throws -> [Doctor.Finding] {
        let w = try f.run()
        return try Doctor(project: try Project.load(root: f.root), warehouse: w).run(trait: trait)
    }

    func messages(_ findings: [Doctor.Finding], _ model: String) -> [String] {
        findings.filter { $0.model == model }.map { "\($0.severity.rawValue): \($0.message)" }
    }

    @Test func funnelDuplicatesNullsAndTraits() throws {
        let f = CustomerIOIdentifyTests().fixture("{{ nexus.customer_io_identify(user_id_column='user_id', filters=[\"status = 'active'\"]) }}")
        let m = messages(try doctor(f, trait: "First Name"), "customer_io")
        // 5 persons; 4 with a user id; 3 active; u1/u2 share an email, so 2 rows come out.
        #expect(m.contains("info: 5 person entities → 4 with user_id → 3 after «status = 'active'» → 2 rows out"), "\(m)")
        #expect(m.contains("warning: dedupe on lower(trim(email)): 1 value(s) shared by several entities, 1 row(s) dropped as older duplicates; 1 row(s) with a NULL email kept one each"), "\(m)")
        #expect(m.contains { $0.contains("user_id (the user id column (sent as userId))") })
        #expect(m.contains("info: trait 'First Name' is sent; 2 person entities have a value"), "\(m)")
    }

    @Test func absentTraitAndEmptyOutput() throws {
        let f = CustomerIOIdentifyTests().fixture("{{ nexus.customer_io_identify(user_id_column='user_id', filters=[\"status = 'gone'\"]) }}")
        let m = messages(try doctor(f, trait: "plan"), "customer_io")
        #expect(m.contains("warning: the output is empty"))
        #expect(m.contains { $0.hasPrefix("warning: 5 person entities → 4 with user_id → 0 after «status = 'gone'» → 0 rows out") })
        #expect(m.contains("info: trait 'plan' is absent: no source has it for any entity"))
    }

    @Test func unsyncedPeopleAndObjects() throws {
        let f = CustomerIOShapesTests().fixture([
            "rels": "{{ nexus.customer_io_relationships(object_type_id='1', object_id_column='location_id', user_id_column='email', persons_model=none) }}",
            "objects": "{{ nexus.customer_io_objects(id_column='location_id', object_type_id='2') }}",
            "track": "{{ nexus.customer_io_track(user_id_column='email', persons_model=none) }}",
        ])
        let findings = try doctor(f)
        let rels = messages(findings, "rels"), track = messages(findings, "track")
        // c@x.test is related to L2 but is not in customer_io_persons; no object output has type 1.
        #expect(rels.contains("warning: 1 of 4 relationships have a userId that is not in the persons output (customer_io_persons)"), "\(rels)")
        #expect(rels.contains("warning: 4 of 4 relationships point at an object that no objects output syncs (objects)"), "\(rels)")
        #expect(track.contains("warning: 1 of 5 events have a userId that is not in the persons output (customer_io_persons)"), "\(track)")
        #expect(track.contains("info: 5 (event, person) pairs in scope; 0 have no email — these are not sent"), "\(track)")
        let order = try #require(findings.last)
        #expect(order.message == "first sync order: customer_io_persons (identify) → objects (objects) → rels (relationships) → track (track)")
    }
}

/// userIds as Customer.io keys people: blanks and case variants are found, and the identify
/// macro's opt-in sends them trimmed and lower-cased.
struct UserIDSpellingTests {
    @Test func blanksAndCaseVariantsAreCounted() throws {
        let f = CustomerIOIdentifyTests().fixture("{{ nexus.customer_io_identify(user_id_column='email', dedupe_column='user_id') }}")
        let w = try f.run()
        #expect(Set(try w.strings("SELECT \"userId\" FROM customer_io").map { $0[0]! }) == ["Ann@X.test ", "ann@x.test"])
        let m = DoctorTests().messages(try Doctor(project: try Project.load(root: f.root), warehouse: w).run(), "customer_io")
        #expect(m.contains("warning: 1 row(s) have a userId with blanks before or after it: Customer.io would keep ' a@x.test' and 'a@x.test' as two people"), "\(m)")
        #expect(m.contains { $0.hasPrefix("warning: 1 userId(s) are spelled more than one way, differing only in letter case or blanks ('Ann@X.test  / ann@x.test')") }, "\(m)")
    }

    @Test func normalizeUserIDSendsOneSpelling() throws {
        let f = CustomerIOIdentifyTests().fixture("{{ nexus.customer_io_identify(user_id_column='email', dedupe_column='user_id', normalize_user_id=true) }}")
        let w = try f.run()
        #expect(try w.strings("SELECT \"userId\" FROM customer_io ORDER BY 1").map { $0[0]! } == ["ann@x.test", "ann@x.test"])
        let m = DoctorTests().messages(try Doctor(project: try Project.load(root: f.root), warehouse: w).run(), "customer_io")
        #expect(!m.contains { $0.contains("blanks before or after") || $0.contains("spelled more than one way") }, "\(m)")
        f.extraFiles["models/output/customer_io.sql"] = "{{ nexus.customer_io_identify(user_id_column='email', normalize_user_id='yes') }}"
        #expect(throws: NexusError.self) { try f.run() }
    }
}
