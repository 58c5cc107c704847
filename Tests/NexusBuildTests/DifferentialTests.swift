import Foundation
import Testing
import NexusCore
import NexusScaffold

/// Both engines (native and SQL) against a naive reading of the rules, on random projects.
///
/// The engine takes shortcuts for speed (union–find, the last node, event and edge tried before the
/// pools, ids kept in a shorter spelling, trait winners in per-entity lists, packed and radix-sorted keys). The reference below
/// takes none: a graph search over explicit edges, and plain sorts and minimums over every
/// row, written from docs/decisions.md. Random projects with small value pools make merges,
/// chains, ties, NULLs, orphan events, unknown types and rows in any order; each is built cold
/// (the engine fed while the seeds load) and again with `--full` (read back from SQLite), and
/// both builds must equal the reference row for row.
struct DifferentialTests {
    static let types = ["person", "group"]

    struct Ident { var event: String; var edge: String?; var etype: String; var itype: String?; var value: String?; var role: String?; var occurred: String }
    struct Trait { var id: String; var etype: String; var itype: String?; var value: String?; var name: String?; var traitValue: String?; var occurred: String?; var ingested: String? }
    struct Declaration {
        var id: String; var a: (String, String?, String?, String?); var b: (String, String?, String?, String?)
        var type: String?; var direction: String?; var active: String?; var source: String; var occurred: String?; var ingested: String?
    }
    struct Node: Hashable, Comparable {
        var etype: String, itype: String, value: String
        static func < (a: Node, b: Node) -> Bool {
            if a.etype != b.etype { return a.etype < b.etype }
            if a.itype != b.itype { return Array(a.itype.utf8).lexicographicallyPrecedes(Array(b.itype.utf8)) }
            return Array(a.value.utf8).lexicographicallyPrecedes(Array(b.value.utf8))
        }
    }

    static func ts(_ r: inout SeededRandom) -> String { String(format: "2025-01-%02d %02d:00:00", Int.random(in: 1...4, using: &r), Int.random(in: 0...2, using: &r)) }

    typealias Case = (events: [(String, String)], idents: [Ident], traits: [Trait], declarations: [Declaration])

