/// Rewrites the Snowflake functions models use (`to_timestamp_ntz`, `object_construct`,
/// `object_construct_keep_null`) into SQL that SQLite itself runs, so that a view built from
/// a model opens in any SQLite client, not only in nexus.
///
/// - `to_timestamp_ntz(x)` becomes an expression with nexus's canonical result
///   (`YYYY-MM-DD HH:MM:SS[.ffffff]` UTC): NULL stays NULL, integers are Unix seconds, reals
///   keep their microseconds, text in nexus's stored form is taken as it is, and other ISO-8601
///   text goes through SQLite's `datetime` (offsets converted to UTC, a `T`, `Z` or `UTC`,
///   fraction kept to the microsecond). Text that is no timestamp fails the statement, with
///   the value in the message (through a JSON path error, the one error plain SQLite SQL can
///   raise with a message of its own).
/// - `object_construct(k, v, …)` becomes `json_patch('{}', json_object(k, v, …))`: the merge
///   patch leaves out members whose value is NULL, as Snowflake does.
///   `object_construct_keep_null` becomes `json_object`.
/// - Inside those objects, values that are `true`/`false` (also as the branches of a CASE)
///   become JSON booleans, and `to_timestamp_ntz(x)` renders as `YYYY-MM-DD HH:MM:SS.fff`,
///   as Snowflake renders a timestamp inside an OBJECT. Elsewhere `true` and `false` stay
///   SQLite's own keywords (1 and 0).
public enum SQLiteSpelling {
    public static func rewrite(_ sql: String) -> String {
        let t = SQLLexer.tokens(sql)
        return Rewriter(t: t).expression(0..<t.count)
    }

    /// `to_timestamp_ntz(x)` as plain SQLite SQL, with `x` already rewritten.
    public static func timestamp(_ x: String) -> String {
        let v = "(\(x))"
        // Nexus's stored form of a whole second: a real date, taken as it is (the common case).
        let canonical = "\(v) GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-5][0-9]' AND substr(\(v), 1, 10) = date(substr(\(v), 1, 10))"
        let fail = "json_extract('{}', 'to_timestamp_ntz: cannot read ' || quote(\(v)) || ' as a timestamp')"
        // Micros as an integer of the real's seconds, truncated toward zero as nexus does.
        let real = """
            (SELECT datetime((m - r) / 1000000, 'unixepoch') || CASE WHEN r = 0 THEN '' ELSE '.' || substr('00000' || r, -6) END \
            FROM (SELECT m, ((m % 1000000) + 1000000) % 1000000 AS r FROM (SELECT cast(\(v) * 1000000 AS integer) AS m)))
            """
        // ISO-8601 text: SQLite's datetime reads the date, time and offset; the fraction is cut
        // out first and put back to the microsecond (SQLite keeps only milliseconds).
        let text = """
            (SELECT CASE WHEN u <> '' AND u NOT GLOB '*[^0-9]*' THEN datetime(cast(u AS integer), 'unixepoch') \
            WHEN s IS NULL OR substr(u, 1, 10) <> date(substr(u, 1, 10)) THEN \(fail) \
            ELSE s || CASE WHEN f = '000000' THEN '' ELSE '.' || f END END \
            FROM (SELECT u, datetime(CASE WHEN p = 0 THEN u ELSE substr(u, 1, p - 1) || ltrim(substr(u, p + 1), '0123456789') END) AS s, \
            CASE WHEN p = 0 THEN '000000' ELSE substr(substr(substr(u, p + 1), 1, length(substr(u, p + 1)) - length(ltrim(substr(u, p + 1), '0123456789'))) || '000000', 1, 6) END AS f \
            FROM (SELECT u, instr(u, '.') AS p FROM (SELECT upper(replace(replace(trim(cast(\(v) AS text)), ',', '.'), 'UTC', 'Z')) AS u))))
            """
        return """
            (CASE typeof(\(v)) WHEN 'null' THEN NULL WHEN 'integer' THEN datetime(\(v), 'unixepoch') WHEN 'real' THEN \(real) \
            ELSE CASE WHEN \(canonical) THEN \(v) ELSE \(text) END END)
            """
    }

    /// A timestamp as Snowflake renders it inside an OBJECT (`YYYY-MM-DD HH:MM:SS.fff`,
    /// truncated), from the canonical form.
    static func millis(_ canonical: String) -> String { "substr(\(canonical) || '.000', 1, 23)" }

    /// Snowflake's OBJECT_CONSTRUCT from key and value expressions already in SQLite's spelling.
    public static func object(_ arguments: [String], keepNull: Bool) -> String {
        let object = "json_object(\(arguments.joined(separator: ", ")))"
        return keepNull ? object : "json_patch('{}', \(object))"
    }

    struct Rewriter {
        let t: [SQLLexer.Token]

        /// The range without leading and trailing space.
        func trimmed(_ r: Range<Int>) -> Range<Int> {
            var lo = r.lowerBound, hi = r.upperBound
            while lo < hi, t[lo].kind == .space { lo += 1 }
            while hi > lo, t[hi - 1].kind == .space { hi -= 1 }
            return lo..<hi
        }

