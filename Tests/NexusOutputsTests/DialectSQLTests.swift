import Testing
import NexusCore
import NexusProject
import NexusSQL
import NexusWarehouse
@testable import NexusOutputs

/// The macros' SQL for every dialect, from one catalog: each spells timestamps and JSON its own way.
struct DialectSQLTests {
    let columns = [
        ColumnInfo(name: "entity_id", declaredType: "TEXT"), ColumnInfo(name: "entity_type", declaredType: "TEXT"),
        ColumnInfo(name: "email", declaredType: "TEXT"), ColumnInfo(name: "location_id", declaredType: "TEXT"),
        ColumnInfo(name: "location_name", declaredType: "TEXT"), ColumnInfo(name: "user_id", declaredType: "TEXT"),
        ColumnInfo(name: "_created_at", declaredType: "TIMESTAMP"), ColumnInfo(name: "_updated_at", declaredType: "TIMESTAMP"),
        ColumnInfo(name: "_processed_at", declaredType: "TIMESTAMP"),
    ]
    static let dialects: [any SQLDialect] = [SQLiteDialect(), PostgresDialect(), SnowflakeDialect()]

    func call(_ source: String) throws -> CallArguments {
        let t = try TemplateParser.parse(source, file: "m.sql")
        let c = try #require(t.calls.first)
        let r = TemplateRenderer(functions: [:])
        return CallArguments(call: c, args: try c.args.map(r.evaluate), kwargs: try c.kwargs.map { ($0.0, try r.evaluate($0.1)) })
    }

    func catalog(_ name: String) -> [ColumnInfo]? {
        switch name {
        case "nexus_entities": return columns
        case "nexus_events": return [ColumnInfo(name: "event_id", declaredType: "TEXT"), ColumnInfo(name: "occurred_at", declaredType: "TIMESTAMP")]
        case "customer_io_persons": return [ColumnInfo(name: "userId", declaredType: "")]
        default: return nil
        }
    }

    @Test(arguments: [0, 1, 2])
    func identifyInEveryDialect(_ k: Int) throws {
        let d = DialectSQLTests.dialects[k]
        let c = try call("{{ nexus.customer_io_identify(user_id_column='user_id', dedupe_column='email') }}")
        let sql = try CustomerIOIdentify(c).sql(relation: d.quote("nexus_entities"), columns: columns, dialect: d, call: c)
        #expect(sql.contains(#""user_id" AS "userId""#))
        #expect(sql.contains(#"PARTITION BY lower(trim("email")) ORDER BY "timestamp" DESC NULLS LAST, nexus_entity_id"#))
        #expect(sql.contains(d.timestampNTZ(#""_created_at""#) + #" AS "created_at""#))
        #expect(!sql.contains("_processed_at"))
        switch d.name {
        case "postgres": #expect(sql.contains(#"cast("_created_at" as timestamp)"#))
        default: #expect(sql.contains(#"to_timestamp_ntz("_created_at")"#))
        }
    }

    @Test(arguments: [0, 1, 2])
    func relationshipsJSONInEveryDialect(_ k: Int) throws {
        let d = DialectSQLTests.dialects[k]
        let c = try call("{{ nexus.customer_io_relationships(object_type_id='1', object_id_column='location_id', object_name_column='location_name') }}")
        let sql = try CustomerIORelationships(c).sql(relation: { d.quote($0) }, catalog: catalog, dialect: d)
        // PostgreSQL's values go through nexus_json_value (timestamps spelled as Snowflake's).
        let (open, close) = d.name == "postgres" ? ("nexus_json_value(", ")") : ("", "")
        #expect(sql.contains("'is_primary_location', \(open)case when rank_by_recency = 1 then true else false end\(close)"))
        #expect(sql.contains("'has_multiple_locations', \(open)case when object_count > 1 then true else false end\(close)"))
        #expect(sql.contains("'location_name', \(open)object_name\(close)"))
        switch d.name {
        case "postgres": #expect(sql.contains("json_strip_nulls(json_build_object("))
        default: #expect(sql.contains("object_construct("))
        }
    }

    @Test(arguments: [0, 1, 2])
    func trackAndObjectsInEveryDialect(_ k: Int) throws {
        let d = DialectSQLTests.dialects[k]
        let t = try call("{{ nexus.customer_io_track(user_id_column='email', sources=['clinic']) }}")
        let track = try CustomerIOTrack(t).sql(relation: { d.quote($0) }, catalog: catalog, dialect: d)
        #expect(track.contains("e.source IN ('clinic')"))
        #expect(track.contains(d.timestampNTZ("e.occurred_at") + #" AS "timestamp""#))
        #expect(track.contains(#"IN (SELECT "userId" FROM "customer_io_persons")"#))
        let o = try call("{{ nexus.customer_io_objects(id_column='location_id', object_type_id=3) }}")
        let objects = try CustomerIOObjects(o).sql(relation: d.quote("nexus_entities"), columns: columns, dialect: d)
        #expect(objects.contains(#"'3' AS "objectTypeId""#))
        #expect(objects.contains(#""entity_id" AS "nexus_entity_id""#))
    }
}