    /// A random project: events, identifier occurrences, traits and relationship declarations,
    /// in random order; `scale` multiplies the counts and the pool of identifier values. The
    /// generator is the synthetic clinic's SplitMix64: the same cases on every machine.
    static func makeCase(_ seed: UInt64, scale: Int = 1) -> Case {
        var r = SeededRandom(seed: seed)
        let eventCount = Int.random(in: 5...40, using: &r) * scale
        let events = (1...eventCount).map { ("e\($0)", ts(&r)) }.shuffled(using: &r)
        let itypes = ["email", "email2", "phone", "uid"]
        let pool = Int.random(in: 2...12, using: &r) * scale
        func value(_ r: inout SeededRandom) -> String {
            let k = Int.random(in: 0..<pool, using: &r)
            return Int.random(in: 0..<5, using: &r) == 0 ? "V\(k)" : "v\(k)"
        }
        var idents: [Ident] = []
        for _ in 0..<Int.random(in: 10...120, using: &r) * scale {
            let event = Int.random(in: 0..<12, using: &r) == 0 ? "ghost\(Int.random(in: 0..<3, using: &r))" : "e\(Int.random(in: 1...eventCount, using: &r))"
            let edge: String?
            switch Int.random(in: 0..<20, using: &r) {
            case 0..<11: edge = event
            case 11..<14: edge = DifferentialTests.spelledID(Int.random(in: 0..<4, using: &r), &r, plain: "x")
            case 14..<16: edge = "e\(Int.random(in: 1...eventCount, using: &r))"
            default: edge = nil
            }
            let etype = ["person", "person", "person", "group", "robot"][Int.random(in: 0..<5, using: &r)]
            let itype: String? = Int.random(in: 0..<25, using: &r) == 0 ? nil : itypes[Int.random(in: 0..<itypes.count, using: &r)]
            let v: String? = Int.random(in: 0..<25, using: &r) == 0 ? nil : value(&r)
            let role = [nil, "patient", "author"][Int.random(in: 0..<3, using: &r)]
            idents.append(Ident(event: event, edge: edge, etype: etype, itype: itype, value: v, role: role, occurred: ts(&r)))
        }
        var traits: [Trait] = []
        // Three names mostly, and 30 more now and then: the largest entities get more names than
        // the engine keeps in a list (24) and move to its map.
        let names = ["status", "plan", "home city"]
        let moreNames = (0..<30).map { "n\($0)" }
        let traitCount = Int.random(in: 0...80, using: &r) * scale
        let ids = Array(0..<traitCount).shuffled(using: &r)
        for k in 0..<traitCount {
            let etype = ["person", "person", "group", "robot"][Int.random(in: 0..<4, using: &r)]
            let tv: String?
            switch Int.random(in: 0..<8, using: &r) {
            case 0: tv = nil
            case 1: tv = ""
            default: tv = "t\(Int.random(in: 0..<4, using: &r))"
            }
            traits.append(Trait(id: DifferentialTests.spelledID(ids[k], &r, plain: "tr"), etype: etype,
                                itype: Int.random(in: 0..<30, using: &r) == 0 ? nil : itypes[Int.random(in: 0..<itypes.count, using: &r)],
                                value: value(&r), name: Int.random(in: 0..<30, using: &r) == 0 ? nil
                                    : Int.random(in: 0..<(scale > 1 ? 2 : 3), using: &r) == 0 ? moreNames[Int.random(in: 0..<moreNames.count, using: &r)]
                                    : names[Int.random(in: 0..<names.count, using: &r)],
                                traitValue: tv,
                                // Few distinct times, so that ties down to the trait id are common.
                                occurred: Int.random(in: 0..<10, using: &r) == 0 ? nil : "2025-01-0\(Int.random(in: 1...3, using: &r)) 00:00:00",
                                ingested: Int.random(in: 0..<4, using: &r) == 0 ? nil : "2025-02-0\(Int.random(in: 1...2, using: &r)) 00:00:00"))
        }
        // Larger cases: two identifiers get every name, twice, before and after their entities
        // move from the engine's lists to its map.
        let known = idents.filter { $0.etype == "person" && $0.itype != nil && $0.value != nil }.prefix(2)
        if scale > 1, known.count == 2 {
            for (k, (who, name)) in (known + known).flatMap({ who in moreNames.map { (who, $0) } }).enumerated() {
                traits.append(Trait(id: DifferentialTests.spelledID(100_000 + k, &r, plain: "tw"), etype: "person", itype: who.itype,
                                    value: who.value, name: name, traitValue: "w\(Int.random(in: 0..<3, using: &r))",
                                    occurred: "2025-01-0\(Int.random(in: 1...2, using: &r)) 00:00:00", ingested: nil))
            }
            traits.shuffle(using: &r)
        }
        // Declarations between few identifiers (some unknown), so that pairs repeat, with few distinct times.
        var declarations: [Declaration] = []
        let declarationCount = Int.random(in: 0...60, using: &r) * scale
        let declarationIDs = Array(0..<declarationCount).shuffled(using: &r)
        func side(_ r: inout SeededRandom, _ etypes: [String]) -> (String, String?, String?, String?) {
            (etypes[Int.random(in: 0..<etypes.count, using: &r)],
             Int.random(in: 0..<30, using: &r) == 0 ? nil : itypes[Int.random(in: 0..<4, using: &r) == 0 ? 1 : 0],
             Int.random(in: 0..<30, using: &r) == 0 ? nil : "v\(Int.random(in: 0..<2, using: &r))",
             [nil, "patient", "location"][Int.random(in: 0..<3, using: &r)])
        }
        for k in 0..<declarationCount {
            declarations.append(Declaration(
                id: String(format: "rd%03d", declarationIDs[k]),
                a: side(&r, ["person", "person", "group", "robot"]), b: side(&r, ["group", "group", "person"]),
                type: [nil, "membership", "membership", "owner"][Int.random(in: 0..<4, using: &r)],
                direction: [nil, "a_to_b", "bidirectional"][Int.random(in: 0..<3, using: &r)],
                active: [nil, "true", "false"][Int.random(in: 0..<3, using: &r)],
                source: ["s1", "s2", "s3"][Int.random(in: 0..<3, using: &r)],
                occurred: Int.random(in: 0..<8, using: &r) == 0 ? nil : "2025-01-0\(Int.random(in: 1...3, using: &r)) 00:00:00",
                ingested: Int.random(in: 0..<4, using: &r) == 0 ? nil : "2025-02-0\(Int.random(in: 1...2, using: &r)) 00:00:00"))
        }
        return (events, idents, traits, declarations)
    }

