/// SQL text cut into tokens, enough to find function calls, their arguments and bare
/// keywords without touching strings, quoted identifiers or comments.
///
/// Not a parser: it knows nothing of statements. Concatenating every token's text gives
/// back the input exactly.
public struct SQLLexer {
    public enum Kind: Sendable, Equatable {
        /// Whitespace or a comment.
        case space
        /// A single-quoted string literal.
        case string
        /// A quoted identifier: `"x"`, `` `x` `` or `[x]`.
        case quoted
        /// A bare word: keyword, identifier or number.
        case word
        /// Any other single character (`(`, `)`, `,`, `.`, operators).
        case punct
    }

    public struct Token: Sendable, Equatable {
        public var kind: Kind
        public var text: String

        /// The word's text, lowercased; nil for other tokens.
        public var word: String? { kind == .word ? text.lowercased() : nil }
        /// The name a word or quoted identifier spells (quotes taken off, doubled ones undone); nil for other tokens.
        public var name: String? {
            switch kind {
            case .word: return text
            case .quoted:
                let q = String(text.prefix(1))
                let inner = String(text.dropFirst().dropLast())
                return q == "[" ? inner : inner.replacingAll(q + q, with: q)
            default: return nil
            }
        }
        func isPunct(_ c: String) -> Bool { kind == .punct && text == c }
    }

    public static func tokens(_ sql: String) -> [Token] {
        let b = Array(sql.utf8)
        var out: [Token] = []
        var i = 0
        func isWord(_ c: UInt8) -> Bool { (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c == 95 || c == 36 || c >= 0x80 }
        func isSpace(_ c: UInt8) -> Bool { c == 32 || c == 9 || c == 10 || c == 13 || c == 12 }
        func emit(_ kind: Kind, _ end: Int) {
            out.append(Token(kind: kind, text: String(decoding: b[i..<end], as: UTF8.self)))
            i = end
        }
        while i < b.count {
            let c = b[i]
            if c == 39 || c == 34 || c == 96 || c == 91 {
                // Copy through the closing quote (doubled quotes stay inside).
                let close: UInt8 = c == 91 ? 93 : c
                var j = i + 1
                while j < b.count {
                    if b[j] == close {
                        if close != 93, j + 1 < b.count, b[j + 1] == close { j += 2; continue }
                        break
                    }
                    j += 1
                }
                emit(c == 39 ? .string : .quoted, min(j + 1, b.count))
            } else if c == 45, i + 1 < b.count, b[i + 1] == 45 {
                var j = i
                while j < b.count, b[j] != 10 { j += 1 }
                emit(.space, j)
            } else if c == 47, i + 1 < b.count, b[i + 1] == 42 {
                var j = i + 2
                while j + 1 < b.count, !(b[j] == 42 && b[j + 1] == 47) { j += 1 }
                emit(.space, min(j + 2, b.count))
            } else if isSpace(c) {
                var j = i
                while j < b.count, isSpace(b[j]) { j += 1 }
                emit(.space, j)
            } else if c == 36, let end = dollarQuoteEnd(b, i) {
                // A dollar-quoted body (`$$ … $$`, `$tag$ … $tag$`: PostgreSQL's function
                // bodies, Snowflake's scripting) is one string, whatever it holds.
                emit(.string, end)
            } else if isWord(c) {
                var j = i
                while j < b.count, isWord(b[j]) { j += 1 }
                emit(.word, j)
            } else {
                // One character (a multi-byte one is a word byte, so this is ASCII).
                emit(.punct, i + 1)
            }
        }
        return out
    }

    /// Where the dollar quote opening at `i` (`$`, an optional tag not starting with a digit,
    /// `$`) closes (past its closing tag, or the end), or nil when `i` opens none (`$1`).
    static func dollarQuoteEnd(_ b: [UInt8], _ i: Int) -> Int? {
        func isTag(_ c: UInt8) -> Bool { (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c == 95 }
        var j = i + 1
        if j < b.count, b[j] >= 48, b[j] <= 57 { return nil }
        while j < b.count, isTag(b[j]) { j += 1 }
        guard j < b.count, b[j] == 36 else { return nil }
        let tag = b[i...j]
        var k = j + 1
        while k < b.count {
            if b[k] == 36, k + tag.count <= b.count, b[k..<(k + tag.count)].elementsEqual(tag) { return k + tag.count }
            k += 1
        }
        return b.count
    }

    /// The tokens that are not space or comments.
    public static func significantTokens(_ sql: String) -> [Token] { tokens(sql).filter { $0.kind != .space } }

    /// The names of functions the SQL calls (a word followed by `(`, not after `.`), lowercased.
    public static func calledFunctions(_ sql: String) -> Set<String> {
        let t = tokens(sql)
        var names: Set<String> = []
        for (k, tok) in t.enumerated() {
            guard let w = tok.word, !(k > 0 && t[k - 1].isPunct(".")) else { continue }
            var j = k + 1
            while j < t.count, t[j].kind == .space { j += 1 }
            if j < t.count, t[j].isPunct("(") { names.insert(w) }
        }
        return names
    }
}
