import Testing
@testable import NexusBuild

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
    }
}
