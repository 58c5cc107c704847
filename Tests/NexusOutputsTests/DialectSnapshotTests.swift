import Foundation
import Testing
import NexusCore
import NexusProject
import NexusSQL
import NexusTesting
import NexusWarehouse
@testable import NexusOutputs

/// The whole SQL each output generator emits, per dialect, against files kept beside this
/// test (`__Snapshots__/`): any change to what a warehouse is sent shows up in review as a
/// diff of those files. `NEXUS_RECORD_SNAPSHOTS=1 swift test` rewrites them; a missing file
/// is written and the test fails once, so that a new snapshot is always looked at.
struct DialectSnapshotTests {
    static func check(_ text: String, _ name: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
        let outcome = try Snapshot.check(text, name: name, besides: #filePath)
        #expect(outcome == .matches, "\(name).sql: \(outcome == .recorded ? "recorded a new snapshot: look at it, then run again" : "differs from what the generator emits now")",
                sourceLocation: sourceLocation)
    }

    let sql = DialectSQLTests()

    @Test(arguments: [0, 1, 2])
    func customerIOMacros(_ k: Int) throws {
        let d = DialectSQLTests.dialects[k]
        let identify = try sql.call("{{ nexus.customer_io_identify(user_id_column='user_id', dedupe_column='email', ignore_traits=['location_name']) }}")
        try DialectSnapshotTests.check(try CustomerIOIdentify(identify).sql(relation: d.quote("nexus_entities"), columns: sql.columns, dialect: d, call: identify),
                                       "identify.\(d.name)")
        let track = try sql.call("{{ nexus.customer_io_track(user_id_column='email', sources=['clinic']) }}")
        try DialectSnapshotTests.check(try CustomerIOTrack(track).sql(relation: { d.quote($0) }, catalog: sql.catalog, dialect: d), "track.\(d.name)")
        let objects = try sql.call("{{ nexus.customer_io_objects(id_column='location_id', object_type_id=3) }}")
        try DialectSnapshotTests.check(try CustomerIOObjects(objects).sql(relation: d.quote("nexus_entities"), columns: sql.columns, dialect: d), "objects.\(d.name)")
        let rel = try sql.call("{{ nexus.customer_io_relationships(object_type_id='1', object_id_column='location_id', object_name_column='location_name') }}")
        try DialectSnapshotTests.check(try CustomerIORelationships(rel).sql(relation: { d.quote($0) }, catalog: sql.catalog, dialect: d), "relationships.\(d.name)")
        try DialectSnapshotTests.check(ReverseETLQuery.sql(relation: "customer_io_persons", dialect: d), "reverse-etl.\(d.name)")
    }
}
