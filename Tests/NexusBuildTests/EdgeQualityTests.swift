import Foundation
import Testing
import NexusCore
import NexusProject
import NexusScaffold
import NexusWarehouse
@testable import NexusBuild

/// Edge quality (issue 16): partners as defined, the report, the gate, the ignore list and the
/// filter with its orphans rule, on both engines, checked against brute force on random graphs
/// and on a generated clinic with one phone shared by 200 people.
struct EdgeQualityTests {
    static let engines = ["native", "sql"]

    /// One identifier row: (edge, entity type, identifier type, value, source).
    typealias Occurrence = (edge: String, etype: String, type: String, value: String, source: String)

    /// A fixture holding exactly `rows` as identifier rows (one event per edge).
    static func fixture(_ rows: [Occurrence], engine: String, rules: String) -> Fixture {
        let f = Fixture()
        var seen = Set<String>()
        for (i, r) in rows.enumerated() {
            if seen.insert(r.edge).inserted { f.events.append([r.edge, Fixture.ts(day: 1), "happened", "test", "s", Fixture.ts(day: 1)]) }
            f.identifiers.append(["i\(i)", r.edge, r.edge, r.etype, r.type, r.value, "r", r.source, Fixture.ts(day: 1), Fixture.ts(day: 1)])
        }
        f.yml += "engine: \(engine)\nedge_quality: \(rules)\n"
        return f
    }

    /// `nexus_edge_quality` as rows of text, in the table's own order.
    static func report(_ w: SQLiteWarehouse) throws -> [[String?]] {
        try w.strings("SELECT entity_type, identifier_type, identifier_value, partners, edges, connected_types, sources, severity, filtered FROM nexus_edge_quality ORDER BY rowid")
    }

