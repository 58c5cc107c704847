import NexusCore
import NexusProject
import NexusSQL
import NexusWarehouse

/// `nexus.customer_io_identify(...)`: a Customer.io Identify table from `nexus_entities`.
///
/// Columns are discovered from the warehouse's catalog when the model is compiled, so a new
/// trait appears without touching the model. Output: `userId`, optional `anonymousId`,
/// `timestamp` (the entity's `_updated_at`), then every other column of `nexus_entities` as
/// a quoted trait column, in the table's order. Differences from dbt-nexus, on purpose
/// (decisions.md item 6): rows whose dedupe value is NULL are kept, one each; the user id,
/// anonymous id and dedupe columns are checked before any SQL runs; two columns that would
/// get the same output name are an error; column names match case-insensitively.
public struct CustomerIOIdentify {
    /// System columns of `nexus_entities` that are never traits.
    public static let systemColumns: Set<String> = ["entity_id", "entity_type", "_processed_at", "traits_entity_id"]
    /// Renames applied unless overridden: Customer.io's reserved "account created" trait.
    public static let defaultRenames = ["_created_at": "created_at"]

    public static let parameters: [(String, TemplateValue?)] = [
        ("entity_type", .string("person")), ("user_id_column", .string("user_id")), ("anonymous_id_column", TemplateValue.none),
        ("dedupe_column", .string("email")), ("ignore_traits", .list([])), ("rename_traits", .dict([:])), ("filters", .list([])),
        ("normalize_user_id", .bool(false)),
    ]

    public var entityType: String
    public var userIDColumn: String
    public var anonymousIDColumn: String?
    public var dedupeColumn: String
    public var ignoreTraits: [String]
    public var renameTraits: [String: String]
    public var filters: [String]
    /// Send `userId` trimmed and lower-cased: Customer.io keys people by the exact string, so
    /// ` Ann@X.test` and `ann@x.test` would be two people (off by default, as dbt-nexus).
    public var normalizeUserID: Bool

    /// Reads the macro's arguments, with errors that name the call's file, line and column.
    public init(_ call: CallArguments) throws {
        let a = try call.bind(CustomerIOIdentify.parameters)
        func string(_ k: String) throws -> String {
            guard let s = a[k]?.string, !s.isEmpty else { throw call.error("\(k) must be a non-empty string") }
            return s
        }
        func strings(_ k: String) throws -> [String] {
            guard let l = a[k]?.list else { throw call.error("\(k) must be a list of strings") }
            return try l.map { v in guard let s = v.string else { throw call.error("\(k) must be a list of strings") }; return s }
        }
        entityType = try string("entity_type")
        userIDColumn = try string("user_id_column")
        if case .none? = a["anonymous_id_column"] { anonymousIDColumn = nil } else { anonymousIDColumn = try string("anonymous_id_column") }
        dedupeColumn = try string("dedupe_column")
        ignoreTraits = try strings("ignore_traits")
        guard let d = a["rename_traits"]?.dict else { throw call.error("rename_traits must be a dict of old name to new name") }
        renameTraits = try d.mapValues { v in guard let s = v.string, !s.isEmpty else { throw call.error("rename_traits values must be non-empty strings") }; return s }
        filters = try strings("filters")
        guard let normalize = a["normalize_user_id"]?.bool else { throw call.error("normalize_user_id must be true or false") }
        normalizeUserID = normalize
    }

