import NexusCore
import NexusSQL

/// nexus's own small records (the last build's fingerprints), kept in the warehouse itself in
/// `_nexus_state` (name, value): they go wherever the warehouse goes, and no file beside it
/// can disagree with it.
extension Warehouse {
    public static var stateTable: String { "_nexus_state" }

    /// The record named `name`, or nil when there is none.
    public func readState(_ name: String) throws -> String? {
        guard try relationKind(Self.stateTable) == .table else { return nil }
        return try query("SELECT value FROM \(id: Self.stateTable) WHERE name = \(name)" as SQL).rows.first?.first?.string
    }

    /// Writes (or, for nil, removes) the record named `name`, in one transaction.
    public func writeState(_ name: String, _ value: String?) throws {
        try writeStates([(name, value)])
    }

    /// Writes (or, for nil, removes) several records in one transaction.
    public func writeStates(_ records: [(name: String, value: String?)]) throws {
        let d = dialect
        try transaction {
            try execute("CREATE TABLE IF NOT EXISTS \(d.quote(Self.stateTable)) (name \(d.typeName(.text)) PRIMARY KEY, value \(d.typeName(.text)))")
            for (name, value) in records {
                if let value {
                    try executeMany(d.upsert(into: Self.stateTable, columns: ["name", "value"], key: "name", placeholders: [d.placeholder(1), d.placeholder(2)]),
                                    [[.text(name), .text(value)]])
                } else {
                    try execute("DELETE FROM \(id: Self.stateTable) WHERE name = \(name)" as SQL)
                }
            }
        }
    }
}
