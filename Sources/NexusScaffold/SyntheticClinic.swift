import Foundation
import NexusCore

/// A synthetic clinic at any scale, written directly in the source contract's shape, for benchmarks.
///
/// Per person, on average: 6 events, 12 identifier rows and 14 trait rows (the proportions of
/// dbt-nexus's 1,000,000-person benchmark). About 2% of persons also appear under a second
/// email that a shared anonymous id links back to them, so resolution has merges to do.
/// The output depends only on `persons` and `seed`.
public struct SyntheticClinic {
    public var persons: Int
    public var seed: UInt64
    /// Also write Customer.io outputs (persons, locations, memberships, events) and a
    /// `customerio:` section, for sync benchmarks.
    public var customerIO: Bool
    /// Also write the seed's four Customer.io example models as the user's description has
    /// them (and the `high_level_customer_journey` model they read), with the location trait
    /// they select, to measure them at scale.
    public var seedOutputs: Bool
    /// The data's shape, for measuring what grows with it (all 0 by default: the generator's
    /// usual clinic, unchanged).
    public var shape = Shape()

    public struct Shape: Sendable {
        /// Anonymous visitors per person who never identify: each one more entity, with one
        /// page view, one identifier row and one trait row.
        public var visitors = 0.0
        /// Further appointments per person at other locations, each an event and a membership
        /// declaration.
        public var extraDeclarations = 0
        /// Trait values unique to each row (a free-text note per event) instead of a few
        /// distinct values.
        public var uniqueTraitValues = false
        /// Ids as `create_nexus_id` makes them (`evt_` + 32 hex digits, …), as sources built on
        /// dbt-nexus have them, instead of short counters (`e12`).
        public var nexusIDs = false
        public init() {}
    }

    public init(persons: Int, seed: UInt64 = 42, customerIO: Bool = false, seedOutputs: Bool = false) {
        self.persons = persons; self.seed = seed; self.customerIO = customerIO; self.seedOutputs = seedOutputs
    }

    public struct Stats: Sendable { public var events = 0, identifiers = 0, traits = 0, declarations = 0 }

