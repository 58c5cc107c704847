import Foundation

/// The bundled demo: a multi-location clinic, as raw tables (seeds) and SQL models that turn
/// them into the nexus source contract.
///
/// It is small (a few hundred patients) and fully deterministic, and it contains the cases
/// that make identity resolution interesting:
/// - emails that differ only by case and blanks (`Carla.Costa@Example.com ` vs
///   `carla.costa@example.com`), normalised in the source model;
/// - a person whose identifiers form a chain of 9 hops (cookie rotations `anon-chain-0` …
///   `anon-chain-7`, then a form with `chain.walker@example.com`);
/// - a merge through a shared anonymous id (`anon-shared-1` fills a form as
///   `lead.sam@example.com`, then logs into the portal as patient P0007's user);
/// - traits that change over time (status, phone, last appointment type).
public enum DemoProject {
    public static let patients = 300

    /// Writes the demo project into `dir` (created when absent).
    public static func write(to dir: String) throws {
        var rng = SeededRandom(seed: 20_250_101)
        let base = 1_735_689_600 // 2025-01-01 00:00:00 UTC
        func ts(_ secs: Int) -> String {
            let d = Date(timeIntervalSince1970: TimeInterval(secs))
            let f = DateFormatter()
            f.locale = Locale(identifier: "en_US_POSIX")
            f.timeZone = TimeZone(identifier: "UTC")
            f.dateFormat = "yyyy-MM-dd HH:mm:ss"
            return f.string(from: d)
        }
        let seeds = (dir as NSString).appendingPathComponent("seeds")
        try FileManager.default.createDirectory(atPath: seeds, withIntermediateDirectories: true)
        func seed(_ name: String) -> String { (seeds as NSString).appendingPathComponent(name + ".csv") }

        // Locations.
        let locations = try CSVWriter(path: seed("raw_locations"), header: ["location_id", "location_name", "city", "lobbie_integration_uuid", "opened_at"])
        let locationCount = 6
        for l in 0..<locationCount {
            let city = cities[l % cities.count]
            let uuid = String(format: "6f1c%04x-%04x-4%03x-8%03x-%012x", l + 1, (l + 1) * 257 % 65_536, l * 17, l * 31, 0x5eed_0000 + l)
            locations.row(["L\(String(format: "%03d", l + 1))", "GameDay Mens Health - \(city)", city, uuid, ts(base - 86_400 * (400 - l * 30))])
        }
        locations.close()

        // Patients, their portal users, appointments and payments.
        let pat = try CSVWriter(path: seed("raw_patients"), header: ["patient_id", "first_name", "last_name", "email", "phone", "status", "primary_location_id", "created_at", "updated_at"])
        let portal = try CSVWriter(path: seed("raw_portal_users"), header: ["portal_user_id", "patient_id", "email", "created_at"])
        let appts = try CSVWriter(path: seed("raw_appointments"), header: ["appointment_id", "patient_id", "location_id", "appointment_type", "scheduled_at", "start_at", "end_at", "status"])
        let pays = try CSVWriter(path: seed("raw_payments"), header: ["payment_id", "patient_id", "amount", "currency", "product_name", "paid_at", "is_recurring", "contract_id"])
        let web = try CSVWriter(path: seed("raw_web_events"), header: ["web_event_id", "anonymous_id", "previous_anonymous_id", "event_type", "page_url", "email", "phone", "portal_user_id", "occurred_at"])
        var webID = 0
        func webEvent(_ anon: String?, prev: String? = nil, _ type: String, page: String, email: String? = nil, phone: String? = nil, portalUser: String? = nil, at: Int) {
            webID += 1
            web.row(["W\(String(format: "%05d", webID))", anon, prev, type, page, email, phone, portalUser, ts(at)])
        }
        var apptID = 0, payID = 0
        let types = ["consultation", "follow-up", "lab work", "therapy session"]
        let products = ["TRT monthly", "Lab panel", "Consultation fee", "Wellness plan"]
        for p in 1...patients {
            let pid = "P\(String(format: "%04d", p))"
            let first = firstNames[p % firstNames.count], last = lastNames[(p * 7) % lastNames.count]
            var email = "\(first.lowercased()).\(last.lowercased())\(p)@example.com"
            var rawEmail = email
            if p == 3 { email = "carla.costa@example.com"; rawEmail = "Carla.Costa@Example.com " }
            else if p % 17 == 0 { rawEmail = " " + email.uppercased() }
            let phone = "+1555\(String(format: "%07d", 1_000_000 + p * 37))"
            let created = base + p * 3_600 * 7 + rng.int(3_600)
            let status = p % 11 == 0 ? "inactive" : (p % 5 == 0 ? "lead" : "active")
            let home = "L\(String(format: "%03d", (p % locationCount) + 1))"
            pat.row([pid, first, last, p % 41 == 0 ? nil : rawEmail, phone, status, home, ts(created), ts(created + 86_400 * (1 + p % 90))])
            if p % 2 == 0 || p == 7 {
                portal.row(["U\(String(format: "%04d", p))", pid, email, ts(created + 3_600)])
            }
            let visits = status == "lead" ? 0 : 1 + rng.int(4)
            for v in 0..<visits {
                apptID += 1
                let loc = v > 0 && rng.chance(0.3) ? "L\(String(format: "%03d", rng.int(locationCount) + 1))" : home
                let when = created + 86_400 * (3 + v * 20 + rng.int(10))
                appts.row(["A\(String(format: "%05d", apptID))", pid, loc, types[(p + v) % types.count], ts(when), ts(when + 86_400), ts(when + 86_400 + 1_800), v == visits - 1 && p % 9 == 0 ? "cancelled" : "completed"])
                if rng.chance(0.7) {
                    payID += 1
                    let amount = String(format: "%.2f", 49.0 + Double(rng.int(400)))
                    pays.row(["Y\(String(format: "%05d", payID))", pid, amount, "USD", products[(p + v) % products.count], ts(when + 86_400 + 3_600), p % 4 == 0 ? "true" : "false", p % 4 == 0 ? "C\(String(format: "%04d", p))" : nil])
                }
            }
            // Web visits: anonymous page views, a form fill that reveals the email, logins.
            if p % 3 != 0 || p == 3 {
                let anon = "anon-\(String(format: "%04d", p))"
                webEvent(anon, "page_view", page: "/", at: created - 86_400 * 2)
                webEvent(anon, "page_view", page: "/pricing", at: created - 86_400 * 2 + 300)
                if p % 4 != 1 {
                    webEvent(anon, "form_fill", page: "/book", email: p == 3 ? "carla.costa@example.com" : email,
                             phone: p % 6 == 0 ? "+1555\(String(format: "%07d", 2_000_000 + p))" : nil, at: created - 86_400)
                }
                if p % 2 == 0 { webEvent(anon, "login", page: "/portal", portalUser: "U\(String(format: "%04d", p))", at: created + 86_400 * 10) }
            }
        }
        // Anonymous-only visitors.
        for a in 1...25 {
            let anon = "anon-visitor-\(String(format: "%03d", a))"
            webEvent(anon, "page_view", page: "/", at: base + a * 50_000)
            if a % 2 == 0 { webEvent(anon, "page_view", page: "/services", at: base + a * 50_000 + 120) }
        }
        // A chain of 9 hops: cookie rotations anon-chain-0 → … → anon-chain-7, then a form fill with an email.
        for k in 1...7 {
            webEvent("anon-chain-\(k)", prev: "anon-chain-\(k - 1)", "session_rotated", page: "/blog/\(k)", at: base + 86_400 * (100 + k))
        }
        webEvent("anon-chain-7", "form_fill", page: "/book", email: "chain.walker@example.com", phone: "+15550009999", at: base + 86_400 * 108)
        webEvent("anon-chain-0", "page_view", page: "/", at: base + 86_400 * 99)
        // A merge through a shared anonymous id: a lead's form and patient P0007's portal login share anon-shared-1.
        webEvent("anon-shared-1", "form_fill", page: "/book", email: "lead.sam@example.com", at: base + 86_400 * 120)
        webEvent("anon-shared-1", "login", page: "/portal", portalUser: "U0007", at: base + 86_400 * 121)
        pat.close(); portal.close(); appts.close(); pays.close(); web.close()

        try writeFile((dir as NSString).appendingPathComponent("nexus.yml"), nexusYML)
        let models = (dir as NSString).appendingPathComponent("models/sources/clinic")
        try writeFile((models as NSString).appendingPathComponent("clinic_events.sql"), eventsSQL)
        try writeFile((models as NSString).appendingPathComponent("clinic_entity_identifiers.sql"), identifiersSQL)
        try writeFile((models as NSString).appendingPathComponent("clinic_entity_traits.sql"), traitsSQL)
        try writeFile((models as NSString).appendingPathComponent("clinic_relationship_declarations.sql"), relationshipsSQL)
        let outputs = (dir as NSString).appendingPathComponent("models/output")
        try writeFile((outputs as NSString).appendingPathComponent("high_level_customer_journey.sql"), journeySQL)
        for (name, sql) in CustomerIOExamples.seedModels {
            try writeFile((outputs as NSString).appendingPathComponent("customer_io/\(name).sql"), sql)
        }
        for (name, sql) in CustomerIOExamples.macroModels {
            try writeFile((outputs as NSString).appendingPathComponent("customer_io_macros/\(name).sql"), sql)
        }
        try writeFile((dir as NSString).appendingPathComponent(".gitignore"), "warehouse.sqlite*\n")
    }

