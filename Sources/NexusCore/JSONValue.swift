/// A parsed JSON value that keeps object members in their order (for stable payloads).
public indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool { a.serialized == b.serialized }

    /// Parses JSON text; throws on anything else.
    public static func parse(_ text: String) throws -> JSONValue {
        var p = Parser(bytes: Array(text.utf8))
        let v = try p.value()
        p.skip()
        guard p.i == p.bytes.count else { throw NexusError("json", "trailing characters after JSON value") }
        return v
    }

    /// Compact JSON text.
    public var serialized: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let n): return n
        case .string(let s): return JSONText.string(s)
        case .array(let a): return "[" + a.map(\.serialized).joined(separator: ",") + "]"
        case .object(let o): return "{" + o.map { "\(JSONText.string($0.0)):\($0.1.serialized)" }.joined(separator: ",") + "}"
        }
    }

    struct Parser {
        let bytes: [UInt8]
        var i = 0

        mutating func skip() { while i < bytes.count, bytes[i] == 32 || bytes[i] == 9 || bytes[i] == 10 || bytes[i] == 13 { i += 1 } }

        func fail(_ m: String) -> NexusError { NexusError("json", "\(m) at byte \(i)") }

        mutating func literal(_ word: String, _ v: JSONValue) throws -> JSONValue {
            let w = Array(word.utf8)
            guard i + w.count <= bytes.count, Array(bytes[i..<(i + w.count)]) == w else { throw fail("invalid literal") }
            i += w.count
            return v
        }

        mutating func value() throws -> JSONValue {
            skip()
            guard i < bytes.count else { throw fail("unexpected end") }
            switch bytes[i] {
            case 110: return try literal("null", .null)
            case 116: return try literal("true", .bool(true))
            case 102: return try literal("false", .bool(false))
            case 34: return .string(try string())
            case 91:
                i += 1; var items: [JSONValue] = []; skip()
                if i < bytes.count, bytes[i] == 93 { i += 1; return .array(items) }
                while true {
                    items.append(try value()); skip()
                    guard i < bytes.count else { throw fail("unterminated array") }
                    if bytes[i] == 44 { i += 1; continue }
                    if bytes[i] == 93 { i += 1; return .array(items) }
                    throw fail("expected , or ]")
                }
            case 123:
                i += 1; var members: [(String, JSONValue)] = []; skip()
                if i < bytes.count, bytes[i] == 125 { i += 1; return .object(members) }
                while true {
                    skip()
                    guard i < bytes.count, bytes[i] == 34 else { throw fail("expected a key") }
                    let k = try string(); skip()
                    guard i < bytes.count, bytes[i] == 58 else { throw fail("expected :") }
                    i += 1
                    members.append((k, try value())); skip()
                    guard i < bytes.count else { throw fail("unterminated object") }
                    if bytes[i] == 44 { i += 1; continue }
                    if bytes[i] == 125 { i += 1; return .object(members) }
                    throw fail("expected , or }")
                }
            default:
                let s = i
                while i < bytes.count, (bytes[i] >= 48 && bytes[i] <= 57) || bytes[i] == 45 || bytes[i] == 43 || bytes[i] == 46 || bytes[i] == 101 || bytes[i] == 69 { i += 1 }
                guard i > s, Double(String(decoding: bytes[s..<i], as: UTF8.self)) != nil else { throw fail("invalid number") }
                return .number(String(decoding: bytes[s..<i], as: UTF8.self))
            }
        }

        mutating func string() throws -> String {
            i += 1
            var out: [UInt8] = []
            while i < bytes.count {
                let c = bytes[i]
                if c == 34 { i += 1; return String(decoding: out, as: UTF8.self) }
                if c == 92 {
                    guard i + 1 < bytes.count else { break }
                    let n = bytes[i + 1]
                    i += 2
                    switch n {
                    case 110: out.append(10)
                    case 116: out.append(9)
                    case 114: out.append(13)
                    case 98: out.append(8)
                    case 102: out.append(12)
                    case 117:
                        guard i + 4 <= bytes.count, let code = UInt32(String(decoding: bytes[i..<(i + 4)], as: UTF8.self), radix: 16) else { throw fail("bad \\u escape") }
                        i += 4
                        var scalar = code
                        if (0xD800..<0xDC00).contains(code), i + 6 <= bytes.count, bytes[i] == 92, bytes[i + 1] == 117,
                           let low = UInt32(String(decoding: bytes[(i + 2)..<(i + 6)], as: UTF8.self), radix: 16), (0xDC00..<0xE000).contains(low) {
                            scalar = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                            i += 6
                        }
                        out.append(contentsOf: String(Unicode.Scalar(scalar).map(Character.init) ?? "\u{FFFD}").utf8)
                    default: out.append(n)
                    }
                    continue
                }
                out.append(c)
                i += 1
            }
            throw fail("unterminated string")
        }
    }
}
