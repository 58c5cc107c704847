import NexusCore
import NexusProject
import NexusSQL
import NexusWarehouse

/// `nexus.customer_io_relationships(...)`: a Customer.io Group-with-`userId` table that
/// relates persons to objects, with the seed's relationship attributes.
///
/// From `nexus_relationships` of `relationship_type` between a person (side A) and an
/// entity of `object_entity_type` (side B) whose `object_id_column` is set, for persons in
/// `persons_model`. Columns: `groupId`, `objectTypeId`, `userId`, `timestamp`,
/// `relationshipAttributes` — a JSON object with `is_primary_<s>`, `is_most_recent_<s>`,
/// `is_first_<s>`, `has_multiple_<p>`, `<s>_count`, `first_interaction_at`,
/// `last_interaction_at`, the object's name column, and `extra_attributes` (name → SQL over
/// `r` the relationship, `p` the person, `g` the object). `<s>` is `object_singular`
/// (default: `object_id_column` without `_id`), `<p>` is `object_plural` (default `<s>s`).
/// Ranks break ties by the object's entity id, so they are deterministic.
public struct CustomerIORelationships {
    public static let parameters: [(String, TemplateValue?)] = [
        ("object_type_id", nil), ("object_id_column", nil), ("object_name_column", TemplateValue.none),
        ("object_entity_type", .string("group")), ("relationship_type", .string("membership")),
        ("object_singular", TemplateValue.none), ("object_plural", TemplateValue.none),
        ("user_id_column", .string("email")), ("persons_model", .string("customer_io_persons")),
        ("extra_attributes", .dict([:])), ("filters", .list([])),
    ]

    let a: MacroArguments

    public init(_ call: CallArguments) throws { a = try MacroArguments(call, CustomerIORelationships.parameters) }

    public func sql(relation: (String) -> String, catalog: (String) throws -> [ColumnInfo]?, dialect d: any SQLDialect) throws -> String {
        let call = a.call
        guard let columns = try catalog("nexus_entities") else { throw call.error("nexus_entities must exist") }
        let entities = Catalog(relation: "nexus_entities", columns: columns, call: call)
        let system = CustomerIOIdentify.systemColumns
        let objectID = try entities.column(try a.string("object_id_column"), role: "object_id_column", excluding: system)
        let objectName = try a.optionalString("object_name_column").map { try entities.column($0, role: "object_name_column", excluding: system) }
        let user = try entities.column(try a.string("user_id_column"), role: "user_id_column", excluding: system)
        let objectType = try a.stringOrNumber("object_type_id")
        var singular = try a.optionalString("object_singular") ?? objectID.name.lowercased()
        if a.values["object_singular"] == TemplateValue.none, singular.hasSuffix("_id") { singular = String(singular.dropLast(3)) }
        let plural = try a.optionalString("object_plural") ?? singular + "s"
        var pairs: [(key: String, value: String)] = [
            ("is_primary_\(singular)", "case when rank_by_recency = 1 then true else false end"),
            ("is_most_recent_\(singular)", "case when rank_by_recency = 1 then true else false end"),
            ("is_first_\(singular)", "case when rank_by_first = 1 then true else false end"),
            ("has_multiple_\(plural)", "case when object_count > 1 then true else false end"),
            ("\(singular)_count", "object_count"),
            ("first_interaction_at", d.timestampNTZ("first_interaction_at")),
            ("last_interaction_at", d.timestampNTZ("last_interaction_at")),
        ]
        if let objectName { pairs.append((objectName.name, "object_name")) }
        let extras = try a.stringDict("extra_attributes").sorted { $0.key < $1.key }
        for (k, _) in extras where pairs.contains(where: { $0.key == k }) {
            throw call.error("extra_attributes '\(k)' is already a relationship attribute")
        }
        pairs += extras.enumerated().map { (key: $0.element.key, value: "extra_\($0.offset)") }
        var conditions = [
            "r.relationship_type = \(d.literal(try a.string("relationship_type")))",
            "r.entity_a_type = 'person'", "r.entity_b_type = \(d.literal(try a.string("object_entity_type")))",
            "g.\(d.quote(objectID.name)) IS NOT NULL", "p.\(d.quote(user.name)) IS NOT NULL",
        ]
        if let persons = try a.optionalString("persons_model") {
            guard try catalog(persons) != nil else { throw call.error("persons_model '\(persons)' is not a model of this project") }
            conditions.append("p.\(d.quote(user.name)) IN (SELECT \(d.quote("userId")) FROM \(relation(persons)))")
        }
        conditions += try a.strings("filters").map { "(\($0))" }
        let extraSelect = extras.enumerated().map { ",\n           \($0.element.value) AS extra_\($0.offset)" }.joined()
        return """
            SELECT object_id AS \(d.quote("groupId")),
                   \(d.literal(objectType)) AS \(d.quote("objectTypeId")),
                   user_id AS \(d.quote("userId")),
                   \(d.timestampNTZ("updated_at")) AS \(d.quote("timestamp")),
                   \(d.objectConstruct(pairs)) AS \(d.quote("relationshipAttributes"))
            FROM (
                SELECT *,
                       row_number() OVER (PARTITION BY person_id ORDER BY last_interaction_at DESC, object_entity_id) AS rank_by_recency,
                       row_number() OVER (PARTITION BY person_id ORDER BY first_interaction_at ASC, object_entity_id) AS rank_by_first,
                       count(*) OVER (PARTITION BY person_id) AS object_count
                FROM (
                    SELECT r.entity_a_id AS person_id, r.entity_b_id AS object_entity_id,
                           g.\(d.quote(objectID.name)) AS object_id, \(objectName.map { "g.\(d.quote($0.name))" } ?? "NULL") AS object_name,
                           p.\(d.quote(user.name)) AS user_id,
                           r.established_at AS first_interaction_at, r.last_updated_at AS last_interaction_at,
                           r._updated_at AS updated_at\(extraSelect)
                    FROM \(relation("nexus_relationships")) r
                    INNER JOIN \(relation("nexus_entities")) p ON p.entity_id = r.entity_a_id AND p.entity_type = 'person'
                    INNER JOIN \(relation("nexus_entities")) g ON g.entity_id = r.entity_b_id AND g.entity_type = \(d.literal(try a.string("object_entity_type")))
                    WHERE \(conditions.joined(separator: "\n                      AND "))
                ) AS nexus_relationship_rows
            ) AS nexus_relationship_ranked
            """
    }
}
