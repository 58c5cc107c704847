/// Where a problem is: any mix of a file position, a model or relation, a row and a column.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public var file: String?
    public var line: Int?
    public var column: Int?
    public var model: String?
    public var relation: String?
    public var row: String?
    public var columnName: String?

    public init(file: String? = nil, line: Int? = nil, column: Int? = nil, model: String? = nil,
                relation: String? = nil, row: String? = nil, columnName: String? = nil) {
        self.file = file; self.line = line; self.column = column
        self.model = model; self.relation = relation; self.row = row; self.columnName = columnName
    }

    public var description: String {
        var parts: [String] = []
        if let file {
            var s = file
            if let line { s += ":\(line)"; if let column { s += ":\(column)" } }
            parts.append(s)
        }
        if let model { parts.append("model \(model)") }
        if let relation { parts.append("relation \(relation)") }
        if let row { parts.append("row \(row)") }
        if let columnName { parts.append("column \(columnName)") }
        return parts.joined(separator: ", ")
    }
}

/// The one error type nexus reports to people: a message and where it comes from.
///
/// Library code throws it with as much location as it knows; the CLI renders it once,
/// on one line, as `error: <location>: <message>`.
public struct NexusError: Error, Sendable, CustomStringConvertible {
    /// A stable, machine-readable category (`config`, `template`, `csv`, `sql`, `contract`, …).
    public var code: String
    public var message: String
    public var location: SourceLocation?

    public init(_ code: String, _ message: String, at location: SourceLocation? = nil) {
        self.code = code
        self.message = message
        self.location = location
    }

    public var description: String {
        if let location, !location.description.isEmpty { return "\(location): \(message)" }
        return message
    }

    /// Adds context that an inner layer could not know (the model being built, say).
    public func adding(model: String? = nil, file: String? = nil, relation: String? = nil) -> NexusError {
        var copy = self
        var loc = location ?? SourceLocation()
        if loc.model == nil, let model { loc.model = model }
        if loc.file == nil, let file { loc.file = file }
        if loc.relation == nil, let relation { loc.relation = relation }
        copy.location = loc
        return copy
    }
}