    static let nexusYML = """
        # The nexus demo: a multi-location clinic.
        name: clinic_demo
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
        vars:
          clinic_source: clinic
        seeds:
          raw_patients:
            column_types:
              phone: text

        """

    static let eventsSQL = """
        {{ config(materialized='table', tags=['clinic', 'events']) }}
        {# Every raw record that is something happening becomes one event. #}
        select {{ nexus.create_nexus_id('event', ['patient_id', "'registered'"]) }} as event_id,
               created_at as occurred_at, 'patient registered' as event_name,
               'A patient record was created' as event_description, 'registration' as event_type,
               cast(null as double precision) as value, null as value_unit, '{{ var('clinic_source') }}' as source,
               'raw_patients' as source_table, created_at as _ingested_at
        from {{ ref('raw_patients') }}
        union all
        select {{ nexus.create_nexus_id('event', ['portal_user_id', "'portal'"]) }},
               created_at, 'portal account created', null, 'account', null, null,
               '{{ var('clinic_source') }}', 'raw_portal_users', created_at
        from {{ ref('raw_portal_users') }}
        union all
        select {{ nexus.create_nexus_id('event', ['appointment_id']) }},
               scheduled_at, 'appointment scheduled', appointment_type, 'appointment', null, null,
               '{{ var('clinic_source') }}', 'raw_appointments', scheduled_at
        from {{ ref('raw_appointments') }}
        union all
        select {{ nexus.create_nexus_id('event', ['payment_id']) }},
               paid_at, 'payment completed', product_name, 'transaction', amount, currency,
               '{{ var('clinic_source') }}', 'raw_payments', paid_at
        from {{ ref('raw_payments') }}
        union all
        select {{ nexus.create_nexus_id('event', ['web_event_id']) }},
               occurred_at,
               case event_type when 'page_view' then 'page viewed' when 'form_fill' then 'form submitted'
                               when 'login' then 'logged in' else 'session continued' end,
               page_url, 'web', null, null, '{{ var('clinic_source') }}', 'raw_web_events', occurred_at
        from {{ ref('raw_web_events') }}
        union all
        select {{ nexus.create_nexus_id('event', ['location_id', "'opened'"]) }},
               opened_at, 'location opened', location_name, 'location', null, null,
               '{{ var('clinic_source') }}', 'raw_locations', opened_at
        from {{ ref('raw_locations') }}

        """

