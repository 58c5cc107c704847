import Testing
@testable import NexusBuild
import NexusProject

/// Bridge identifiers: the ones whose removal splits an entity.
struct ExplainerTests {
    @Test func bridgesAreTheIdentifiersThatAloneJoinOthers() {
        // A hub joined to three others by three events: removing it leaves three pieces.
        #expect(Explainer.bridges(identifiers: ["a", "b", "c", "h"], groups: [["a", "h"], ["b", "h"], ["c", "h"]]) == ["h"])
        // A cycle: any one can go.
        #expect(Explainer.bridges(identifiers: ["a", "b", "c"], groups: [["a", "b"], ["b", "c"], ["a", "c"]]).isEmpty)
        // One event naming all three: no bridge.
        #expect(Explainer.bridges(identifiers: ["a", "b", "c"], groups: [["a", "b", "c"]]).isEmpty)
        // A chain: the inner ones.
        #expect(Explainer.bridges(identifiers: ["a", "b", "c", "d"], groups: [["a", "b"], ["b", "c"], ["c", "d"]]) == ["b", "c"])
        // An event of one identifier joins nothing: it makes no bridge.
        #expect(Explainer.bridges(identifiers: ["a", "b"], groups: [["a"], ["a", "b"]]).isEmpty)
        // Two triangles sharing one identifier.
        #expect(Explainer.bridges(identifiers: ["a", "b", "c", "d", "e"], groups: [["a", "b", "c"], ["c", "d"], ["d", "e"], ["c", "e"]]) == ["c"])
    }

    @Test func treeAndDotMarkTheBridges() {
        let hop = { (from: String) in Explainer.Hop(from: from, edgeID: "edg_\(from)", eventID: "evt_\(from)", eventName: "seen", occurredAt: "2025-01-01 00:00:00") }
        let x = Explainer.Explanation(entityID: "per_1", entityType: "person", links: [
            .init(identifier: "email a", path: []),
            .init(identifier: "phone b", path: [hop("email a")]),
            .init(identifier: "cookie c", path: [hop("email a"), hop("phone b")]),
        ], bridges: ["phone b"])
        #expect(x.tree() == """
            person per_1: 3 identifier(s)

            email a   (asked about)
            └─ phone b  [bridge]   via event evt_email a (seen at 2025-01-01 00:00:00), edge edg_email a
               └─ cookie c   via event evt_phone b (seen at 2025-01-01 00:00:00), edge edg_phone b
            """)
        #expect(x.dot().contains("\"phone b\" [color=\"#c0392b\", penwidth=2];"))
        #expect(x.dot().contains("\"phone b\" -- \"cookie c\" [label=\"seen\\n2025-01-01 00:00:00\"];"))
        #expect(x.dot().contains("graph [rankdir=LR,"))
        // A hub of 40: drawn radially around the identifier asked about, labels without times.
        let hub = Explainer.Explanation(entityID: "per_2", entityType: "person",
                                        links: [.init(identifier: "phone h", path: [])] + (0..<40).map { .init(identifier: "email \($0)", path: [hop("phone h")]) },
                                        bridges: ["phone h"])
        #expect(hub.dot().contains("graph [layout=twopi, root=\"phone h\", ranksep=3, overlap=false,"))
        #expect(hub.dot().contains("\"phone h\" -- \"email 7\" [label=\"seen\"];"))
    }
}

/// The over-merge alarm: one phone shared by many people glues them into one entity.
struct OverMergeTests {
    @Test func aSharedPhoneIsReportedAsAnOverMerge() throws {
        let f = Fixture()
        for k in 0..<120 { f.event("e\(k)", day: 1 + k % 20, [("email", "p\(k)@x.test"), ("phone", "+1555000000")]) }
        f.event("solo", day: 2, [("email", "solo@x.test")])
        let (w, reporter) = try f.runReporting()
        // Doctor names the entity and the one identifier that holds it together.
        let doctor = try Doctor(project: try Project.load(root: f.root), warehouse: w).run()
        #expect(doctor.contains { $0.message.contains("has 121 identifiers") && $0.message.contains("bridges (removing one would split it): phone +1555000000") }, "\(doctor)")
        let largest = reporter.steps.first { $0.name == "largest person" }
        #expect(largest?.rows == 121 && largest?.note?.contains("120 email(s), 1 phone(s), 120 event(s)") == true, "\(String(describing: largest))")
        #expect(reporter.warnings.contains { $0.hasPrefix("1 person entity has more than 100 identifiers") }, "\(reporter.warnings)")
        // A limit above it, or 0, says nothing.
        f.yml += "over_merge: {max_identifiers: 0}\n"
        let (_, quiet) = try f.runReporting()
        #expect(!quiet.warnings.contains { $0.contains("over_merge") }, "\(quiet.warnings)")
        // The phone itself is caught by edge quality on either run (its 120 partners).
        #expect(quiet.warnings.contains { $0.hasPrefix("edge quality: 1 identifier(s)") && $0.contains("'+1555000000' (120 partners") }, "\(quiet.warnings)")
        #expect(quiet.steps.contains { $0.name == "largest person" && $0.rows == 121 })
    }

    @Test func aBadOverMergeSettingNamesIt() throws {
        let f = Fixture()
        f.event("e1", day: 1, [("email", "a@x")])
        f.yml += "over_merge: {max_identifiers: many}\n"
        do { _ = try f.run(); Issue.record("accepted") } catch { #expect("\(error)".contains("over_merge") && "\(error)".contains("nexus.yml"), "\(error)") }
    }
}