    public func write(to dir: String) throws -> Stats {
        var rng = SeededRandom(seed: seed)
        let seeds = (dir as NSString).appendingPathComponent("seeds")
        try FileManager.default.createDirectory(atPath: seeds, withIntermediateDirectories: true)
        func path(_ n: String) -> String { (seeds as NSString).appendingPathComponent(n + ".csv") }
        let ev = try CSVWriter(path: path("clinic_events"), header: ["event_id", "occurred_at", "event_name", "event_type", "value", "value_unit", "source", "_ingested_at"])
        let id = try CSVWriter(path: path("clinic_entity_identifiers"), header: ["entity_identifier_id", "event_id", "edge_id", "entity_type", "identifier_type", "identifier_value", "role", "source", "occurred_at", "_ingested_at"])
        let tr = try CSVWriter(path: path("clinic_entity_traits"), header: ["entity_trait_id", "event_id", "entity_type", "identifier_type", "identifier_value", "trait_name", "trait_value", "source", "occurred_at", "_ingested_at"])
        let rel = try CSVWriter(path: path("clinic_relationship_declarations"), header: ["relationship_declaration_id", "event_id", "occurred_at", "entity_a_identifier", "entity_a_identifier_type", "entity_a_type", "entity_a_role", "entity_b_identifier", "entity_b_identifier_type", "entity_b_type", "entity_b_role", "relationship_type", "relationship_direction", "is_active", "source"])
        var stats = Stats()
        let base: Int64 = 1_704_067_200 // 2024-01-01
        func ts(_ secs: Int64) -> String { Timestamp.format(secs * 1_000_000) }
        var eventN = 0, identN = 0, traitN = 0, declN = 0
        let nexusIDs = shape.nexusIDs
        func nid(_ kind: String, _ counter: String) -> String { nexusIDs ? NexusID.make(kind, [counter]) : counter }
        func event(_ name: String, _ type: String, _ at: Int64, value: String? = nil) -> String {
            eventN += 1
            let e = nid("event", "e\(eventN)")
            let t = ts(at)
            ev.row([e, t, name, type, value, value == nil ? nil : "USD", "clinic", t])
            stats.events += 1
            return e
        }
        func ident(_ e: String, _ etype: String, _ type: String, _ value: String, _ role: String, _ at: Int64, edge: String? = nil) {
            identN += 1
            let t = ts(at)
            id.row([nid("entity_identifier", "i\(identN)"), e, edge ?? (shape.nexusIDs ? NexusID.make("entity_edge", [e, etype]) : e),
                    etype, type, value, role, "clinic", t, t])
            stats.identifiers += 1
        }
        func trait(_ e: String, _ etype: String, _ type: String, _ value: String, _ name: String, _ v: String, _ at: Int64) {
            traitN += 1
            tr.row([nid("entity_trait", "t\(traitN)"), e, etype, type, value, name, v, "clinic", ts(at), ts(at)])
            stats.traits += 1
        }
        let locations = max(5, persons / 1000)
        for l in 0..<locations {
            let at = base - 86_400 * Int64(30 + l % 300)
            let e = event("location opened", "location", at)
            let lid = "L\(l)"
            ident(e, "group", "location_id", lid, "location", at)
            trait(e, "group", "location_id", lid, "location_id", lid, at)
            trait(e, "group", "location_id", lid, "location_name", "Clinic \(cities[l % cities.count]) \(l)", at)
            trait(e, "group", "location_id", lid, "city", cities[l % cities.count], at)
            if seedOutputs { trait(e, "group", "location_id", lid, "location_lobbie_integration_uuid", "uuid-\(lid)", at) }
        }
        let types = ["consultation", "follow-up", "lab work", "therapy session"]
        let statuses = ["active", "active", "active", "lead", "inactive"]
        for p in 0..<persons {
            let t0 = base + Int64(p) * 20 + Int64(rng.int(86_400 * 200))
            let pid = "P\(p)", email = "user\(p)@x.test", phone = "+1555\(1_000_000 + p)"
            let anon1 = "a\(p)", anon2 = "b\(p)"
            let first = firstNames[p % firstNames.count], last = lastNames[(p / 26) % lastNames.count]
            // Registration: patient id, email, phone on one edge.
            var e = event("patient registered", "registration", t0)
            ident(e, "person", "patient_id", pid, "patient", t0)
            ident(e, "person", "email", email, "patient", t0)
            ident(e, "person", "phone", phone, "patient", t0)
            for (n, v) in [("first_name", first), ("last_name", last), ("email", email), ("phone", phone),
                           ("status", statuses[p % statuses.count]), ("user_id", pid), ("city", cities[p % cities.count])] {
                trait(e, "person", "patient_id", pid, n, v, t0)
            }
            // Web: an anonymous page view, then a form that reveals the email.
            let t1 = t0 - 86_400 + Int64(rng.int(3_600))
            e = event("page viewed", "web", t1)
            ident(e, "person", "segment_anonymous_id", anon1, "visitor", t1)
            trait(e, "person", "segment_anonymous_id", anon1, "segment_anonymous_id", anon1, t1)
            let t2 = t1 + 600
            e = event("form submitted", "web", t2)
            ident(e, "person", "segment_anonymous_id", anon1, "visitor", t2)
            let secondEmail = rng.chance(0.02)
            ident(e, "person", "email", secondEmail ? "alt\(p)@x.test" : email, "visitor", t2)
            trait(e, "person", "segment_anonymous_id", anon1, "email", email, t2)
            trait(e, "person", "segment_anonymous_id", anon1, "first_name", first, t2)
            trait(e, "person", "segment_anonymous_id", anon1, "utm_source", ["google", "facebook", "direct"][p % 3], t2)
            // Portal login from a second device.
            let t3 = t0 + 86_400 * Int64(1 + rng.int(30))
            e = event("logged in", "web", t3)
            ident(e, "person", "segment_anonymous_id", anon2, "visitor", t3)
            ident(e, "person", "patient_id", pid, "visitor", t3)
            if secondEmail { ident(e, "person", "segment_anonymous_id", anon1, "visitor", t3) }
            trait(e, "person", "segment_anonymous_id", anon2, "segment_anonymous_id", anon2, t3)
            // An appointment at a location, and a membership declaration.
            let t4 = t0 + 86_400 * Int64(2 + rng.int(60))
            let loc = "L\(rng.int(locations))"
            e = event("appointment scheduled", "appointment", t4)
            ident(e, "person", "patient_id", pid, "patient", t4)
            ident(e, "group", "location_id", loc, "location", t4)
            trait(e, "person", "patient_id", pid, "last_appointment_type", types[rng.int(types.count)], t4)
            declN += 1
            rel.row([nid("relationship_declaration", "r\(declN)"), e, ts(t4), pid, "patient_id", "person", "patient", loc, "location_id", "group", "location",
                     "membership", "a_to_b", "true", "clinic"])
            stats.declarations += 1
            // A payment.
            let t5 = t4 + 3_600
            e = event("payment completed", "transaction", t5, value: String(49 + rng.int(400)))
            ident(e, "person", "patient_id", pid, "payer", t5)
            ident(e, "person", "email", email, "payer", t5)
            trait(e, "person", "patient_id", pid, "last_payment_at", ts(t5), t5)
            trait(e, "person", "patient_id", pid, "plan", ["monthly", "annual", "none"][rng.int(3)], t5)
            // Every other person visits once more on the first device.
            if p % 2 == 0 {
                let t6 = t3 + 7_200
                e = event("page viewed", "web", t6)
                ident(e, "person", "segment_anonymous_id", anon1, "visitor", t6)
            }
            for k in 0..<shape.extraDeclarations {
                let t = t4 + 86_400 * Int64(7 * (k + 1))
                let other = "L\(rng.int(locations))"
                e = event("appointment scheduled", "appointment", t)
                ident(e, "person", "patient_id", pid, "patient", t)
                ident(e, "group", "location_id", other, "location", t)
                declN += 1
                rel.row([nid("relationship_declaration", "r\(declN)"), e, ts(t), pid, "patient_id", "person", "patient", other, "location_id", "group", "location",
                         "membership", "a_to_b", "true", "clinic"])
                stats.declarations += 1
                if shape.uniqueTraitValues { trait(e, "person", "patient_id", pid, "last_note", "note \(declN) for \(pid) at \(other)", t) }
            }
            if shape.uniqueTraitValues {
                trait(e, "person", "patient_id", pid, "last_seen_at", ts(t5 + Int64(rng.int(86_400))), t5)
            }
            // Visitors who never identify: a whole number each, and the fraction by chance.
            if shape.visitors > 0 {
                var n = Int(shape.visitors)
                if rng.chance(shape.visitors - Double(n)) { n += 1 }
                for v in 0..<n {
                    let tv = t0 + Int64(rng.int(86_400 * 30))
                    let anon = "v\(p)-\(v)"
                    e = event("page viewed", "web", tv)
                    ident(e, "person", "segment_anonymous_id", anon, "visitor", tv)
                    trait(e, "person", "segment_anonymous_id", anon, "utm_source", shape.uniqueTraitValues ? "campaign-\(p)-\(v)" : "direct", tv)
                }
            }
        }
        ev.close(); id.close(); tr.close(); rel.close()
        try writeFile((dir as NSString).appendingPathComponent("nexus.yml"), """
            # A synthetic clinic of \(persons) persons, written by `nexus generate`.
            name: synthetic_clinic
            warehouse:
              type: sqlite
              path: warehouse.sqlite
            entity_types: [person, group]
            sources:
              clinic:
                enabled: true
                events: true
                entities: [person, group]
                relationships: true
            \(customerIO ? SyntheticClinic.customerIOConfig : "")
            """)
        if customerIO {
            for (name, sql) in SyntheticClinic.customerIOModels {
                try writeFile((dir as NSString).appendingPathComponent("models/customer_io/\(name).sql"), sql)
            }
        }
        if seedOutputs {
            let outputs = (dir as NSString).appendingPathComponent("models/output")
            try writeFile((outputs as NSString).appendingPathComponent("high_level_customer_journey.sql"), DemoProject.journeySQL)
            for (name, sql) in CustomerIOExamples.seedModels {
                try writeFile((outputs as NSString).appendingPathComponent("customer_io/\(name).sql"), sql)
            }
        }
        return stats
    }

