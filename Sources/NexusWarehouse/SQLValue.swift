import NexusSQL

/// A single value read from or written to a warehouse.
public enum SQLValue: Sendable, Hashable, CustomStringConvertible {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)

    public var description: String {
        switch self {
        case .null: return "NULL"
        case .integer(let v): return String(v)
        case .real(let v): return String(v)
        case .text(let v): return v
        }
    }

    public var string: String? {
        switch self {
        case .null: return nil
        case .text(let s): return s
        default: return description
        }
    }

    public var isNull: Bool { if case .null = self { return true } else { return false } }

    /// The value as a literal of `dialect` (a real in Swift's shortest exact spelling).
    public func literal(_ dialect: any SQLDialect) -> String {
        switch self {
        case .null: return "NULL"
        case .integer(let v): return String(v)
        case .real(let v): return v.isFinite ? "\(v)" : dialect.literal("\(v)")
        case .text(let v): return dialect.literal(v)
        }
    }
}

/// A result set held in memory: column names and rows.
public struct QueryResult: Sendable {
    public var columns: [String]
    public var rows: [[SQLValue]]
    public init(columns: [String], rows: [[SQLValue]]) { self.columns = columns; self.rows = rows }
}

/// A column of a relation as the catalog reports it.
public struct ColumnInfo: Sendable, Hashable {
    public var name: String
    public var declaredType: String
    public init(name: String, declaredType: String) { self.name = name; self.declaredType = declaredType }
}

/// What kind of relation a name is in the warehouse.
public enum RelationKind: String, Sendable { case table, view }