    /// The SELECT for this call, over `relation` (the physical name of `nexus_entities`) with `columns` from the catalog.
    public func sql(relation: String, columns: [ColumnInfo], dialect d: any SQLDialect, call: CallArguments) throws -> String {
        let byLower = Dictionary(columns.map { ($0.name.lowercased(), $0) }, uniquingKeysWith: { a, _ in a })
        let system = CustomerIOIdentify.systemColumns
        let ignored = Set(ignoreTraits.map { $0.lowercased() })
        let available = columns.map(\.name).filter { !system.contains($0.lowercased()) }
        func column(_ name: String, role: String) throws -> ColumnInfo {
            let key = name.lowercased()
            guard let c = byLower[key], !system.contains(key) else {
                let why = system.contains(key) ? "is a system column of nexus_entities" : "is not a column of nexus_entities"
                throw call.error("\(role) '\(name)' \(why); available columns: \(available.joined(separator: ", "))")
            }
            return c
        }
        let user = try column(userIDColumn, role: "user_id_column")
        let anon = try anonymousIDColumn.map { try column($0, role: "anonymous_id_column") }
        let dedupeKey = dedupeColumn.lowercased()
        let dedupe = try column(dedupeColumn, role: "dedupe_column")
        if ignored.contains(dedupeKey) && dedupeKey != user.name.lowercased() && dedupeKey != anon?.name.lowercased() {
            throw call.error("dedupe_column '\(dedupeColumn)' is in ignore_traits, so there would be no column to deduplicate by")
        }
        var renames = CustomerIOIdentify.defaultRenames
        for (k, v) in renameTraits { renames[k.lowercased()] = v }
        for k in renameTraits.keys where byLower[k.lowercased()] == nil {
            throw call.error("rename_traits renames '\(k)', which is not a column of nexus_entities; available columns: \(available.joined(separator: ", "))")
        }

        // Output columns: userId, anonymousId, timestamp, then traits in the table's order.
        // Normalised, a blank id is no id.
        let userExpr = normalizeUserID ? "nullif(lower(trim(\(d.quote(user.name)))), '')" : d.quote(user.name)
        var outputs: [(expr: String, name: String, source: String)] = [(userExpr, "userId", user.name)]
        if let anon { outputs.append((d.quote(anon.name), "anonymousId", anon.name)) }
        guard let updated = byLower["_updated_at"] else { throw call.error("nexus_entities has no _updated_at column") }
        outputs.append((d.quote(updated.name), "timestamp", updated.name))
        let special = Set([user.name.lowercased(), anon?.name.lowercased()].compactMap { $0 })
        var dedupeOutput = dedupe.name
        for c in columns {
            let key = c.name.lowercased()
            if system.contains(key) || special.contains(key) || ignored.contains(key) { continue }
            let out = renames[key] ?? c.name
            let type = ColumnType(declared: c.declaredType)
            let expr = type.isTemporal ? d.timestampNTZ(d.quote(c.name)) : d.quote(c.name)
            outputs.append((expr, out, c.name))
            if key == dedupeKey { dedupeOutput = out }
        }
        if dedupeKey == user.name.lowercased() { dedupeOutput = "userId" }
        else if dedupeKey == anon?.name.lowercased() { dedupeOutput = "anonymousId" }
        // Two columns with one output name would be ambiguous for Customer.io: refuse.
        var seen: [String: String] = [:]
        for o in outputs {
            if let first = seen[o.name.lowercased()] {
                throw call.error("columns '\(first)' and '\(o.source)' would both be output as \"\(o.name)\"; rename or ignore one")
            }
            seen[o.name.lowercased()] = o.source
        }

        var conditions = ["\(d.quote("entity_type")) = \(d.literal(entityType))"]
        if let anon { conditions.append("(\(userExpr) IS NOT NULL OR \(d.quote(anon.name)) IS NOT NULL)") }
        else { conditions.append("\(userExpr) IS NOT NULL") }
        conditions += filters.map { "(\($0))" }
        let select = outputs.map { "\($0.expr) AS \(d.quote($0.name))" }.joined(separator: ",\n           ")
        let names = outputs.map { d.quote($0.name) }.joined(separator: ", ")
        let key = "lower(trim(\(d.quote(dedupeOutput))))"
        // One row per lower/trimmed dedupe value: the most recently updated, then the smallest
        // entity id. Rows whose dedupe value is NULL are each kept.
        return """
            SELECT \(names)
            FROM (
                SELECT *, CASE WHEN \(key) IS NULL THEN 1
                               ELSE row_number() OVER (PARTITION BY \(key) ORDER BY \(d.quote("timestamp")) DESC NULLS LAST, nexus_entity_id) END AS nexus_dedupe_rank
                FROM (
                    SELECT \(select),
                           \(d.quote("entity_id")) AS nexus_entity_id
                    FROM \(relation)
                    WHERE \(conditions.joined(separator: "\n                      AND "))
                ) AS nexus_identify_rows
            ) AS nexus_identify_ranked
            WHERE nexus_dedupe_rank = 1
            """
    }
}
