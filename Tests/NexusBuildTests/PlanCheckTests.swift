import Foundation
import Testing
import NexusCore
import NexusProject
import NexusSQL
@testable import NexusBuild

/// `nexus doctor` warns about models whose plan scans a large relation inside a loop.
struct PlanCheckTests {
    func fixture() -> Fixture {
        let f = Fixture()
        for d in 1...6 { f.event("e\(d)", day: d, [("email", "p\(d)@x.test")]) }
        // A range join: no equality, so no automatic index; SQLite scans b once per row of a.
        f.extraFiles["models/later.sql"] = """
            {{ config(materialized='view') }}
            select a.event_id, count(*) as later from {{ ref('nexus_entity_participants') }} a
            join {{ ref('nexus_entity_participants') }} b on b.occurred_at > a.occurred_at group by a.event_id
            """
        return f
    }

    @Test func aNestedScanOfALargeRelationNamesTheIndex() throws {
        let f = fixture()
        let w = try f.run()
        let project = try Project.load(root: f.root)
        var findings = try Doctor(project: project, warehouse: w, scanThreshold: 5).run().filter { $0.model == "later" }
        let warning = try #require(findings.first, "no finding")
        #expect(warning.severity == .warning)
        #expect(warning.message.contains("scans nexus_entity_participants (6 rows) once for every row of an outer loop"), "\(warning.message)")
        #expect(warning.message.contains("an index on nexus_entity_participants(occurred_at)"), "\(warning.message)")
        #expect(warning.message.contains("indexes: {nexus_entity_participants: [{columns: [occurred_at]}]}"), "\(warning.message)")
        // Below the threshold, no warning.
        #expect(try Doctor(project: project, warehouse: w, scanThreshold: 6).run().filter { $0.model == "later" }.isEmpty)

        // With the index it names, SQLite searches instead, and the warning goes.
        f.yml += "indexes:\n  nexus_entity_participants: [{columns: [occurred_at]}]\n"
        let w2 = try f.run()
        findings = try Doctor(project: try Project.load(root: f.root), warehouse: w2, scanThreshold: 5).run().filter { $0.model == "later" }
        #expect(findings.isEmpty, "\(findings)")
    }

    @Test func nestedScansFromAPlan() {
        typealias S = PlanCheck.Step
        let plan = [
            S(id: 2, parent: 0, detail: "MATERIALIZE m"), S(id: 4, parent: 2, detail: "SCAN big_a"),
            S(id: 9, parent: 0, detail: "SCAN m"), S(id: 11, parent: 0, detail: "SCAN big_b"),
            S(id: 14, parent: 0, detail: "SEARCH c USING INDEX i (k=?)"),
            S(id: 20, parent: 0, detail: "CORRELATED SCALAR SUBQUERY 3"), S(id: 22, parent: 20, detail: "SCAN big_c"),
            S(id: 30, parent: 0, detail: "USE TEMP B-TREE FOR ORDER BY"),
        ]
        #expect(PlanCheck.nestedScans(plan).map(\.detail) == ["SCAN big_b", "SCAN big_c"])
        #expect(PlanCheck.aliases(in: SQLLexer.significantTokens("select * from \"nexus_events\" AS e join t x on x.a = e.b join t where"), tables: ["nexus_events", "t"])
                == ["e": "nexus_events", "x": "t"])
        #expect(PlanCheck.comparedColumns(of: "x", in: SQLLexer.significantTokens("x.a = e.b and e.c < x.d and x.e is null")) == ["a", "d"])
    }
}
