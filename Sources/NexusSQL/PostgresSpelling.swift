/// Snowflake's spellings in a model, as PostgreSQL runs them.
///
/// `object_construct(k, v, …)` becomes `json_strip_nulls(json_build_object(k, v, …))` (NULL
/// members left out, as Snowflake does) and `object_construct_keep_null` becomes
/// `json_build_object`: PostgreSQL cannot declare a function of any number of arguments of
/// any types in SQL, so these are rewritten where they are called. Each value goes through
/// `nexus_json_value`, which spells timestamps and dates as Snowflake does inside an object
/// (`2025-03-15 06:22:11.000`; JSON's own would be `2025-03-15T06:22:11`). `to_timestamp_ntz` stays as
/// it is written: `PostgresSpelling.functions` creates it in the warehouse's schema.
public enum PostgresSpelling {
    public static func rewrite(_ sql: String) -> String {
        let t = SQLLexer.tokens(sql)
        var text = t.map(\.text)
        // Wrappers opened before a token and closed after one (calls nest, so several may meet).
        var before = [String](repeating: "", count: t.count), after = [String](repeating: "", count: t.count)
        for (k, tok) in t.enumerated() {
            guard let word = tok.word, word == "object_construct" || word == "object_construct_keep_null" else { continue }
            // A call (the next token that is not space opens it), not a column or `x.object_construct`.
            var open = k + 1
            while open < t.count, t[open].kind == .space { open += 1 }
            guard open < t.count, t[open].isPunct("("), !(k > 0 && t[k - 1].isPunct(".")) else { continue }
            var depth = 0, close: Int?
            var arguments: [(first: Int, last: Int)] = []
            var first: Int?, last: Int?
            for j in open..<t.count {
                if t[j].isPunct("(") { depth += 1; if depth == 1 { continue } }
                if t[j].isPunct(")") {
                    depth -= 1
                    if depth == 0 { close = j; break }
                }
                if depth == 1, t[j].isPunct(",") {
                    if let f = first, let l = last { arguments.append((f, l)) }
                    first = nil; last = nil
                    continue
                }
                if t[j].kind != .space { if first == nil { first = j }; last = j }
            }
            guard let close else { continue }
            if let f = first, let l = last { arguments.append((f, l)) }
            // Values (every second argument) through nexus_json_value, so that a timestamp
            // reads as Snowflake writes one into an object, not in JSON's ISO spelling.
            for (i, a) in arguments.enumerated() where i % 2 == 1 {
                before[a.first] += "nexus_json_value("
                after[a.last] = ")" + after[a.last]
            }
            if word == "object_construct" {
                text[k] = "json_strip_nulls(json_build_object"
                after[close] = ")" + after[close]
            } else {
                text[k] = "json_build_object"
            }
        }
        return t.indices.map { before[$0] + text[$0] + after[$0] }.joined()
    }

    /// `to_timestamp_ntz` for each type a model may hand it, as SQL functions in `schema`:
    /// a timestamp as it is; with a time zone, in UTC; a number as Unix seconds; text with an
    /// offset (`Z`, `UTC`, `+02:00`) converted to UTC, text without one read as it is.
    public static func functions(schema: String, dialect d: any SQLDialect) -> [String] {
        let f = "\(d.quote(schema)).to_timestamp_ntz"
        let body: [(String, String)] = [
            ("timestamp", "SELECT v"),
            ("timestamptz", "SELECT v AT TIME ZONE 'UTC'"),
            ("date", "SELECT v::timestamp"),
            ("numeric", "SELECT to_timestamp(v) AT TIME ZONE 'UTC'"),
            ("text", """
                SELECT CASE
                  WHEN v ~ '^\\s*-?[0-9]+\\s*$' THEN to_timestamp(trim(v)::numeric) AT TIME ZONE 'UTC'
                  WHEN v ~* '(z|utc|[+-][0-9]{2}(:?[0-9]{2})?)\\s*$' THEN regexp_replace(v, 'utc\\s*$', 'Z', 'i')::timestamptz AT TIME ZONE 'UTC'
                  ELSE v::timestamp END
                """),
        ]
        let json = "\(d.quote(schema)).nexus_json_value"
        // One per type a value can need spelling for, and the others as they are; the text
        // one keeps an untyped literal ('abc') from being ambiguous between them.
        let values: [(String, String, String)] = [
            ("anyelement", "anyelement", "SELECT v"),
            ("text", "text", "SELECT v"),
            ("timestamp", "text", "SELECT to_char(v, 'YYYY-MM-DD HH24:MI:SS.MS')"),
            ("timestamptz", "text", "SELECT to_char(v AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS')"),
            ("date", "text", "SELECT to_char(v, 'YYYY-MM-DD')"),
        ]
        return body.map { type, sql in
            "CREATE OR REPLACE FUNCTION \(f)(v \(type)) RETURNS timestamp LANGUAGE sql IMMUTABLE STRICT AS $nexus$ \(sql) $nexus$"
        } + values.map { type, returns, sql in
            "CREATE OR REPLACE FUNCTION \(json)(v \(type)) RETURNS \(returns) LANGUAGE sql IMMUTABLE AS $nexus$ \(sql) $nexus$"
        }
    }
}
