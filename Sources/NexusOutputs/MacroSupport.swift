import NexusCore
import NexusProject
import NexusWarehouse

/// A macro call's arguments bound to its parameters, read with errors that name the call.
struct MacroArguments {
    let call: CallArguments
    let values: [String: TemplateValue]

    init(_ call: CallArguments, _ parameters: [(String, TemplateValue?)]) throws {
        self.call = call
        values = try call.bind(parameters)
    }

    func string(_ k: String) throws -> String {
        guard let s = values[k]?.string, !s.isEmpty else { throw call.error("\(k) must be a non-empty string") }
        return s
    }

    func optionalString(_ k: String) throws -> String? {
        if case .none? = values[k] { return nil }
        return try string(k)
    }

    /// A string, or a number written as one (object type ids: `'1'` or `1`).
    func stringOrNumber(_ k: String) throws -> String {
        switch values[k] {
        case .string(let s)? where !s.isEmpty: return s
        case .integer(let i)?: return String(i)
        default: throw call.error("\(k) must be a string or an integer, such as '1'")
        }
    }

    func strings(_ k: String) throws -> [String] {
        guard let l = values[k]?.list else { throw call.error("\(k) must be a list of strings") }
        return try l.map { v in guard let s = v.string else { throw call.error("\(k) must be a list of strings") }; return s }
    }

    func stringDict(_ k: String) throws -> [String: String] {
        guard let d = values[k]?.dict else { throw call.error("\(k) must be a dict of strings") }
        return try d.mapValues { v in guard let s = v.string, !s.isEmpty else { throw call.error("\(k) values must be non-empty strings") }; return s }
    }
}

/// The columns of one relation, found by name case-insensitively, with errors that list them.
struct Catalog {
    let relation: String
    let columns: [ColumnInfo]
    let byLower: [String: ColumnInfo]
    let call: CallArguments

    init(relation: String, columns: [ColumnInfo], call: CallArguments) {
        self.relation = relation
        self.columns = columns
        self.call = call
        byLower = Dictionary(columns.map { ($0.name.lowercased(), $0) }, uniquingKeysWith: { a, _ in a })
    }

    func column(_ name: String, role: String, excluding: Set<String> = []) throws -> ColumnInfo {
        let key = name.lowercased()
        guard let c = byLower[key], !excluding.contains(key) else {
            let why = excluding.contains(key) ? "is a system column of \(relation)" : "is not a column of \(relation)"
            let available = columns.map(\.name).filter { !excluding.contains($0.lowercased()) }
            throw call.error("\(role) '\(name)' \(why); available columns: \(available.joined(separator: ", "))")
        }
        return c
    }
}
