/// A file of SQL statements separated by semicolons, as `psql -f` and `snowsql -f` read one.
///
/// A semicolon inside a string, a quoted name, a comment or a dollar-quoted body
/// (`$$ … $$`, `$tag$ … $tag$`) does not end a statement: the statements are cut between
/// `SQLLexer`'s tokens.
public enum SQLScript {
    /// One statement of a script: its text (without the semicolon) and the line it starts on.
    public struct Statement: Sendable, Equatable {
        public var text: String
        public var line: Int
    }

    /// The statements of `script` in order; empty ones (only space and comments) left out.
    public static func statements(_ script: String) -> [Statement] {
        var out: [Statement] = []
        var line = 1, startLine = 1
        var current = ""
        // Space and comments before a statement's first token are not part of it.
        var started = false
        for token in SQLLexer.tokens(script) {
            if token.kind == .punct && token.text == ";" {
                if started { out.append(Statement(text: current.trimmingWhitespace(), line: startLine)) }
                current = ""; started = false
            } else if token.kind == .space && !started {
                // Nothing yet.
            } else {
                if !started { started = true; startLine = line }
                current += token.text
            }
            line += token.text.utf8.reduce(0) { $0 + ($1 == 10 ? 1 : 0) }
        }
        if started { out.append(Statement(text: current.trimmingWhitespace(), line: startLine)) }
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
