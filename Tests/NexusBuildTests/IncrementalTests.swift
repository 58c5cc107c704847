import Foundation
import Testing
import NexusBuild
import NexusCore
import NexusProject
import NexusWarehouse
import NexusTesting

/// Incremental resolution (`incremental: true`): ids that stay put, merges with a survivor,
/// a log of every change, and the partition of a full run whatever the batches.
struct IncrementalTests {
    /// One identifier occurrence: event, entity type, identifier type and value, ingestion day.
    struct Occurrence { var event: String; var type = "person"; var idType: String; var value: String; var day: Int }

    /// A project fed batch by batch: each `run` writes the rows so far and builds.
    final class Feed {
        let fixture = Fixture()
        var occurrences: [Occurrence] = []
        var run = 0
        init(engine: String? = nil) { fixture.yml += "incremental: true\n" + (engine.map { "engine: \($0)\n" } ?? "") }

        func add(_ o: [Occurrence]) { occurrences += o }

        @discardableResult
        func build(full: Bool = false) throws -> (SQLiteWarehouse, SilentReporter) {
            let (w, r) = try buildAny(full: full)
            return (w as! SQLiteWarehouse, r)
        }

        /// Builds on the project's warehouse, whichever it is.
        func buildAny(full: Bool = false) throws -> (any Warehouse, SilentReporter) {
            run += 1
            let f = fixture
            f.events = []; f.identifiers = []
            var seen = Set<String>()
            for (k, o) in occurrences.enumerated() {
                let at = Fixture.ts(day: o.day)
                if seen.insert(o.event).inserted { f.events.append([o.event, at, "e", "t", "s", at]) }
                f.identifiers.append(["i\(k)", o.event, o.event, o.type, o.idType, o.value, "r", "s", at, at])
            }
            try f.write()
            let project = try Project.load(root: f.root)
            let w = try Runner.openWarehouse(project)
            let reporter = SilentReporter()
            try Runner(project: project, warehouse: w, reporter: reporter, processedAt: 1_800_000_000_000_000 + Int64(run)).run(force: full)
            return (w, reporter)
        }
    }

    /// identifier ("type:idType:value") → entity id, over every entity type.
    static func mapping(_ w: any Warehouse) throws -> [String: String] {
        var out: [String: String] = [:]
        for t in ["person", "group"] {
            for r in try w.query("SELECT \"identifier_type\", \"identifier_value\", \"\(t)_id\" FROM \"nexus_resolved_\(t)_identifiers\"").rows {
                out["\(t):\(r[0].string!):\(r[1].string!)"] = r[2].string!
            }
        }
        return out
    }

    /// The partition: sets of identifiers that share an entity.
    static func partition(_ m: [String: String]) -> Set<Set<String>> {
        Set(Dictionary(grouping: m.keys, by: { m[$0]! }).values.map(Set.init))
    }

    static func log(_ w: any Warehouse, run: String? = nil) throws -> [[String?]] {
        try w.query("SELECT \"entity_type\", \"identifier_type\", \"identifier_value\", \"entity_id\", \"previous_entity_id\", \"resolution_reason\", \"run_id\" FROM \"nexus_resolution_log\""
                      + (run.map { " WHERE \"run_id\" = '\($0)'" } ?? "") + " ORDER BY \"resolution_id\"").rows.map { $0.map(\.string) }
    }

    static func id(_ type: String, _ idType: String, _ value: String) -> String {
        NexusID.make(type, [idType, value])
    }