        /// The index of the `)` matching the `(` at `open`, or nil.
        func close(_ open: Int, within end: Int) -> Int? {
            var depth = 0
            for k in open..<end {
                if t[k].isPunct("(") { depth += 1 }
                if t[k].isPunct(")") { depth -= 1; if depth == 0 { return k } }
            }
            return nil
        }

        /// A call of one of the rewritten functions at `k`: its name and argument ranges.
        func call(at k: Int, within end: Int) -> (name: String, open: Int, close: Int)? {
            guard let w = t[k].word, ["to_timestamp_ntz", "object_construct", "object_construct_keep_null"].contains(w),
                  !(k > 0 && t[k - 1].isPunct(".")) else { return nil }
            var j = k + 1
            while j < end, t[j].kind == .space { j += 1 }
            guard j < end, t[j].isPunct("("), let c = close(j, within: end) else { return nil }
            return (w, j, c)
        }

        /// Splits the tokens between parentheses at top-level commas.
        func arguments(_ open: Int, _ close: Int) -> [Range<Int>] {
            var out: [Range<Int>] = []
            var depth = 0, start = open + 1
            for k in (open + 1)..<close {
                if t[k].isPunct("(") { depth += 1 } else if t[k].isPunct(")") { depth -= 1 }
                else if depth == 0, t[k].isPunct(",") { out.append(start..<k); start = k + 1 }
            }
            if !trimmed(start..<close).isEmpty || !out.isEmpty { out.append(start..<close) }
            return out
        }

        func expression(_ r: Range<Int>) -> String {
            var out = ""
            var k = r.lowerBound
            while k < r.upperBound {
                if let c = call(at: k, within: r.upperBound) {
                    let args = arguments(c.open, c.close)
                    switch c.name {
                    case "to_timestamp_ntz" where args.count == 1:
                        out += SQLiteSpelling.timestamp(expression(args[0]))
                    case "object_construct", "object_construct_keep_null":
                        let parts = args.enumerated().map { $0.offset % 2 == 0 ? expression($0.element) : value($0.element) }
                        out += SQLiteSpelling.object(parts, keepNull: c.name == "object_construct_keep_null")
                    default:
                        // A call of another shape is left for SQLite to report.
                        out += t[k...c.close].map(\.text).joined()
                    }
                    k = c.close + 1
                    continue
                }
                out += t[k].text
                k += 1
            }
            return out
        }

        /// A value inside an object: booleans and timestamps as Snowflake puts them there.
        func value(_ r: Range<Int>) -> String {
            let v = trimmed(r)
            guard !v.isEmpty else { return expression(r) }
            let lead = t[r.lowerBound..<v.lowerBound].map(\.text).joined(), trail = t[v.upperBound..<r.upperBound].map(\.text).joined()
            if v.count == 1, let w = t[v.lowerBound].word, w == "true" || w == "false" {
                return lead + "json('\(w)')" + trail
            }
            if t[v.lowerBound].isPunct("("), close(v.lowerBound, within: v.upperBound) == v.upperBound - 1 {
                return lead + "(" + value((v.lowerBound + 1)..<(v.upperBound - 1)) + ")" + trail
            }
            if let c = call(at: v.lowerBound, within: v.upperBound), c.close == v.upperBound - 1, c.name == "to_timestamp_ntz" {
                let args = arguments(c.open, c.close)
                if args.count == 1 { return lead + SQLiteSpelling.millis(SQLiteSpelling.timestamp(expression(args[0]))) + trail }
            }
            if t[v.lowerBound].word == "case", let branches = caseBranches(v) {
                var out = lead
                var k = v.lowerBound
                for b in branches {
                    out += expression(k..<b.lowerBound) + value(b)
                    k = b.upperBound
                }
                return out + expression(k..<v.upperBound) + trail
            }
            return expression(r)
        }

        /// The result ranges (after THEN and ELSE) of a CASE expression spanning `r` exactly,
        /// or nil when `r` is not one CASE … END.
        func caseBranches(_ r: Range<Int>) -> [Range<Int>]? {
            var depth = 0, caseDepth = 0
            var branches: [Range<Int>] = []
            var start: Int? = nil
            for k in r {
                let tok = t[k]
                if tok.isPunct("(") { depth += 1; continue }
                if tok.isPunct(")") { depth -= 1; continue }
                guard depth == 0, let w = tok.word else { continue }
                if w == "case" { caseDepth += 1; if caseDepth == 1 { continue } }
                if w == "end" {
                    caseDepth -= 1
                    if caseDepth == 0 {
                        if let s = start { branches.append(s..<k) }
                        return k == r.upperBound - 1 ? branches : nil
                    }
                }
                guard caseDepth == 1 else { continue }
                if w == "when" || w == "else" { if let s = start { branches.append(s..<k); start = nil } }
                if w == "then" || w == "else" { start = k + 1 }
            }
            return nil
        }
    }
}
