import Foundation
import Testing
import NexusCore
import NexusProject
@testable import NexusBuild

/// Several sources, models as sources, conversions, and per-source switches.
struct SourcesTests {
    /// A second source `crm` written as SQL models over a raw seed, with timestamps in
    /// another format, a boolean as text, and an entity-type filter.
    func twoSources() -> Fixture {
        let f = Fixture()
        f.event("e1", day: 1, [("email", "ann@x.test")])
        f.trait("t1", ("email", "ann@x.test"), "city", "Oslo", day: 1)
        f.yml += """
              crm:
                enabled: true
                events: true
                entities: [person]
                relationships: false
              off:
                enabled: false
                events: true

            """
        f.extraFiles["seeds/raw_contacts.csv"] = """
            contact_id,email,company,created
            c1,ann@x.test,Acme,2025-01-05T12:00:00+01:00
            c2,bob@x.test,Beta,2025-01-06T00:00:00Z

            """
        f.extraFiles["models/crm/crm_events.sql"] = """
            select 'crm-' || contact_id as event_id, created || '' as occurred_at, 'contact created' as event_name,
                   'crm' as event_type, 'crm' as source, 12.5 as value, 'USD' as value_unit
            from {{ ref('raw_contacts') }}
            """
        f.extraFiles["models/crm/crm_entity_identifiers.sql"] = """
            select 'ci-' || contact_id as entity_identifier_id, 'crm-' || contact_id as event_id, 'crm-' || contact_id as edge_id,
                   'person' as entity_type, 'email' as identifier_type, email as identifier_value, 'contact' as role,
                   'crm' as source, created || '' as occurred_at
            from {{ ref('raw_contacts') }}
            union all
            select 'cg-' || contact_id, 'crm-' || contact_id, 'crm-' || contact_id, 'group', 'company', company, 'employer', 'crm', created || ''
            from {{ ref('raw_contacts') }}
            """
        f.extraFiles["models/crm/crm_entity_traits.sql"] = """
            {{ config(materialized='view') }}
            select 'ct-' || contact_id as entity_trait_id, 'person' as entity_type, 'email' as identifier_type,
                   email as identifier_value, 'company' as trait_name, company as trait_value, created || '' as occurred_at
            from {{ ref('raw_contacts') }}
            """
        f.extraFiles["models/off/off_events.sql"] = "select 'never' as event_id"
        return f
    }

    @Test func sourcesAreUnionedWithConversionsAndFilters() throws {
        let f = twoSources()
        let (w, reporter) = try f.runReporting()
        #expect(reporter.warnings.isEmpty)
        // Events of both sources; the disabled source contributes nothing.
        #expect(try w.strings("SELECT event_id, occurred_at, value, value_unit, source FROM nexus_events WHERE source = 'crm' ORDER BY event_id")
                == [["crm-c1", "2025-01-05 11:00:00", "12.5", "USD", "crm"], ["crm-c2", "2025-01-06 00:00:00", "12.5", "USD", "crm"]])
        #expect(try w.count("SELECT count(*) FROM nexus_events WHERE event_id = 'never'") == 0)
        // entities: [person] keeps the crm's group identifiers out.
        #expect(try w.count("SELECT count(*) FROM nexus_entity_identifiers WHERE entity_type = 'group'") == 0)
        // ann@x.test from both sources is one person with traits from both.
        #expect(try w.strings("SELECT city, company FROM nexus_entities WHERE entity_id = (SELECT person_id FROM nexus_resolved_person_identifiers WHERE identifier_value = 'ann@x.test')")
                == [["Oslo", "Acme"]])
        // Columns that needed converting made the core relation a table, with the contract's types.
        #expect(try w.relationKind("nexus_events") == .table)
        #expect(try w.columns(of: "nexus_events")?.first { $0.name == "occurred_at" }?.declaredType == "TIMESTAMP")
    }

    @Test func aModelMissingAContractColumnNamesItsFile() throws {
        let f = twoSources()
        f.extraFiles["models/crm/crm_events.sql"] = "select 'x' as event_id, '2025-01-01' as occurred_at from {{ ref('raw_contacts') }}"
        let e = #expect(throws: NexusError.self) { try f.run() }
        #expect(e?.location?.file == "models/crm/crm_events.sql")
        #expect(e?.location?.relation == "crm_events")
        #expect(e?.message.contains("event_name, event_type, source") == true)
    }
}