    /// Id `k` spelled one of the ways ids come: a short counter, or `create_nexus_id`'s
    /// prefix + 32 hex digits (two prefixes of different lengths, upper-case digits too), which
    /// the engine keeps in a shorter spelling and must still order as text.
    static func spelledID(_ k: Int, _ r: inout SeededRandom, plain: String) -> String {
        let h = UInt64(k + 1) &* 0x9E37_79B9_7F4A_7C15
        let hex = String(format: "%016llx%016llx", h, h ^ 0xA5A5_5A5A_F0F0_0F0F)
        switch Int.random(in: 0..<4, using: &r) {
        case 0: return "ent_\(plain)_\(hex)"
        case 1: return "\(plain)_\(hex)"
        case 2: return "\(plain)_\(hex.uppercased())"
        default: return String(format: "\(plain)%03d", k)
        }
    }

    /// What the build must hold, computed the slow way.
    struct Expected {
        var mapping: Set<[String?]> = []        // etype, itype, value, entity id, event id
        var traits: Set<[String?]> = []         // entity id, name, value, occurred, entity_trait_id
        var participants: [[String?]] = []      // id, etype, event, entity, role, occurred (sorted)
        var entities: [[String?]] = []          // id, type, traits…, created, updated, last merged, first, last (output order)
        var traitNames: [String] = []
        var relationships: [[String?]] = []     // the columns of nexus_relationships but _processed_at, in output order
        var largestEntity = 0                   // identifiers in the largest entity
        var mostTraitNames = 0                  // trait names of the entity with the most
    }

