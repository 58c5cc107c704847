/// A literal value in a template or in `vars`.
public indirect enum TemplateValue: Sendable, Hashable, CustomStringConvertible {
    case string(String)
    case integer(Int)
    case double(Double)
    case bool(Bool)
    case none
    case list([TemplateValue])
    case dict([String: TemplateValue])

    /// The value as it appears when rendered into SQL text (Jinja's `{{ x }}`).
    public var description: String {
        switch self {
        case .string(let s): return s
        case .integer(let i): return String(i)
        case .double(let d): return String(d)
        case .bool(let b): return b ? "True" : "False"
        case .none: return "None"
        case .list(let l): return "[" + l.map { $0.repr }.joined(separator: ", ") + "]"
        case .dict(let d): return "{" + d.keys.sorted().map { "'\($0)': \(d[$0]!.repr)" }.joined(separator: ", ") + "}"
        }
    }

    var repr: String {
        if case .string(let s) = self { return "'\(s)'" }
        return description
    }

    public var string: String? { if case .string(let s) = self { return s } else { return nil } }
    public var bool: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    public var list: [TemplateValue]? { if case .list(let l) = self { return l } else { return nil } }
    public var dict: [String: TemplateValue]? { if case .dict(let d) = self { return d } else { return nil } }

    /// A short name of the value's kind, for messages.
    public var kindName: String {
        switch self {
        case .string: return "string"
        case .integer, .double: return "number"
        case .bool: return "boolean"
        case .none: return "none"
        case .list: return "list"
        case .dict: return "dict"
        }
    }
}
