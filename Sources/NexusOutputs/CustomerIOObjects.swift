import NexusCore
import NexusProject
import NexusSQL
import NexusWarehouse

/// `nexus.customer_io_objects(...)`: a Customer.io Group (objects) table for one object type.
///
/// One row per entity of `entity_type` whose `id_column` is set: `groupId`, `objectTypeId`
/// (a string, as Customer.io takes it), `timestamp` (`_updated_at`), then the attributes:
/// the chosen `traits` (or every non-system column), with the identify macro's rules for
/// renames (`_created_at` → `created_at` by default), ignores and timestamps, and the
/// entity id as `nexus_entity_id` unless `entity_id_attribute=none`.
public struct CustomerIOObjects {
    public static let parameters: [(String, TemplateValue?)] = [
        ("entity_type", .string("group")), ("id_column", nil), ("object_type_id", nil), ("traits", .list([])),
        ("ignore_traits", .list([])), ("rename_traits", .dict([:])), ("filters", .list([])),
        ("entity_id_attribute", .string("nexus_entity_id")),
    ]

    let a: MacroArguments

    public init(_ call: CallArguments) throws { a = try MacroArguments(call, CustomerIOObjects.parameters) }

    public func sql(relation: String, columns: [ColumnInfo], dialect d: any SQLDialect) throws -> String {
        let call = a.call
        let catalog = Catalog(relation: "nexus_entities", columns: columns, call: call)
        let system = CustomerIOIdentify.systemColumns
        let id = try catalog.column(try a.string("id_column"), role: "id_column", excluding: system)
        let objectType = try a.stringOrNumber("object_type_id")
        guard let updated = catalog.byLower["_updated_at"] else { throw call.error("nexus_entities has no _updated_at column") }
        var renames = CustomerIOIdentify.defaultRenames
        for (k, v) in try a.stringDict("rename_traits") {
            _ = try catalog.column(k, role: "rename_traits key")
            renames[k.lowercased()] = v
        }
        let ignored = Set(try a.strings("ignore_traits").map { $0.lowercased() })
        let chosen = try a.strings("traits")
        let attributes: [ColumnInfo]
        if chosen.isEmpty {
            attributes = columns.filter { c in
                let k = c.name.lowercased()
                return !system.contains(k) && k != id.name.lowercased() && !ignored.contains(k)
            }
        } else {
            attributes = try chosen.map { try catalog.column($0, role: "traits entry", excluding: system) }
        }
        var outputs: [(String, String, String)] = [
            ("\(d.quote(id.name))", "groupId", id.name),
            (d.literal(objectType), "objectTypeId", "object_type_id"),
            (d.timestampNTZ(d.quote(updated.name)), "timestamp", updated.name),
        ]
        for c in attributes {
            let out = renames[c.name.lowercased()] ?? c.name
            let expr = ColumnType(declared: c.declaredType).isTemporal ? d.timestampNTZ(d.quote(c.name)) : d.quote(c.name)
            outputs.append((expr, out, c.name))
        }
        if let name = try a.optionalString("entity_id_attribute") { outputs.append((d.quote("entity_id"), name, "entity_id")) }
        var seen: [String: String] = [:]
        for o in outputs {
            if let first = seen[o.1.lowercased()] {
                throw call.error("columns '\(first)' and '\(o.2)' would both be output as \"\(o.1)\"; rename or ignore one")
            }
            seen[o.1.lowercased()] = o.2
        }
        var conditions = ["entity_type = \(d.literal(try a.string("entity_type")))", "\(d.quote(id.name)) IS NOT NULL"]
        conditions += try a.strings("filters").map { "(\($0))" }
        return """
            SELECT \(outputs.map { "\($0.0) AS \(d.quote($0.1))" }.joined(separator: ",\n       "))
            FROM \(relation)
            WHERE \(conditions.joined(separator: "\n  AND "))
            """
    }
}