    static let identifiersSQL = """
        {{ config(materialized='table', tags=['clinic', 'identifiers']) }}
        -- One row per identifier seen in an event. All identifiers of one raw row share an
        -- edge_id, so they resolve to one entity; emails are normalised here, because
        -- resolution compares identifiers exactly.
        with occurrences as (
            select {{ nexus.create_nexus_id('event', ['patient_id', "'registered'"]) }} as event_id, created_at as occurred_at,
                   'person' as entity_type, 'patient_id' as identifier_type, patient_id as identifier_value, 'patient' as role
            from {{ ref('raw_patients') }}
            union all
            select {{ nexus.create_nexus_id('event', ['patient_id', "'registered'"]) }}, created_at,
                   'person', 'email', lower(trim(email)), 'patient'
            from {{ ref('raw_patients') }}
            union all
            select {{ nexus.create_nexus_id('event', ['patient_id', "'registered'"]) }}, created_at,
                   'person', 'phone', phone, 'patient'
            from {{ ref('raw_patients') }}
            union all
            select {{ nexus.create_nexus_id('event', ['portal_user_id', "'portal'"]) }}, created_at,
                   'person', 'portal_user_id', portal_user_id, 'account_holder'
            from {{ ref('raw_portal_users') }}
            union all
            select {{ nexus.create_nexus_id('event', ['portal_user_id', "'portal'"]) }}, created_at,
                   'person', 'patient_id', patient_id, 'account_holder'
            from {{ ref('raw_portal_users') }}
            union all
            select {{ nexus.create_nexus_id('event', ['appointment_id']) }}, scheduled_at,
                   'person', 'patient_id', patient_id, 'patient'
            from {{ ref('raw_appointments') }}
            union all
            select {{ nexus.create_nexus_id('event', ['appointment_id']) }}, scheduled_at,
                   'group', 'location_id', location_id, 'location'
            from {{ ref('raw_appointments') }}
            union all
            select {{ nexus.create_nexus_id('event', ['payment_id']) }}, paid_at,
                   'person', 'patient_id', patient_id, 'payer'
            from {{ ref('raw_payments') }}
            union all
            select {{ nexus.create_nexus_id('event', ['web_event_id']) }}, occurred_at,
                   'person', 'segment_anonymous_id', anonymous_id, 'visitor'
            from {{ ref('raw_web_events') }}
            union all
            select {{ nexus.create_nexus_id('event', ['web_event_id']) }}, occurred_at,
                   'person', 'segment_anonymous_id', previous_anonymous_id, 'visitor'
            from {{ ref('raw_web_events') }}
            union all
            select {{ nexus.create_nexus_id('event', ['web_event_id']) }}, occurred_at,
                   'person', 'email', lower(trim(email)), 'visitor'
            from {{ ref('raw_web_events') }}
            union all
            select {{ nexus.create_nexus_id('event', ['web_event_id']) }}, occurred_at,
                   'person', 'phone', phone, 'visitor'
            from {{ ref('raw_web_events') }}
            union all
            select {{ nexus.create_nexus_id('event', ['web_event_id']) }}, occurred_at,
                   'person', 'portal_user_id', portal_user_id, 'visitor'
            from {{ ref('raw_web_events') }}
            union all
            select {{ nexus.create_nexus_id('event', ['location_id', "'opened'"]) }}, opened_at,
                   'group', 'location_id', location_id, 'location'
            from {{ ref('raw_locations') }}
        )
        select {{ nexus.create_nexus_id('entity_identifier', ['event_id', 'entity_type', 'identifier_type', 'identifier_value', 'role']) }} as entity_identifier_id,
               event_id,
               {{ nexus.create_nexus_id('entity_edge', ['event_id', 'entity_type']) }} as edge_id,
               entity_type, identifier_type, identifier_value, role,
               '{{ var('clinic_source') }}' as source, occurred_at, occurred_at as _ingested_at
        from occurrences
        where identifier_value is not null and identifier_value <> ''

        """