    static func expected(_ c: Case) -> Expected {
        let eventTime = Dictionary(c.events, uniquingKeysWith: { a, _ in a })
        let occ = c.idents.filter { types.contains($0.etype) && $0.itype != nil && $0.value != nil }
        func node(_ i: Ident) -> Node { Node(etype: i.etype, itype: i.itype!, value: i.value!) }
        // Components: a graph search over edges between consecutive occurrences of a group.
        var adjacent: [Node: Set<Node>] = [:]
        for i in occ where adjacent[node(i)] == nil { adjacent[node(i)] = [] }
        var groups: [String: [Node]] = [:]
        for i in occ { if let e = i.edge { groups[i.etype + "\u{1}" + e, default: []].append(node(i)) } }
        for (_, g) in groups { for (a, b) in zip(g, g.dropFirst()) { adjacent[a]!.insert(b); adjacent[b]!.insert(a) } }
        var entityOf: [Node: String] = [:]
        var members: [String: [Node]] = [:]
        for start in adjacent.keys.sorted() where entityOf[start] == nil {
            var seen: Set<Node> = [start], queue = [start]
            while let n = queue.popLast() { for m in adjacent[n]! where seen.insert(m).inserted { queue.append(m) } }
            let smallest = seen.min()!
            let id = NexusID.make(smallest.etype, [smallest.itype, smallest.value])
            for n in seen { entityOf[n] = id }
            members[id] = Array(seen)
        }
        var x = Expected()
        x.largestEntity = members.values.map(\.count).max() ?? 0
        // Mapping: the occurrence with the smallest edge_id (NULL last), then the smallest event_id.
        let occurrences = Dictionary(grouping: occ, by: node)
        for n in adjacent.keys {
            let best = occurrences[n]!.min { a, b in
                (a.edge == nil ? 1 : 0, a.edge ?? "", a.event) < (b.edge == nil ? 1 : 0, b.edge ?? "", b.event)
            }!
            x.mapping.insert([n.etype, n.itype, n.value, entityOf[n], best.event])
        }
        // Traits: latest occurred_at (NULL oldest), then _ingested_at, then the largest id.
        var winners: [String: [String: Trait]] = [:]
        for t in c.traits where types.contains(t.etype) {
            guard let itype = t.itype, let value = t.value, let name = t.name, let tv = t.traitValue, !tv.isEmpty,
                  let entity = entityOf[Node(etype: t.etype, itype: itype, value: value)] else { continue }
            let norm = name.lowercased().replacingOccurrences(of: " ", with: "_")
            if let w = winners[entity]?[norm], recency(w.occurred, w.ingested, w.id) > recency(t.occurred, t.ingested, t.id) { continue }
            winners[entity, default: [:]][norm] = t
        }
        for (entity, byName) in winners {
            for (name, t) in byName {
                x.traits.insert([entity, name, t.traitValue, t.occurred, NexusID.make("entity_trait", [entity, name, t.traitValue])])
            }
        }
        x.traitNames = Set(winners.values.flatMap(\.keys)).sorted()
        x.mostTraitNames = winners.values.map(\.count).max() ?? 0
        // Participants: one row per (event, entity, role), for events in nexus_events.
        var triples: Set<[String?]> = []
        for i in occ where eventTime[i.event] != nil { triples.insert([i.event, entityOf[node(i)], i.role]) }
        x.participants = triples.map { t in
            [NexusID.make("entity_participant", t), members[t[1]!]![0].etype, t[0], t[1], t[2], eventTime[t[0]!]]
        }.sorted(by: rowOrder)
        // Entities, by type in nexus.yml order, then id.
        for (id, nodes) in members.sorted(by: { (types.firstIndex(of: $0.value[0].etype)!, $0.key) < (types.firstIndex(of: $1.value[0].etype)!, $1.key) }) {
            let mine = nodes.flatMap { occurrences[$0]! }
            let created = mine.map(\.occurred).min()
            let seen = mine.compactMap { eventTime[$0.event] }
            let merged = mine.filter { $0.edge != nil }.compactMap { eventTime[$0.event] }
            let updated = winners[id]?.values.compactMap(\.occurred).max() ?? created
            x.entities.append([id, nodes[0].etype] + x.traitNames.map { winners[id]?[$0]?.traitValue }
                              + [created, updated, merged.max(), seen.min(), seen.max()])
        }
        // Relationships: per (entity A, entity B, type); fields from the latest declaration
        // (occurred_at, then _ingested_at, then the largest id), the source of the earliest,
        // established and last updated at the earliest and latest known occurred_at.
        let rank = Dictionary(uniqueKeysWithValues: x.entities.enumerated().map { ($0.element[0]!, $0.offset) })
        func entity(_ s: (String, String?, String?, String?)) -> String? {
            guard let t = s.1, let v = s.2 else { return nil }
            return entityOf[Node(etype: s.0, itype: t, value: v)]
        }
        var keyed: [[String]: [Declaration]] = [:]
        for d in c.declarations {
            guard let a = entity(d.a), let b = entity(d.b), let type = d.type else { continue }
            keyed[[a, b, type], default: []].append(d)
        }
        func order(_ d: Declaration) -> (String, String, String) { recency(d.occurred, d.ingested, d.id) }
        for (key, ds) in keyed.sorted(by: { (rank[$0.key[0]]!, rank[$0.key[1]]!, $0.key[2]) < (rank[$1.key[0]]!, rank[$1.key[1]]!, $1.key[2]) }) {
            let last = ds.max { order($0) < order($1) }!, first = ds.min { order($0) < order($1) }!
            let known = ds.compactMap(\.occurred)
            let active = last.active.map { $0 == "true" ? "1" : "0" }
            x.relationships.append([NexusID.make("relationship", key), key[0], last.a.0, last.a.3, key[1], last.b.0, last.b.3, key[2],
                                    last.direction, active, known.min(), known.max(), first.source, known.max(), known.min()])
        }
        return x
    }

    /// The order of observations for traits and declarations alike: `occurred_at`, then
    /// `_ingested_at` (NULL oldest), then the id; the latest wins.
    static func recency(_ occurred: String?, _ ingested: String?, _ id: String) -> (String, String, String) {
        (occurred ?? "", ingested ?? "", id)
    }

