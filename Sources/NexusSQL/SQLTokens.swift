/// Rewrites the bare keywords `true` and `false` in SQL text, leaving strings, quoted
/// identifiers and comments alone.
///
/// SQLite reads `true` as the integer 1, so `object_construct('k', true)` could not tell a
/// boolean from a number. On SQLite nexus spells them `nexus_true()` / `nexus_false()`:
/// still 1 and 0 in every comparison, but marked so that JSON built from them holds real
/// booleans, as Snowflake's does.
public enum SQLBooleanLiterals {
    public static func rewrite(_ sql: String, true t: String, false f: String) -> String {
        let b = Array(sql.utf8)
        var out = [UInt8]()
        out.reserveCapacity(b.count + 32)
        var i = 0
        func isWord(_ c: UInt8) -> Bool { (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c == 95 || c == 36 || c >= 0x80 }
        while i < b.count {
            let c = b[i]
            // Strings and quoted identifiers: copy through the closing quote (doubled quotes stay inside).
            if c == 39 || c == 34 || c == 96 || c == 91 {
                let close: UInt8 = c == 91 ? 93 : c
                var j = i + 1
                while j < b.count {
                    if b[j] == close {
                        if close != 93, j + 1 < b.count, b[j + 1] == close { j += 2; continue }
                        break
                    }
                    j += 1
                }
                let end = min(j + 1, b.count)
                out.append(contentsOf: b[i..<end]); i = end; continue
            }
            if c == 45, i + 1 < b.count, b[i + 1] == 45 { // -- comment
                var j = i
                while j < b.count, b[j] != 10 { j += 1 }
                out.append(contentsOf: b[i..<j]); i = j; continue
            }
            if c == 47, i + 1 < b.count, b[i + 1] == 42 { // /* comment */
                var j = i + 2
                while j + 1 < b.count, !(b[j] == 42 && b[j + 1] == 47) { j += 1 }
                let end = min(j + 2, b.count)
                out.append(contentsOf: b[i..<end]); i = end; continue
            }
            if isWord(c) {
                var j = i
                while j < b.count, isWord(b[j]) { j += 1 }
                let word = String(decoding: b[i..<j], as: UTF8.self)
                let previous = i > 0 ? b[i - 1] : 32
                // A name after '.' (t.true) is a column, not a literal.
                if previous != 46, word.lowercased() == "true" { out.append(contentsOf: t.utf8) }
                else if previous != 46, word.lowercased() == "false" { out.append(contentsOf: f.utf8) }
                else { out.append(contentsOf: b[i..<j]) }
                i = j; continue
            }
            out.append(c); i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }
}