    static let traitsSQL = """
        {{ config(materialized='table', tags=['clinic', 'traits']) }}
        -- Traits hang off an identifier; the latest observation of each trait wins.
        with observations as (
            select {{ nexus.create_nexus_id('event', ['patient_id', "'registered'"]) }} as event_id, updated_at as occurred_at,
                   'person' as entity_type, 'patient_id' as identifier_type, patient_id as identifier_value,
                   'first_name' as trait_name, first_name as trait_value
            from {{ ref('raw_patients') }}
            union all
            select {{ nexus.create_nexus_id('event', ['patient_id', "'registered'"]) }}, updated_at, 'person', 'patient_id', patient_id, 'last_name', last_name from {{ ref('raw_patients') }}
            union all
            select {{ nexus.create_nexus_id('event', ['patient_id', "'registered'"]) }}, updated_at, 'person', 'patient_id', patient_id, 'email', lower(trim(email)) from {{ ref('raw_patients') }}
            union all
            select {{ nexus.create_nexus_id('event', ['patient_id', "'registered'"]) }}, updated_at, 'person', 'patient_id', patient_id, 'phone', phone from {{ ref('raw_patients') }}
            union all
            select {{ nexus.create_nexus_id('event', ['patient_id', "'registered'"]) }}, updated_at, 'person', 'patient_id', patient_id, 'status', status from {{ ref('raw_patients') }}
            union all
            select {{ nexus.create_nexus_id('event', ['patient_id', "'registered'"]) }}, updated_at, 'person', 'patient_id', patient_id, 'user_id', patient_id from {{ ref('raw_patients') }}
            union all
            select {{ nexus.create_nexus_id('event', ['web_event_id']) }}, occurred_at, 'person', 'segment_anonymous_id', anonymous_id, 'email', lower(trim(email)) from {{ ref('raw_web_events') }}
            union all
            select {{ nexus.create_nexus_id('event', ['web_event_id']) }}, occurred_at, 'person', 'segment_anonymous_id', anonymous_id, 'phone', phone from {{ ref('raw_web_events') }}
            union all
            select {{ nexus.create_nexus_id('event', ['web_event_id']) }}, occurred_at, 'person', 'segment_anonymous_id', anonymous_id, 'segment_anonymous_id', anonymous_id from {{ ref('raw_web_events') }}
            union all
            select {{ nexus.create_nexus_id('event', ['appointment_id']) }}, scheduled_at, 'person', 'patient_id', patient_id, 'last_appointment_type', appointment_type from {{ ref('raw_appointments') }}
            union all
            select {{ nexus.create_nexus_id('event', ['location_id', "'opened'"]) }}, opened_at, 'group', 'location_id', location_id, 'location_id', location_id from {{ ref('raw_locations') }}
            union all
            select {{ nexus.create_nexus_id('event', ['location_id', "'opened'"]) }}, opened_at, 'group', 'location_id', location_id, 'location_name', location_name from {{ ref('raw_locations') }}
            union all
            select {{ nexus.create_nexus_id('event', ['location_id', "'opened'"]) }}, opened_at, 'group', 'location_id', location_id, 'city', city from {{ ref('raw_locations') }}
            union all
            select {{ nexus.create_nexus_id('event', ['location_id', "'opened'"]) }}, opened_at, 'group', 'location_id', location_id, 'location_lobbie_integration_uuid', lobbie_integration_uuid from {{ ref('raw_locations') }}
        )
        select {{ nexus.create_nexus_id('entity_trait', ['event_id', 'identifier_type', 'identifier_value', 'trait_name']) }} as entity_trait_id,
               event_id, entity_type, identifier_type, identifier_value, trait_name, trait_value,
               '{{ var('clinic_source') }}' as source, occurred_at, occurred_at as _ingested_at
        from observations
        where trait_value is not null and trait_value <> '' and identifier_value is not null

        """

