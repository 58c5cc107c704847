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

    /// Creates `table` and fills it with the union of `inputs`; returns the row count.
    @discardableResult
    public func build(kind: SourceContract.Kind, inputs: [SourceInput], table: String, processedAt: Int64?) throws -> Int {
        let d = warehouse.dialect
        var columns = kind.columns
        if kind == .events { columns.append(ContractColumn("_processed_at", .timestamp)) }
        let ddl = columns.map { "\(d.quote($0.name)) \(d.typeName($0.type))" }.joined(separator: ", ")
        try warehouse.execute("DROP TABLE IF EXISTS \(d.quote(table))")
        try warehouse.execute("CREATE TABLE \(d.quote(table)) (\(ddl))")
        var total = 0
        for input in inputs {
            let have = try check(input, kind: kind)
            let key = d.quote(kind.keyColumn)
            let exprs: [String] = columns.map { c in
                if c.name == "_processed_at" {
                    return processedAt.map { d.literal(Timestamp.format($0)) } ?? "NULL"
                }
                guard have.contains(c.name) else { return "NULL" }
                let q = d.quote(c.name)
                switch c.type {
                case .timestamp, .date: return d.checkedTimestamp(q, relation: input.relation, column: c.name, key: key)
                case .boolean: return d.checkedBoolean(q, relation: input.relation, column: c.name, key: key)
                case .real: return d.castReal(q)
                default: return d.castText(q)
                }
            }
            var sql = "INSERT INTO \(d.quote(table)) (\(columns.map { d.quote($0.name) }.joined(separator: ", "))) SELECT \(exprs.joined(separator: ", ")) FROM \(d.quote(input.physicalName))"
            if let types = input.entityTypes, kind == .identifiers || kind == .traits {
                sql += " WHERE entity_type IN (\(types.map { d.literal($0) }.joined(separator: ", ")))"
            }
            do {
                total += try warehouse.executeCounting(sql)
            } catch let e as NexusError {
                throw NexusError("contract", e.message, at: SourceLocation(file: input.file, relation: input.relation))
            }
        }
        return total
    }
}
