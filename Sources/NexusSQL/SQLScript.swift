/// A file of SQL statements separated by semicolons, as `psql -f` and `snowsql -f` read one.
///
/// A semicolon inside a string, a quoted name, a comment or a dollar-quoted body
/// (`$$ … $$`, `$tag$ … $tag$`: PostgreSQL's function bodies, Snowflake's scripting) does not
/// end a statement.
public enum SQLScript {
    /// One statement of a script: its text (without the semicolon) and the line it starts on.
    public struct Statement: Sendable, Equatable {
        public var text: String
        public var line: Int
    }

    /// The statements of `script` in order; empty ones (only space and comments) left out.
    public static func statements(_ script: String) -> [Statement] {
        let b = Array(script.utf8)
        var out: [Statement] = []
        var start = 0, line = 1, startLine = 1, i = 0
        var significant = false
        func flush(_ end: Int) {
            if significant {
                let text = String(decoding: b[start..<end], as: UTF8.self)
                out.append(Statement(text: text.trimmingWhitespace(), line: startLine))
            }
            significant = false
        }
        func isTagByte(_ c: UInt8) -> Bool { (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c == 95 }
        while i < b.count {
            let c = b[i]
            if !significant, c == 32 || c == 9 || c == 13 || c == 10 {
                if c == 10 { line += 1 }
                i += 1; start = i; startLine = line
                continue
            }
            if c == 10 { line += 1; i += 1; continue }
            if c == 45, i + 1 < b.count, b[i + 1] == 45 {
                while i < b.count, b[i] != 10 { i += 1 }
                if !significant { start = i; startLine = line }
                continue
            }
            if c == 47, i + 1 < b.count, b[i + 1] == 42 {
                i += 2
                while i + 1 < b.count, !(b[i] == 42 && b[i + 1] == 47) { if b[i] == 10 { line += 1 }; i += 1 }
                i = min(i + 2, b.count)
                if !significant { start = i; startLine = line }
                continue
            }
            if c == 59 {
                flush(i)
                i += 1; start = i; startLine = line
                continue
            }
            significant = true
            if c == 39 || c == 34 {
                i += 1
                while i < b.count {
                    if b[i] == 10 { line += 1 }
                    if b[i] == c { if i + 1 < b.count, b[i + 1] == c { i += 2; continue }; break }
                    i += 1
                }
                i += 1
                continue
            }
            if c == 36 {
                // A dollar quote's opening tag: `$`, an optional name, `$` (not `$1`, a parameter).
                var j = i + 1
                while j < b.count, isTagByte(b[j]) { j += 1 }
                let first = i + 1 < b.count ? b[i + 1] : 0
                if j < b.count, b[j] == 36, !(first >= 48 && first <= 57) {
                    let tag = Array(b[i...j])
                    var k = j + 1
                    while k < b.count {
                        if b[k] == 10 { line += 1 }
                        if b[k] == 36, k + tag.count <= b.count, Array(b[k..<(k + tag.count)]) == tag { break }
                        k += 1
                    }
                    i = min(k + tag.count, b.count)
                    continue
                }
            }
            i += 1
        }
        flush(b.count)
        return out
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\n" || f == "\t" || f == "\r" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\n" || l == "\t" || l == "\r" { s = s.dropLast() }
        return String(s)
    }
}