    @Test(arguments: ["native", "sql"])
    func idsStayPutMergesKeepTheLargerAndTheLogSaysWhy(engine: String) throws {
        let feed = Feed(engine: engine)
        defer { try? FileManager.default.removeItem(atPath: feed.fixture.root) }
        feed.add([
            .init(event: "e1", idType: "email", value: "a@x", day: 1), .init(event: "e1", idType: "phone", value: "1", day: 1),
            .init(event: "e2", idType: "email", value: "b@x", day: 1),
        ])
        var (w, reporter) = try feed.build()
        let a = IncrementalTests.id("person", "email", "a@x"), b = IncrementalTests.id("person", "email", "b@x")
        #expect(try IncrementalTests.mapping(w) == ["person:email:a@x": a, "person:phone:1": a, "person:email:b@x": b])
        #expect(try IncrementalTests.log(w).map { $0[5] } == ["born", "born", "born"])
        #expect(reporter.steps.contains { $0.name == "incremental resolution" && ($0.note ?? "").contains("2 entities born") })

        // A new person (born: id from its smallest identifier) and an identifier joining a.
        feed.add([
            .init(event: "e3", idType: "email", value: "c@x", day: 2), .init(event: "e3", idType: "phone", value: "0", day: 2),
            .init(event: "e4", idType: "email", value: "a@x", day: 2), .init(event: "e4", idType: "email", value: "z@x", day: 2),
        ])
        (w, reporter) = try feed.build()
        let c = IncrementalTests.id("person", "email", "c@x")
        var m = try IncrementalTests.mapping(w)
        #expect(m["person:email:z@x"] == a && m["person:email:c@x"] == c && m["person:phone:0"] == c)
        let run2 = try IncrementalTests.log(w, run: Timestamp.format(1_800_000_000_000_002))
        #expect(Set(run2.map { "\($0[2]!) \($0[5]!)" }) == ["z@x accreted", "c@x born", "0 born"])

        // b and c meet: c has more identifiers (2 against 1) and survives; b is repointed.
        // A full run would name the merged person after b@x, its smallest identifier.
        feed.add([.init(event: "e5", idType: "email", value: "b@x", day: 3), .init(event: "e5", idType: "email", value: "c@x", day: 3)])
        (w, reporter) = try feed.build()
        m = try IncrementalTests.mapping(w)
        #expect(m["person:email:b@x"] == c && m["person:email:c@x"] == c)
        let run3 = try IncrementalTests.log(w, run: Timestamp.format(1_800_000_000_000_003))
        #expect(run3.map { [$0[2], $0[3], $0[4], $0[5]] } == [["b@x", c, b, "repointed"]])
        #expect(try w.strings("SELECT resolution_reason, previous_entity_id FROM nexus_resolved_person_identifiers WHERE identifier_value = 'b@x'") == [["repointed", b]])
        // The loser's events are the survivor's now; the loser is no entity.
        #expect(try w.strings("SELECT DISTINCT entity_id FROM nexus_entity_participants WHERE event_id = 'e2'") == [[c]])
        #expect(try w.strings("SELECT count(*) FROM nexus_entities WHERE entity_id = '\(b)'") == [["0"]])
        // explain tells the survivor's story from the log.
        let story = try Explainer(warehouse: w).explain(type: "email", value: "b@x", entityType: "person")
        #expect(story.entityID == c)
        #expect(story.history == [
            "run \(Timestamp.format(1_800_000_000_000_002)) (watermark 2025-01-02 00:00:00): born with 2 identifier(s)",
            "run \(Timestamp.format(1_800_000_000_000_003)) (watermark 2025-01-03 00:00:00): absorbed \(b) (1 identifier(s) repointed here)",
        ], "\(story.history)")
        #expect(story.tree().hasSuffix("absorbed \(b) (1 identifier(s) repointed here)"))

        // A late load (ingested before the watermark) is resolved, and counted.
        feed.add([.init(event: "e6", idType: "phone", value: "1", day: 1), .init(event: "e6", idType: "email", value: "a2@x", day: 1)])
        (w, reporter) = try feed.build()
        #expect(try IncrementalTests.mapping(w)["person:email:a2@x"] == a)
        let note = reporter.steps.first { $0.name == "incremental resolution" }?.note ?? ""
        #expect(note.contains("2 loaded late"), "\(note)")
        // The log only grows: every earlier row is still there.
        #expect(try IncrementalTests.log(w).count == 3 + 3 + 1 + 1)

        // --full starts afresh: each person takes its smallest identifier's id (the merged one
        // b@x's; a's now a2@x's, smaller than a@x), and the log says which identifiers moved.
        (w, reporter) = try feed.build(full: true)
        m = try IncrementalTests.mapping(w)
        let a2 = IncrementalTests.id("person", "email", "a2@x")
        #expect(m["person:email:c@x"] == b && m["person:email:b@x"] == b && m["person:email:a@x"] == a2)
        let full = try IncrementalTests.log(w, run: Timestamp.format(1_800_000_000_000_005))
        #expect(Set(full.map { "\($0[2]!) \($0[4] ?? "-") \($0[5]!)" })
                == ["b@x \(c) repointed", "c@x \(c) repointed", "0 \(c) repointed", "a@x \(a) repointed", "1 \(a) repointed", "z@x \(a) repointed", "a2@x \(a) repointed"])
    }

    /// A run that fails after resolving (a broken model) publishes nothing: mapping, log and
    /// watermark stay as they were, and the next run does exactly what the failed one would have.
    @Test func aFailedRunLeavesStateAndLogAlone() throws {
        let feed = Feed(), twin = Feed()
        defer { for f in [feed, twin] { try? FileManager.default.removeItem(atPath: f.fixture.root) } }
        let first: [Occurrence] = [.init(event: "e1", idType: "email", value: "a@x", day: 1), .init(event: "e2", idType: "email", value: "b@x", day: 1)]
        let second: [Occurrence] = [.init(event: "e3", idType: "email", value: "a@x", day: 2), .init(event: "e3", idType: "email", value: "b@x", day: 2)]
        for f in [feed, twin] { f.add(first); try f.build() }
        let w = try feed.fixture.warehouse()
        let mapping = try IncrementalTests.mapping(w), log = try IncrementalTests.log(w), state = try w.readState("resolution")
        feed.add(second)
        feed.fixture.extraFiles["models/zz_broken.sql"] = "select * from {{ ref('nexus_entities') }} join no_such_table using (entity_id)"
        #expect(throws: NexusError.self) { try feed.build() }
        #expect(try IncrementalTests.mapping(w) == mapping && IncrementalTests.log(w) == log && w.readState("resolution") == state)
        feed.fixture.extraFiles = [:]
        try FileManager.default.removeItem(atPath: feed.fixture.root + "/models/zz_broken.sql")
        twin.add(second)
        feed.run = twin.run  // the same run id as the twin's second run
        let (after, _) = try feed.build(), (expected, _) = try twin.build()
        #expect(try IncrementalTests.mapping(after) == IncrementalTests.mapping(expected))
        #expect(try IncrementalTests.log(after) == IncrementalTests.log(expected))
        let states = (try after.readState("resolution"), try expected.readState("resolution"))
        #expect(states.0 == states.1 && states.0 != nil, "\(states)")
    }

    @Test func aSourceWithoutIngestedAtIsNamed() throws {
        let f = Fixture()
        defer { try? FileManager.default.removeItem(atPath: f.root) }
        f.yml += "incremental: true\n"
        f.extraFiles["models/s_entity_traits.sql"] = "select entity_trait_id, event_id, entity_type, identifier_type, identifier_value, trait_name, trait_value, source, occurred_at from {{ ref('raw_traits') }}"
        f.event("e1", day: 1, [("email", "a@x")])
        try f.write()
        try FileManager.default.moveItem(atPath: f.root + "/seeds/s_entity_traits.csv", toPath: f.root + "/seeds/raw_traits.csv")
        let e = try #require(throws: NexusError.self) { try f.build() }
        #expect(e.message.contains("missing in: s_entity_traits (models/s_entity_traits.sql)"), "\(e.message)")
        #expect(!e.message.contains("s_entity_identifiers"))
    }

    @Test func settingsThatCannotBeIncrementalAreRefused() throws {
        func error(_ yml: String) -> String {
            do { _ = try ProjectConfig.parse(yml, file: "nexus.yml"); return "parsed" } catch { return "\(error)" }
        }
        #expect(error("name: x\nedge_quality: {on_error: filter}\nincremental: true\n").contains("cannot take edge_quality.on_error: filter"))
        #expect(error("name: x\nincremental: maybe\n").contains("'incremental' must be true or false"))
    }

    /// Random graphs delivered in random batches (late rows among them, and a long chain whose
    /// links come in reverse order across batches): after every run the partition is that of
    /// all rows so far, every id change is a logged repoint to the survivor the rule names,
    /// every new identifier is logged born or accreted, and a born entity's id is its
    /// smallest identifier's. At the end, a full run of all rows gives the same partition.
    @Test(arguments: [(0, "native"), (1, "native"), (2, "native"), (3, "sql"), (4, "sql"), (5, "sql")])
    func randomBatchesKeepAFullRunsPartition(seed: Int, engine: String) throws {
        var rng = SplitMix(seed: UInt64(seed) &* 7919 &+ 11)
        var all: [(Occurrence, batch: Int)] = []
        let batches = 4
        for e in 0..<36 {
            let type = rng.next(6) == 0 ? "group" : "person"
            let width = 1 + rng.next(3)
            let batch = 1 + rng.next(batches)
            for _ in 0..<width {
                let v = rng.next(type == "group" ? 6 : 40)
                let idType = v % 3 == 0 ? "phone" : "email"
                // A late row: ingested on day 1, before the watermark of any batch after the first.
                let day = rng.next(8) == 0 ? 1 : batch * 2
                all.append((.init(event: "r\(e)", type: type, idType: idType, value: "v\(v)", day: day), batch))
            }
        }
        for k in 0..<14 {  // chain c0 - c1 - ... - c14, last link first
            let batch = batches - k * batches / 14
            for j in [k, k + 1] { all.append((.init(event: "chain\(k)", idType: "email", value: "c\(j)", day: batch * 2), batch)) }
        }
        // The engine under test, and the other one on the same batches: the same ids and log.
        let feed = Feed(engine: engine), other = Feed(engine: engine == "sql" ? "native" : "sql")
        defer { for f in [feed, other] { try? FileManager.default.removeItem(atPath: f.fixture.root) } }
        var previous: [String: String] = [:]
        for b in 1...batches {
            feed.add(all.filter { $0.batch == b }.map(\.0))
            other.add(all.filter { $0.batch == b }.map(\.0))
            let (w, _) = try feed.build(), (wo, _) = try other.build()
            let now = try IncrementalTests.mapping(w)
            #expect(try IncrementalTests.mapping(wo) == now && IncrementalTests.log(wo) == IncrementalTests.log(w), "engines differ at batch \(b)")
            #expect(try wo.strings("SELECT * FROM nexus_resolved_person_identifiers ORDER BY 1") == w.strings("SELECT * FROM nexus_resolved_person_identifiers ORDER BY 1"))
            #expect(IncrementalTests.partition(now) == IncrementalTests.components(feed.occurrences), "seed \(seed), batch \(b)")
            let log = try IncrementalTests.log(w, run: Timestamp.format(1_800_000_000_000_000 + Int64(feed.run)))
            var logged: [String: [String?]] = [:]
            for r in log { logged["\(r[0]!):\(r[1]!):\(r[2]!)"] = r }
            let earlierIDs = Set(previous.values)
            let counts = Dictionary(grouping: previous.keys, by: { previous[$0]! }).mapValues(\.count)
            for (key, id) in now {
                if let old = previous[key] {
                    if old == id { #expect(logged[key] == nil, "\(key) unchanged but logged") } else {
                        #expect(logged[key]?[5] == "repointed" && logged[key]?[4] == old && logged[key]?[3] == id, "\(key): \(old) → \(id) not logged")
                    }
                } else {
                    #expect(logged[key]?[5] == (earlierIDs.contains(id) ? "accreted" : "born") && logged[key]?[3] == id, "\(key) new: \(logged[key] ?? [])")
                }
            }
            #expect(log.count == now.filter { previous[$0.key] != $0.value }.count)
            // Survivors and born ids, entity by entity.
            for members in Dictionary(grouping: now.keys, by: { now[$0]! }) {
                let olds = Set(members.value.compactMap { previous[$0] })
                if olds.isEmpty {
                    let smallest = members.value.map { k -> [UInt8] in let p = k.split(separator: ":", maxSplits: 2); return Array((p[1] + "\u{0}" + p[2]).utf8) }.min { $0.lexicographicallyPrecedes($1) }!
                    let parts = String(decoding: smallest, as: UTF8.self).split(separator: "\u{0}", maxSplits: 1).map(String.init)
                    let type = String(members.value[0].split(separator: ":")[0])
                    #expect(members.key == IncrementalTests.id(type, parts[0], parts[1]), "born id of \(members.value.sorted())")
                } else {
                    // Most identifiers in the last mapping, then the smallest id in byte order.
                    let survivor = olds.sorted { a, b in counts[a]! != counts[b]! ? counts[a]! > counts[b]! : a.utf8.lexicographicallyPrecedes(b.utf8) }.first!
                    #expect(members.key == survivor, "survivor of \(olds.sorted()) with counts \(olds.map { counts[$0]! })")
                }
            }
            previous = now
        }
        // A full run on the same rows, as a project without incremental: the same partition.
        let plain = Fixture()
        defer { try? FileManager.default.removeItem(atPath: plain.root) }
        for o in feed.occurrences {
            let at = Fixture.ts(day: o.day)
            if !plain.events.contains(where: { $0[0] == o.event }) { plain.events.append([o.event, at, "e", "t", "s", at]) }
            plain.identifiers.append(["i\(plain.identifiers.count)", o.event, o.event, o.type, o.idType, o.value, "r", "s", at, at])
        }
        let w = try plain.run()
        #expect(IncrementalTests.partition(try IncrementalTests.mapping(w)) == IncrementalTests.partition(previous))
    }

    /// Components of the occurrences (identifiers sharing an event within an entity type).
    static func components(_ occurrences: [Occurrence]) -> Set<Set<String>> {
        var parent: [String: String] = [:]
        func find(_ x: String) -> String { var x = x; while let p = parent[x], p != x { x = p }; return x }
        var first: [String: String] = [:]
        for o in occurrences {
            let key = "\(o.type):\(o.idType):\(o.value)"
            if parent[key] == nil { parent[key] = key }
            let edge = o.type + "|" + o.event
            if let f = first[edge] { let a = find(key), b = find(f); if a != b { parent[a] = b } } else { first[edge] = key }
        }
        return Set(Dictionary(grouping: parent.keys, by: find).values.map(Set.init))
    }
}