    @Test(arguments: engines)
    func partnersAreDistinctValuesWithinTheEntityType(engine: String) throws {
        let rows: [Occurrence] = [
            ("e1", "person", "email", "a", "s"), ("e1", "person", "phone", "v", "s"), ("e1", "person", "user_id", "v", "s"),
            ("e1", "group", "domain", "d1", "s"), ("e1", "group", "domain", "d2", "s"), ("e1", "group", "domain", "d3", "s"),
            ("e2", "person", "email", "a", "t"), ("e2", "person", "phone", "w", "t"),
            ("e3", "person", "email", "a", "t"), ("e3", "person", "email", "a", "t"),
        ]
        let w = try EdgeQualityTests.fixture(rows, engine: engine, rules: "{warning: 1, error: 2, critical: 3}").run()
        // email a: v (phone and user_id, one value) and w; never the group's domains, never itself.
        // phone v: a, and v again as user_id (another identifier with the same value).
        // Order: partners (most first), entity type as nexus.yml lists them, type, value.
        #expect(try EdgeQualityTests.report(w) == [
            ["person", "email", "a", "2", "3", "phone, user_id", "s: 1, t: 1", "WARNING", "0"],
            ["person", "phone", "v", "2", "1", "email, user_id", "s: 2", "WARNING", "0"],
            ["person", "user_id", "v", "2", "1", "email, phone", "s: 2", "WARNING", "0"],
            ["group", "domain", "d1", "2", "1", "domain", "s: 2", "WARNING", "0"],
            ["group", "domain", "d2", "2", "1", "domain", "s: 2", "WARNING", "0"],
            ["group", "domain", "d3", "2", "1", "domain", "s: 2", "WARNING", "0"],
        ])
    }

    /// Random graphs: small value alphabets shared across identifier types, two entity types,
    /// some edge_ids with dozens of identifiers. Every engine's report equals the definition
    /// computed by brute force (every pair of rows sharing an edge_id and an entity type).
    @Test func randomGraphsMatchTheDefinition() throws {
        for seed in 1...6 {
            var rng = SeededRandom(seed: UInt64(seed))
            let rows = EdgeQualityTests.randomGraph(&rng)
            var reports: [[[String?]]] = []
            for engine in EdgeQualityTests.engines {
                let w = try EdgeQualityTests.fixture(rows, engine: engine, rules: "{warning: 2, error: 5, critical: 9}").run()
                let got = try w.strings("SELECT entity_type, identifier_type, identifier_value, partners FROM nexus_edge_quality ORDER BY 1, 2, 3")
                let want = try w.strings("""
                    SELECT a.entity_type, a.identifier_type, a.identifier_value, count(DISTINCT b.identifier_value)
                    FROM nexus_entity_identifiers a JOIN nexus_entity_identifiers b
                      ON b.edge_id = a.edge_id AND b.entity_type = a.entity_type
                     AND NOT (b.identifier_type = a.identifier_type AND b.identifier_value = a.identifier_value)
                    GROUP BY 1, 2, 3 HAVING count(DISTINCT b.identifier_value) > 2 ORDER BY 1, 2, 3
                    """)
                #expect(!want.isEmpty)
                #expect(got == want, "seed \(seed), \(engine)")
                reports.append(try EdgeQualityTests.report(w))
            }
            #expect(reports[0] == reports[1], "seed \(seed): the engines' reports differ")
        }
    }

    /// With `filter`, every engine's partition is the one the rule gives, computed here from
    /// the rows: cut identifiers above `error` link nothing; an identifier left with no edge
    /// that shares an edge_id with one that has an edge resolves to nothing.
    @Test func theFilterGivesTheOrphansRulesPartition() throws {
        for seed in 11...16 {
            var rng = SeededRandom(seed: UInt64(seed))
            let rows = EdgeQualityTests.randomGraph(&rng)
            let want = EdgeQualityTests.filteredPartition(rows, error: 5)
            #expect(want.contains { $0.count > 1 })
            for engine in EdgeQualityTests.engines {
                let w = try EdgeQualityTests.fixture(rows, engine: engine, rules: "{warning: 2, error: 5, critical: 9, on_error: filter}").run()
                #expect(try w.partition("person").union(w.partition("group")) == want, "seed \(seed), \(engine)")
                let filtered = try w.count("SELECT count(*) FROM nexus_edge_quality WHERE filtered")
                #expect(filtered == (try w.count("SELECT count(*) FROM nexus_edge_quality WHERE partners > 5")))
            }
        }
    }

    /// A random graph in `Occurrence`s: 40–70 edges of 1–6 identifiers, two of 25–40.
    static func randomGraph(_ rng: inout SeededRandom) -> [Occurrence] {
        let types = ["email", "phone", "user_id"]
        var rows: [Occurrence] = []
        let edges = Int.random(in: 40...70, using: &rng)
        for e in 0..<edges {
            let etype = Int.random(in: 0..<5, using: &rng) == 0 ? "group" : "person"
            let size = e < 2 ? Int.random(in: 25...40, using: &rng) : Int.random(in: 1...6, using: &rng)
            for _ in 0..<size {
                let type = types[Int.random(in: 0..<types.count, using: &rng)]
                let value = "v\(Int.random(in: 0..<45, using: &rng))"
                rows.append(("edge\(e)", etype, type, value, Int.random(in: 0..<3, using: &rng) == 0 ? "t" : "s"))
            }
        }
        return rows
    }

    /// The filter's partition by brute force: pairs per edge_id and entity type, partners,
    /// cut identifiers, survivors, orphans, then components of the pairs left.
    static func filteredPartition(_ rows: [Occurrence], error: Int) -> Set<[String]> {
        struct Node: Hashable { var etype: String, type: String, value: String }
        var groups: [String: Set<Node>] = [:]
        for r in rows { groups["\(r.etype)|\(r.edge)", default: []].insert(Node(etype: r.etype, type: r.type, value: r.value)) }
        var partnerValues: [Node: Set<String>] = [:]
        for g in groups.values { for a in g { for b in g where b != a { partnerValues[a, default: []].insert(b.value) } } }
        let cut = Set(partnerValues.filter { $0.value.count > error }.keys)
        var survives = Set<Node>()
        for g in groups.values { let kept = g.subtracting(cut); if kept.count >= 2 { survives.formUnion(kept) } }
        var orphans = Set<Node>()
        for g in groups.values where !g.isDisjoint(with: survives) { orphans.formUnion(g.subtracting(survives)) }
        let all = Set(groups.values.flatMap { $0 }).subtracting(orphans)
        var parent: [Node: Node] = [:]
        func root(_ x: Node) -> Node { var x = x; while let p = parent[x], p != x { x = p }; return x }
        for n in all { parent[n] = n }
        for g in groups.values {
            let kept = g.subtracting(cut).subtracting(orphans).sorted { ($0.type, $0.value) < ($1.type, $1.value) }
            for n in kept.dropFirst() { parent[root(n)] = root(kept[0]) }
        }
        var parts: [Node: [String]] = [:]
        for n in all { parts[root(n), default: []].append("\(n.type):\(n.value)") }
        return Set(parts.values.map { $0.sorted() })
    }

    // MARK: a hub in a generated clinic

    /// A generated clinic of 300 persons, and a copy where one phone joins the first visit of
    /// 200 of them (each visit already links a patient id and an email).
    static func hubClinic() throws -> (plain: String, hub: String) {
        let plain = NSTemporaryDirectory() + "nexus-hub-" + UUID().uuidString
        try writeClinic(to: plain, hub: false)
        try writeClinic(to: plain + "-hub", hub: true)
        return (plain, plain + "-hub")
    }

    /// Writes the 300-person clinic to `dir`, with the shared phone when `hub`.
    static func writeClinic(to dir: String, hub: Bool) throws {
        _ = try SyntheticClinic(persons: 300, seed: 5).write(to: dir)
        guard hub else { return }
        let file = dir + "/seeds/clinic_entity_identifiers.csv"
        let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").map(String.init)
        var withPatient = Set<String>(), taken = Set<String>(), added: [String] = []
        for l in lines.dropFirst() {
            let c = l.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            if c[3] == "person" && c[4] == "patient_id" { withPatient.insert(c[1]) }
        }
        for l in lines.dropFirst() where added.count < 200 {
            let c = l.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard c[3] == "person", c[4] == "email", withPatient.contains(c[1]), taken.insert(c[5]).inserted else { continue }
            added.append("hub\(added.count),\(c[1]),\(c[2]),person,phone,+10000000000,patient,frontdesk,\(c[8]),\(c[9])")
        }
        #expect(added.count == 200)
        try ((lines + added).joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
    }

    static func build(_ root: String, engine: String, yml extra: String) throws -> (SQLiteWarehouse, SilentReporter) {
        let copy = root + "-" + UUID().uuidString
        try FileManager.default.copyItem(atPath: root, toPath: copy)
        let text = try String(contentsOfFile: copy + "/nexus.yml", encoding: .utf8)
        try (text + "engine: \(engine)\n" + extra).write(toFile: copy + "/nexus.yml", atomically: true, encoding: .utf8)
        let project = try Project.load(root: copy)
        let w = try Runner.openSQLite(project)
        let reporter = SilentReporter()
        try Runner(project: project, warehouse: w, reporter: reporter, processedAt: 0).run()
        return (w, reporter)
    }

    @Test func aPhoneSharedBy200PeopleIsCaughtAndFiltered() throws {
        let (plain, hub) = try EdgeQualityTests.hubClinic()
        defer { for d in [plain, hub] { try? FileManager.default.removeItem(atPath: d) } }
        let (clean, _) = try EdgeQualityTests.build(plain, engine: "native", yml: "")
        let truth = try clean.partition()
        #expect(try clean.count("SELECT count(*) FROM nexus_edge_quality") == 0)
        var filteredTables: [[[String?]]] = []
        for engine in EdgeQualityTests.engines {
            // warn: reported as critical with its 200 edges, warned about, and the over-merge it
            // causes reported too.
            let (w, r) = try EdgeQualityTests.build(hub, engine: engine, yml: "")
            let row = try w.strings("SELECT identifier_type, identifier_value, edges, severity, filtered, sources FROM nexus_edge_quality")
            #expect(row == [["phone", "+10000000000", "200", "CRITICAL", "0", "frontdesk: \(try w.scalar("SELECT partners FROM nexus_edge_quality") ?? "")"]])
            #expect(r.warnings.contains { $0.hasPrefix("edge quality: 1 identifier(s)") && $0.contains("'+10000000000'") })
            #expect(r.warnings.contains { $0.contains("over_merge.max_identifiers") })
            #expect(r.steps.contains { $0.kind == "check" && $0.name == "edge quality" && ($0.note ?? "").contains("1 above critical") })
            let merged = try w.partition()
            #expect(merged.count < truth.count - 150)
            // explain's picture of the merged person marks the phone as a bridge.
            let picture = try Explainer(warehouse: w).explain(type: "phone", value: "+10000000000", entityType: "person")
            #expect(picture.links.count > 600)
            #expect(picture.bridges.contains("phone +10000000000"))
            // doctor names it, and names it first among the merged person's bridges.
            let findings = try Doctor(project: try Project.load(root: (w.path as NSString).deletingLastPathComponent), warehouse: w).run()
            #expect(findings.contains { $0.severity == .warning && $0.model == "nexus_edge_quality" && $0.message.contains("person phone '+10000000000'") })
            #expect(findings.contains { $0.model == "nexus_entities" && $0.message.contains("bridges (removing one would split it): phone +10000000000") })
            // The report lists it first among the offenders and draws the merged person around it.
            let project = try Project.load(root: (w.path as NSString).deletingLastPathComponent)
            let report = try RunReport.gather(project: project, warehouse: w)
            #expect(report.edgeQuality.first?[2] == "+10000000000" && report.edgeQuality.first?[7] == "CRITICAL")
            let person = try #require(report.types.first { $0.name == "person" })
            #expect(person.largest.first?.identifiers ?? 0 > 600 && person.buckets.last?.entities == 1)
            let largest = try #require(person.largest.first)
            #expect((largest.svg ?? largest.dot)?.contains("phone +10000000000") == true)
            #expect(try RunReport.centre(of: largest.id, type: "person", mapping: "nexus_resolved_person_identifiers", warehouse: w)! == ("phone", "+10000000000"))
            #expect(report.html().contains("href=\"#entity-per_"))

            // filter: the partition of the graph without the phone's edges; the phone itself,
            // whose every visit links other identifiers, is a filtered orphan: no entity.
            let (f, fr) = try EdgeQualityTests.build(hub, engine: engine, yml: "edge_quality: {on_error: filter}\n")
            #expect(try f.partition() == truth)
            #expect(try f.count("SELECT count(*) FROM nexus_resolved_person_identifiers WHERE identifier_value = '+10000000000'") == 0)
            #expect(fr.steps.contains { ($0.note ?? "").contains("filter: 1 identifier(s) cut, 1 filtered orphan(s) left out") })
            #expect(try f.count("SELECT count(*) FROM nexus_entity_participants") == clean.count("SELECT count(*) FROM nexus_entity_participants"))
            filteredTables.append(try f.strings("SELECT * FROM nexus_entities ORDER BY entity_id"))

            // ignore: the same partition, and nothing left to report.
            let (i, ir) = try EdgeQualityTests.build(hub, engine: engine, yml: "edge_quality: {ignore: {phone: ['+10000000000', '+19999999999']}}\n")
            #expect(try i.partition() == truth)
            #expect(try i.count("SELECT count(*) FROM nexus_edge_quality") == 0)
            #expect(ir.steps.contains { ($0.note ?? "").contains("ignore list: 1 identifier(s) in 200 row(s) left out") })
        }
        #expect(filteredTables[0] == filteredTables[1])
    }

    @Test(arguments: engines)
    func failStopsTheRunAndKeepsThePreviousBuild(engine: String) throws {
        let f = Fixture()
        f.yml += "engine: \(engine)\nedge_quality: {warning: 1, error: 2, critical: 3, on_error: fail}\n"
        f.event("e1", day: 1, [("email", "a@x"), ("phone", "shared")])
        let w = try f.run()
        let before = try w.strings("SELECT * FROM nexus_entities ORDER BY entity_id")
        f.event("e2", day: 2, [("email", "b@x"), ("phone", "shared")])
        f.event("e3", day: 3, [("email", "c@x"), ("phone", "shared")])
        #expect(throws: NexusError.self) { try f.run() }
        do { try f.run() } catch let e as NexusError {
            #expect(e.code == "edge_quality")
            #expect(e.message.contains("person phone 'shared' (3 partners; s: 3)"))
            #expect(e.message.contains("the previous build is unchanged"))
        }
        #expect(try f.warehouse().strings("SELECT * FROM nexus_entities ORDER BY entity_id") == before)
        #expect(try f.warehouse().relations().filter { $0.name.hasPrefix("__nexus") }.isEmpty)
    }

    /// A run that keeps the nexus tables (only a model changed) reports edge quality as the
    /// build that made them judged it.
    @Test func aRunThatKeepsTheTablesReportsTheirEdgeQuality() throws {
        let f = Fixture()
        f.yml += "edge_quality: {warning: 1, error: 2, critical: 3}\n"
        for (i, e) in ["a", "b", "c"].enumerated() { f.event("e\(i)", day: i + 1, [("email", "\(e)@x"), ("phone", "shared")]) }
        let (_, first) = try f.runReporting()
        let judged = try #require(first.steps.first { $0.name == "edge quality" })
        #expect(first.warnings.contains { $0.hasPrefix("edge quality: 1 identifier(s)") })
        f.extraFiles["models/m.sql"] = "select 1 as x"
        let (_, second) = try f.runReporting()
        #expect(second.steps.contains { $0.name == "nexus tables" && ($0.note ?? "").hasPrefix("unchanged") })
        #expect(second.steps.contains { $0.name == "edge quality" && $0.note == judged.note && $0.rows == judged.rows })
        #expect(second.warnings.filter { $0.hasPrefix("edge quality:") } == first.warnings.filter { $0.hasPrefix("edge quality:") })
    }

    /// An ignored identifier links nothing and resolves to nothing: no mapping row, no
    /// participant, its traits dropped with a warning naming the source, a declaration naming
    /// it dropped; the identifiers it joined stay apart.
    @Test(arguments: engines)
    func ignoredIdentifiersResolveToNothing(engine: String) throws {
        let f = Fixture()
        f.yml += "engine: \(engine)\nedge_quality:\n  ignore:\n    email: [test@test.com]\n"
        f.event("e1", day: 1, [("email", "test@test.com"), ("phone", "1")])
        f.event("e2", day: 2, [("email", "test@test.com"), ("phone", "2")])
        f.event("g1", day: 1, type: "group", [("domain", "x.test")])
        f.trait("t1", event: "e1", ("email", "test@test.com"), "name", "Test", day: 1)
        f.trait("t2", event: "e1", ("phone", "1"), "name", "One", day: 1)
        f.declare("d1", a: ("email", "test@test.com"), b: ("domain", "x.test"), day: 1)
        let (w, r) = try f.runReporting()
        #expect(try w.partition() == [["phone:1"], ["phone:2"]])
        #expect(try w.count("SELECT count(*) FROM nexus_entity_participants WHERE entity_type = 'person'") == 2)
        #expect(try w.count("SELECT count(*) FROM nexus_resolved_entity_traits") == 1)
        #expect(try w.count("SELECT count(*) FROM nexus_relationships") == 0)
        #expect(r.warnings.contains("nexus_entity_traits: 1 trait row(s) from source s name an identifier left out of resolution by edge_quality (ignored or filtered), and were dropped"))
    }

    @Test func badSettingsNameTheLine() throws {
        func parse(_ eq: String) throws -> ProjectConfig {
            try ProjectConfig.parse("name: p\nentity_types: [person]\nedge_quality: \(eq)\n", file: "nexus.yml")
        }
        let cases: [(String, String)] = [
            ("{warning: 30, error: 20}", "warning <= error <= critical"),
            ("{on_error: drop}", "on_error is one of warn, fail, filter"),
            ("{error: 0}", "at least 1"),
            ("{ignore: [a]}", "maps identifier types to lists of values"),
            ("{ignore: {email: a}}", "maps identifier types to lists of values"),
            ("{treshold: 3}", "unknown key 'treshold' in edge_quality"),
        ]
        for (text, message) in cases {
            #expect(throws: NexusError.self) { try parse(text) }
            do { _ = try parse(text) } catch let e as NexusError {
                #expect(e.message.contains(message), "\(text): \(e.message)")
                #expect(e.location?.line == 3, "\(text)")
            }
        }
        let rules = try parse("{warning: 5, error: 6, critical: 7, on_error: filter, ignore: {phone: [0000000000, '+1']}}").edgeQuality
        #expect(rules.onError == .filter && rules.warning == 5 && rules.critical == 7)
        #expect(rules.ignore == ["phone": ["0000000000", "+1"]])
    }
}
