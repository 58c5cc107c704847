/// The logical column types nexus declares and infers.
public enum ColumnType: String, Sendable, Hashable, CaseIterable {
    case text, integer, real, boolean, timestamp, date

    /// Reads a declared type as a warehouse reports it (`TIMESTAMP_NTZ(9)`, `varchar`, `INT`…).
    public init(declared: String) {
        let t = declared.uppercased()
        let base = t.split(separator: "(").first.map(String.init)?.trimmingSpaces ?? t
        switch base {
        case "TIMESTAMP", "TIMESTAMP_NTZ", "TIMESTAMP_LTZ", "TIMESTAMP_TZ", "DATETIME", "TIMESTAMPTZ",
             "TIMESTAMP WITHOUT TIME ZONE", "TIMESTAMP WITH TIME ZONE":
            self = .timestamp
        case "DATE": self = .date
        case "BOOLEAN", "BOOL": self = .boolean
        case "INTEGER", "INT", "BIGINT", "SMALLINT", "INT4", "INT8", "NUMBER":
            self = .integer
        case "REAL", "FLOAT", "DOUBLE", "DOUBLE PRECISION", "FLOAT8", "NUMERIC", "DECIMAL":
            self = .real
        default: self = .text
        }
    }

    /// True for the types the Customer.io outputs treat as timestamps.
    public var isTemporal: Bool { self == .timestamp || self == .date }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
