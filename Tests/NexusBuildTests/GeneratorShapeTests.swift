import Foundation
import Testing
import NexusBuild
import NexusProject
import NexusScaffold
import NexusWarehouse

/// `nexus generate`'s shape settings change what they say, and nothing else.
struct GeneratorShapeTests {
    @Test func shapesAddVisitorsDeclarationsAndDistinctValues() throws {
        let dir = NSTemporaryDirectory() + "nexus-shape-" + UUID().uuidString
        var clinic = SyntheticClinic(persons: 200)
        clinic.shape.visitors = 1
        clinic.shape.extraDeclarations = 2
        clinic.shape.uniqueTraitValues = true
        let stats = try clinic.write(to: dir)
        let base = try SyntheticClinic(persons: 200).write(to: dir + "-base")
        #expect(stats.declarations == 3 * base.declarations)
        #expect(stats.events == base.events + 200 * 2 + 200)
        let project = try Project.load(root: dir)
        let w = try Runner.openSQLite(project)
        try Runner(project: project, warehouse: w, reporter: SilentReporter(), processedAt: 0).run()
        // Each visitor is an entity of its own; each person has up to three locations.
        #expect(try w.count("SELECT count(*) FROM nexus_entities WHERE entity_type = 'person'") == 400)
        #expect(try w.count("SELECT count(*) FROM nexus_entities WHERE entity_type = 'person' AND last_note IS NOT NULL") == 200)
        #expect(try w.count("SELECT count(DISTINCT trait_value) FROM nexus_entity_traits WHERE trait_name = 'last_note'") == 400)
        #expect(try w.count("SELECT count(*) FROM nexus_relationships") > 200)
    }

    /// Ids as create_nexus_id makes them resolve to the same people as short ids.
    @Test func nexusStyleIDs() throws {
        let dir = NSTemporaryDirectory() + "nexus-shape-" + UUID().uuidString
        var clinic = SyntheticClinic(persons: 100)
        clinic.shape.nexusIDs = true
        let stats = try clinic.write(to: dir)
        let project = try Project.load(root: dir)
        let w = try Runner.openSQLite(project)
        try Runner(project: project, warehouse: w, reporter: SilentReporter(), processedAt: 0).run()
        #expect(try w.count("SELECT count(*) FROM nexus_events WHERE event_id GLOB 'evt_[0-9a-f]*' AND length(event_id) = 36") == stats.events)
        #expect(try w.count("SELECT count(*) FROM nexus_entity_identifiers WHERE edge_id GLOB 'ent_edg_*'") == stats.identifiers)
        #expect(try w.count("SELECT count(*) FROM nexus_entities WHERE entity_type = 'person'") == 100)
    }
}
