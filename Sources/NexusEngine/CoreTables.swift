import NexusCore
import NexusSQL
import NexusWarehouse

/// One source relation feeding a core table.
public struct SourceInput: Sendable {
    /// The source's name in nexus.yml.
    public var source: String
    /// The relation's name as the project knows it (`clinic_events`).
    public var relation: String
    /// The name to read it from in this build (a staging name while it is being rebuilt).
    public var physicalName: String
    /// The file that defines it, for messages.
    public var file: String?
    /// Entity types to keep (identifiers and traits only); nil keeps all.
    public var entityTypes: [String]?

    public init(source: String, relation: String, physicalName: String, file: String?, entityTypes: [String]?) {
        self.source = source; self.relation = relation; self.physicalName = physicalName
        self.file = file; self.entityTypes = entityTypes
    }
}

/// Builds the four core tables (`nexus_events`, `nexus_entity_identifiers`,
/// `nexus_entity_traits`, `nexus_relationship_declarations`) as typed unions of the sources,
/// in SQL, so every engine and warehouse shares them.
public struct CoreTables {
    public let warehouse: any Warehouse

    public init(warehouse: any Warehouse) { self.warehouse = warehouse }

    /// Checks that a source relation has the contract's required columns; returns the columns it has.
    public func check(_ input: SourceInput, kind: SourceContract.Kind) throws -> Set<String> {
        guard let cols = try warehouse.columns(of: input.physicalName) else {
            throw NexusError("contract", "source '\(input.source)' needs relation \(input.relation) (a model or seed) for its \(kind.rawValue), but there is none",
                             at: SourceLocation(relation: input.relation))
        }
        let have = Set(cols.map { $0.name.lowercased() })
        let missing = kind.columns.filter { $0.required && !have.contains($0.name) }.map(\.name)
        if !missing.isEmpty {
            throw NexusError("contract", "missing required column\(missing.count > 1 ? "s" : "") \(missing.joined(separator: ", ")); it has: \(cols.map(\.name).joined(separator: ", "))",
                             at: SourceLocation(file: input.file, relation: input.relation))
        }
        return have
    }

    /// The SELECT that unions `inputs` into one core relation with the contract's columns and types.
    ///
    /// A source column already of the right declared type is selected as it is (so a view
    /// keeps its type); anything else is converted and checked row by row, with errors that
    /// name the relation, the row's key and the column.
    ///
    /// `converts` tells whether any column needed a conversion through nexus's own SQL
    /// functions; such a relation is stored as a table, since a plain SQLite client could not
    /// read a view that calls them.
    public func unionSQL(kind: SourceContract.Kind, inputs: [SourceInput], processedAt: Int64?) throws -> String {
        try union(kind: kind, inputs: inputs, processedAt: processedAt).sql
    }

    /// `plain` names the columns every input gives as they are (or as NULL, when it lacks
    /// them): in those columns the relation's rows hold exactly the source rows' values.
    public func union(kind: SourceContract.Kind, inputs: [SourceInput], processedAt: Int64?) throws -> (sql: String, converts: Bool, plain: Set<String>) {
        var converts = false
        var plain = Set(kind.coreColumns.map(\.name))
        let d = warehouse.dialect
        let columns = kind.coreColumns
        var selects: [String] = []
        for input in inputs {
            let have = try check(input, kind: kind)
            // The source's own spelling of each column: Snowflake stores a model's unquoted
            // names upper case (EVENT_ID), which a quoted "event_id" would not find.
            let spelled = Dictionary((try warehouse.columns(of: input.physicalName) ?? []).map { ($0.name.lowercased(), $0.name) }, uniquingKeysWith: { a, b in a == a.lowercased() ? a : b })
            let declared = Dictionary((try warehouse.columns(of: input.physicalName) ?? []).map { ($0.name.lowercased(), ColumnType(declared: $0.declaredType)) }, uniquingKeysWith: { a, _ in a })
            let rawDeclared = Dictionary((try warehouse.columns(of: input.physicalName) ?? []).map { ($0.name.lowercased(), $0.declaredType.uppercased()) }, uniquingKeysWith: { a, _ in a })
            let key = d.quote(spelled[kind.keyColumn] ?? kind.keyColumn)
            let exprs: [String] = columns.map { c in
                let q = d.quote(c.name)
                let source = d.quote(spelled[c.name] ?? c.name)
                if c.name == "_processed_at" {
                    plain.remove(c.name)
                    return "\(processedAt.map { d.timestampLiteral($0) } ?? "CAST(NULL AS \(d.typeName(c.type)))") AS \(q)"
                }
                // Typed, so that a view's column has the contract's type on a server too.
                guard have.contains(c.name) else { return "CAST(NULL AS \(d.typeName(c.type))) AS \(q)" }
                let same = rawDeclared[c.name] == d.typeName(c.type).uppercased() && declared[c.name] == c.type
                if same { return "\(source) AS \(q)" }
                plain.remove(c.name)
                switch c.type {
                case .timestamp, .date:
                    converts = true
                    return "\(d.checkedTimestamp(source, relation: input.relation, column: c.name, key: key)) AS \(q)"
                case .boolean:
                    converts = true
                    return "\(d.checkedBoolean(source, relation: input.relation, column: c.name, key: key)) AS \(q)"
                case .real: return "\(d.castReal(source)) AS \(q)"
                default: return "\(d.castText(source)) AS \(q)"
                }
            }
            var sql = "SELECT \(exprs.joined(separator: ", ")) FROM \(d.quote(input.physicalName))"
            if let types = input.entityTypes, kind == .identifiers || kind == .traits {
                sql += " WHERE \(d.quote(spelled["entity_type"] ?? "entity_type")) IN (\(types.map { d.literal($0) }.joined(separator: ", ")))"
            }
            selects.append(sql)
        }
        if selects.isEmpty {
            return ("SELECT " + columns.map { "CAST(NULL AS \(d.typeName($0.type))) AS \(d.quote($0.name))" }.joined(separator: ", ") + " WHERE 1 = 0", false, [])
        }
        return (selects.joined(separator: "\nUNION ALL\n"), converts, plain)
    }
}