extension IncrementalTests {
    /// On PostgreSQL (each engine) and on the Snowflake stand-in (engine sql), batch after
    /// batch: the same mapping and the same log rows as on SQLite.
    @Test(arguments: ["postgres native", "postgres sql", "snowflake"])
    func onServersTheSameIdsAndLog(_ target: String) throws {
        let lite = Feed(), pg = Feed()
        defer { for f in [lite, pg] { try? FileManager.default.removeItem(atPath: f.fixture.root) } }
        try pg.fixture.write()
        var snowflake: FakeSnowflake?
        if target == "snowflake" {
            let server = try FakeSnowflake()
            snowflake = server
            pg.fixture.yml += server.warehouseYAML()
        } else {
            _ = try PostgresParityTests.usePostgres(pg.fixture.root, engine: String(target.split(separator: " ")[1]))
            pg.fixture.yml = try String(contentsOfFile: pg.fixture.root + "/nexus.yml", encoding: .utf8)
        }
        defer { _ = snowflake }
        var rng = SplitMix(seed: 99)
        for batch in 1...(target == "snowflake" ? 2 : 3) {
            var rows: [Occurrence] = []
            for e in 0..<12 {
                for _ in 0..<(1 + rng.next(3)) {
                    let v = rng.next(20)
                    rows.append(.init(event: "b\(batch)e\(e)", idType: v % 4 == 0 ? "phone" : "email", value: "v\(v)", day: rng.next(6) == 0 ? 1 : batch * 2))
                }
            }
            lite.add(rows); pg.add(rows)
            let (wl, _) = try lite.buildAny(), (wp, _) = try pg.buildAny()
            #expect(try IncrementalTests.mapping(wp) == IncrementalTests.mapping(wl), "batch \(batch)")
            #expect(try IncrementalTests.log(wp).map { $0.map { $0.map { PostgresParityTests.canonical($0)! } } } == IncrementalTests.log(wl), "batch \(batch)")
        }
    }
}

/// A small deterministic generator for the property tests.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func next(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}