    /// Rows in text order, NULL first.
    static func rowOrder(_ a: [String?], _ b: [String?]) -> Bool {
        a.map { $0 ?? "" }.lexicographicallyPrecedes(b.map { $0 ?? "" })
    }

    @discardableResult
    static func check(_ seed: UInt64, scale: Int = 1, engine: String = "native") throws -> Expected {
        let c = makeCase(seed, scale: scale)
        let f = Fixture()
        f.yml += "engine: \(engine)\n"
        f.events = c.events.map { [$0.0, $0.1, "happened", "test", "s", $0.1] }
        f.identifiers = c.idents.enumerated().map { k, i in
            ["id\(k)", i.event, i.edge, i.etype, i.itype, i.value, i.role, "s", i.occurred, i.occurred]
        }
        f.declarations = c.declarations.map { d in
            [d.id, "e1", d.occurred, d.a.2, d.a.1, d.a.0, d.a.3, d.b.2, d.b.1, d.b.0, d.b.3, d.type, d.direction, d.active, d.source, d.ingested]
        }
        f.traits = c.traits.map { t in [t.id, "e1", t.etype, t.itype, t.value, t.name, t.traitValue, "s", t.occurred, t.ingested] }
        let x = expected(c)
        for force in [false, true] {
            let w = force ? try f.build(force: true) : try f.run()
            let label = "seed \(seed), \(engine) engine, \(force ? "--full" : "cold")"
            var mapping: Set<[String?]> = []
            for t in types {
                for r in try w.strings("SELECT identifier_type, identifier_value, \(t)_id, event_id FROM nexus_resolved_\(t)_identifiers") {
                    #expect(mapping.insert([t] + r).inserted, "\(label): mapping row twice: \(r)")
                }
            }
            #expect(mapping == x.mapping, "\(label): mapping")
            let traits = try w.strings("SELECT entity_id, trait_name, trait_value, occurred_at, entity_trait_id FROM nexus_resolved_entity_traits")
            #expect(traits.count == x.traits.count && Set(traits) == x.traits, "\(label): resolved traits")
            let participants = try w.strings("SELECT entity_participant_id, entity_type, event_id, entity_id, role, occurred_at FROM nexus_entity_participants")
                .sorted(by: rowOrder)
            #expect(participants == x.participants, "\(label): participants")
            let checked = ["entity_id", "entity_type"] + x.traitNames + ["_created_at", "_updated_at", "_last_merged_at", "first_interaction_at", "last_interaction_at"]
            #expect(try w.columns(of: "nexus_entities")!.map(\.name) == checked + ["_processed_at"], "\(label): entity columns")
            let entities = try w.strings("SELECT \(checked.map { "\"\($0)\"" }.joined(separator: ", ")) FROM nexus_entities ORDER BY rowid")
            #expect(entities == x.entities, "\(label): entities")
            let relationships = try w.strings("""
                SELECT relationship_id, entity_a_id, entity_a_type, entity_a_role, entity_b_id, entity_b_type, entity_b_role,
                       relationship_type, relationship_direction, is_active, established_at, last_updated_at, primary_source,
                       _updated_at, _created_at
                FROM nexus_relationships ORDER BY rowid
                """)
            #expect(relationships == x.relationships, "\(label): relationships")
        }
        return x
    }

    @Test(arguments: 1...40)
    func engineAgreesWithTheNaiveReading(seed: Int) throws {
        try DifferentialTests.check(UInt64(seed))
        try DifferentialTests.check(UInt64(seed), engine: "sql")
    }

    /// Larger cases: long chains through shared edges, thousands of rows.
    @Test(arguments: 1001...1003)
    func engineAgreesOnLargerProjects(seed: Int) throws {
        let x = try DifferentialTests.check(UInt64(seed), scale: 25)
        try DifferentialTests.check(UInt64(seed), scale: 25, engine: "sql")
        // The cases must stay what they are for: entities of hundreds of identifiers.
        #expect(x.largestEntity >= 100)
        // and an entity with more trait names than the engine lists before it uses its map.
        #expect(x.mostTraitNames > 24)
    }
}
