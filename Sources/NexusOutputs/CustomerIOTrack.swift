import NexusCore
import NexusProject
import NexusSQL
import NexusWarehouse

/// `nexus.customer_io_track(...)`: a Customer.io Track table, one row per event and person.
///
/// Events (optionally only some sources, names or types) are joined to their person
/// participants and those persons' `nexus_entities` rows; only persons present in the
/// persons output (`persons_model`, by its `userId`) are kept, as the seed recommends.
/// Columns: `userId`, optional `anonymousId`, `timestamp`, `event`, then the properties
/// `event_type`, `value`, `value_unit`, `event_data_source`, the chosen `nexus_events`
/// columns, and every column of `properties_model` (joined on `event_id`).
public struct CustomerIOTrack {
    public static let parameters: [(String, TemplateValue?)] = [
        ("user_id_column", .string("email")), ("anonymous_id_column", TemplateValue.none),
        ("persons_model", .string("customer_io_persons")), ("sources", .list([])), ("event_names", .list([])),
        ("event_types", .list([])), ("roles", .list([])), ("event_columns", .list([])),
        ("properties_model", TemplateValue.none), ("filters", .list([])),
    ]

    let a: MacroArguments

    public init(_ call: CallArguments) throws { a = try MacroArguments(call, CustomerIOTrack.parameters) }

    public func sql(relation: (String) -> String, catalog: (String) throws -> [ColumnInfo]?, dialect d: any SQLDialect) throws -> String {
        let call = a.call
        guard let entityColumns = try catalog("nexus_entities"), let eventColumns = try catalog("nexus_events") else {
            throw call.error("nexus_entities and nexus_events must exist")
        }
        let entities = Catalog(relation: "nexus_entities", columns: entityColumns, call: call)
        let events = Catalog(relation: "nexus_events", columns: eventColumns, call: call)
        let user = try entities.column(try a.string("user_id_column"), role: "user_id_column", excluding: CustomerIOIdentify.systemColumns)
        let anon = try a.optionalString("anonymous_id_column").map { try entities.column($0, role: "anonymous_id_column", excluding: CustomerIOIdentify.systemColumns) }
        var select = ["p.\(d.quote(user.name)) AS \(d.quote("userId"))"]
        if let anon { select.append("p.\(d.quote(anon.name)) AS \(d.quote("anonymousId"))") }
        select += [
            "\(d.timestampNTZ("e.occurred_at")) AS \(d.quote("timestamp"))",
            "e.event_name AS \(d.quote("event"))",
            "e.event_type AS \(d.quote("event_type"))",
            "e.value AS \(d.quote("value"))",
            "e.value_unit AS \(d.quote("value_unit"))",
            "e.source AS \(d.quote("event_data_source"))",
        ]
        var names: Set<String> = ["userid", "anonymousid", "timestamp", "event", "event_type", "value", "value_unit", "event_data_source"]
        func add(_ expr: String, _ name: String, _ origin: String) throws {
            guard names.insert(name.lowercased()).inserted else {
                throw call.error("\(origin) would be output as \"\(name)\", which another column already is")
            }
            select.append("\(expr) AS \(d.quote(name))")
        }
        for c in try a.strings("event_columns") {
            let col = try events.column(c, role: "event_columns entry")
            let type = ColumnType(declared: col.declaredType)
            try add(type.isTemporal ? d.timestampNTZ("e.\(d.quote(col.name))") : "e.\(d.quote(col.name))", col.name, "event column '\(col.name)'")
        }
        var joins = ""
        if let model = try a.optionalString("properties_model") {
            guard let cols = try catalog(model) else { throw call.error("properties_model '\(model)' is not a model of this project") }
            let props = Catalog(relation: model, columns: cols, call: call)
            _ = try props.column("event_id", role: "properties_model key")
            for c in cols where c.name.lowercased() != "event_id" {
                let type = ColumnType(declared: c.declaredType)
                try add(type.isTemporal ? d.timestampNTZ("x.\(d.quote(c.name))") : "x.\(d.quote(c.name))", c.name, "\(model) column '\(c.name)'")
            }
            joins = "\nLEFT JOIN \(relation(model)) x ON x.event_id = e.event_id"
        }
        var participantFilter = "entity_type = 'person'"
        let roles = try a.strings("roles")
        if !roles.isEmpty { participantFilter += " AND role IN (\(roles.map { d.literal($0) }.joined(separator: ", ")))" }
        var conditions: [String] = []
        for (arg, column) in [("sources", "source"), ("event_names", "event_name"), ("event_types", "event_type")] {
            let values = try a.strings(arg)
            if !values.isEmpty { conditions.append("e.\(column) IN (\(values.map { d.literal($0) }.joined(separator: ", ")))") }
        }
        if let anon {
            conditions.append("(p.\(d.quote(user.name)) IS NOT NULL OR p.\(d.quote(anon.name)) IS NOT NULL)")
        } else {
            conditions.append("p.\(d.quote(user.name)) IS NOT NULL")
        }
        if let persons = try a.optionalString("persons_model") {
            guard try catalog(persons) != nil else { throw call.error("persons_model '\(persons)' is not a model of this project") }
            conditions.append("p.\(d.quote(user.name)) IN (SELECT \(d.quote("userId")) FROM \(relation(persons)))")
        }
        conditions += try a.strings("filters").map { "(\($0))" }
        // One row per (event, person): a person in two roles of one event is tracked once.
        return """
            SELECT \(select.joined(separator: ",\n       "))
            FROM \(relation("nexus_events")) e
            INNER JOIN (SELECT DISTINCT event_id, entity_id FROM \(relation("nexus_entity_participants")) WHERE \(participantFilter)) pp
                ON pp.event_id = e.event_id
            INNER JOIN \(relation("nexus_entities")) p ON p.entity_id = pp.entity_id AND p.entity_type = 'person'\(joins)
            WHERE \(conditions.joined(separator: "\n  AND "))
            """
    }
}
