import NexusSQL

/// A statement assembled from SQL text, typed identifiers and bound values, after GRDB's
/// `SQL` literal: an interpolated value becomes a placeholder and a bound parameter, never
/// text, so no value can change what a statement means; an identifier is quoted by the
/// dialect of the warehouse that runs it.
///
///     let sql: SQL = "SELECT hash FROM \(id: table) WHERE output = \(name) AND log_id > \(last)"
///
/// SQL text that is already SQL (an expression a generator built, a user's filter) goes in
/// with `\(sql:)`, which says so where it happens.
public struct SQL: Sendable, ExpressibleByStringInterpolation, CustomStringConvertible {
    public enum Part: Sendable, Hashable {
        case text(String)
        case identifier(String)
        case value(SQLValue)
    }

    public private(set) var parts: [Part]

    public init(stringLiteral value: String) { parts = [.text(value)] }

    public init(stringInterpolation: StringInterpolation) { parts = stringInterpolation.parts }

    public struct StringInterpolation: StringInterpolationProtocol {
        var parts: [Part] = []
        public init(literalCapacity: Int, interpolationCount: Int) {}
        public mutating func appendLiteral(_ literal: String) { parts.append(.text(literal)) }
        public mutating func appendInterpolation(_ value: SQLValue) { parts.append(.value(value)) }
        public mutating func appendInterpolation(_ value: String) { parts.append(.value(.text(value))) }
        public mutating func appendInterpolation(_ value: String?) { parts.append(.value(value.map(SQLValue.text) ?? .null)) }
        public mutating func appendInterpolation(_ value: Int) { parts.append(.value(.integer(Int64(value)))) }
        public mutating func appendInterpolation(_ value: Int64) { parts.append(.value(.integer(value))) }
        public mutating func appendInterpolation(_ value: Double) { parts.append(.value(.real(value))) }
        /// A relation or column name, quoted by the dialect that runs the statement.
        public mutating func appendInterpolation(id name: String) { parts.append(.identifier(name)) }
        /// A statement fragment with its own identifiers and values.
        public mutating func appendInterpolation(_ fragment: SQL) { parts += fragment.parts }
        /// Text that is SQL already (built by a generator, or the user's own).
        public mutating func appendInterpolation(sql text: String) { parts.append(.text(text)) }
    }

    /// The statement's text for `dialect`, with a placeholder for each value, and the values.
    public func rendered(_ dialect: any SQLDialect) -> (text: String, values: [SQLValue]) {
        var text = ""
        var values: [SQLValue] = []
        for p in parts {
            switch p {
            case .text(let t): text += t
            case .identifier(let name): text += dialect.quote(name)
            case .value(let v):
                values.append(v)
                text += dialect.placeholder(values.count)
            }
        }
        return (text, values)
    }

    /// The statement's text with each value written as a literal, for SQL run by hand
    /// (`nexus compile`).
    public func inlined(_ dialect: any SQLDialect) -> String {
        parts.map { p in
            switch p {
            case .text(let t): return t
            case .identifier(let name): return dialect.quote(name)
            case .value(let v): return v.literal(dialect)
            }
        }.joined()
    }

    /// `sql` with its `?` placeholders (outside strings, quoted names and comments) replaced,
    /// in order, by `values` written as literals.
    public static func inlining(_ sql: String, _ values: [SQLValue], dialect: any SQLDialect) -> String {
        var out = ""
        var n = 0
        for token in SQLLexer.tokens(sql) {
            if token.kind == .punct, token.text == "?", n < values.count { out += values[n].literal(dialect); n += 1 } else { out += token.text }
        }
        return out
    }

    /// For messages and logs: the text with `?` for values (values may be personal data).
    public var description: String { rendered(SQLiteDialect()).text }
}

/// Text with the characters `LIKE` reads as wildcards escaped by `\`, for `LIKE ? ESCAPE '\'`.
public func likeEscaped(_ text: String) -> String {
    var out = ""
    for c in text {
        if c == "%" || c == "_" || c == "\\" { out.append("\\") }
        out.append(c)
    }
    return out
}