    static let journeySQL = """
        {{ config(materialized='table') }}
        -- Where each person stands: lead (no appointment yet), patient (appointments), paying
        -- customer (payments). One current state per person; the seed's examples read it.
        with activity as (
            select p.entity_id,
                   sum(case when e.event_type = 'appointment' then 1 else 0 end) as appointments,
                   sum(case when e.event_type = 'transaction' then 1 else 0 end) as payments,
                   max(e.occurred_at) as last_activity_at
            from {{ ref('nexus_entity_participants') }} p
            inner join {{ ref('nexus_events') }} e on e.event_id = p.event_id
            where p.entity_type = 'person'
            group by p.entity_id
        )
        select entity_id,
               'customer_journey' as state_name,
               case when payments > 0 then 'paying customer' when appointments > 0 then 'patient' else 'lead' end as state_value,
               last_activity_at as state_entered_at,
               true as is_current
        from activity

        """

    static let relationshipsSQL = """
        {{ config(materialized='table', tags=['event-processing', 'relationships']) }}
        -- Patients are members of the locations they had appointments at (the seed's example).
        with appointment_relationships as (
            select {{ nexus.create_nexus_id('event', ['appointment_id']) }} as event_id,
                   scheduled_at as occurred_at, patient_id, location_id, 'clinic' as source
            from {{ ref('raw_appointments') }}
            where patient_id is not null and location_id is not null
        )
        select distinct
            {{ nexus.create_nexus_id('relationship_declaration', ['event_id', 'patient_id', 'location_id', "'patient'", 'occurred_at']) }} as relationship_declaration_id,
            event_id,
            occurred_at,
            patient_id as entity_a_identifier,
            'patient_id' as entity_a_identifier_type,
            'person' as entity_a_type,
            'patient' as entity_a_role,
            location_id as entity_b_identifier,
            'location_id' as entity_b_identifier_type,
            'group' as entity_b_type,
            'location' as entity_b_role,
            'membership' as relationship_type,
            'a_to_b' as relationship_direction,
            true as is_active,
            source
        from appointment_relationships
        order by occurred_at desc

        """
}