    static let customerIOConfig = """
        customerio:
          region: us
          api_key_env: CUSTOMERIO_API_KEY
          requests_per_second: 50
          outputs: [cio_persons, cio_locations, cio_memberships, cio_events]

        """

    /// The four Customer.io outputs, through nexus's macros, as tables.
    static let customerIOModels: [(String, String)] = [
        ("cio_persons", """
            {{ config(materialized='table') }}
            {{ nexus.customer_io_identify(entity_type='person', user_id_column='email',
                 anonymous_id_column='segment_anonymous_id', dedupe_column='email') }}

            """),
        ("cio_locations", """
            {{ config(materialized='table') }}
            {{ nexus.customer_io_objects(entity_type='group', id_column='location_id', object_type_id='1',
                 traits=['location_name', 'city', '_created_at']) }}

            """),
        ("cio_memberships", """
            {{ config(materialized='table') }}
            {{ nexus.customer_io_relationships(object_type_id='1', object_id_column='location_id',
                 object_name_column='location_name', relationship_type='membership',
                 user_id_column='email', persons_model='cio_persons') }}

            """),
        ("cio_events", """
            {{ config(materialized='table') }}
            {{ nexus.customer_io_track(user_id_column='email', persons_model='cio_persons', sources=['clinic']) }}

            """),
    ]
}
