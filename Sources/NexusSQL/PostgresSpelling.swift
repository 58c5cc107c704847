/// Snowflake's spellings in a model, as PostgreSQL runs them.
///
/// `object_construct(k, v, …)` becomes `json_strip_nulls(json_build_object(k, v, …))` (NULL
/// members left out, as Snowflake does) and `object_construct_keep_null` becomes
/// `json_build_object`: PostgreSQL cannot declare a function of any number of arguments of
/// any types in SQL, so these are rewritten where they are called. `to_timestamp_ntz` stays as
/// it is written: `PostgresSpelling.functions` creates it in the warehouse's schema.
public enum PostgresSpelling {
    public static func rewrite(_ sql: String) -> String {
        let t = SQLLexer.tokens(sql)
        var text = t.map(\.text)
        for (k, tok) in t.enumerated() {
            guard let word = tok.word, word == "object_construct" || word == "object_construct_keep_null" else { continue }
            // A call (the next token that is not space opens it), not a column or `x.object_construct`.
            var open = k + 1
            while open < t.count, t[open].kind == .space { open += 1 }
            guard open < t.count, t[open].isPunct("("), !(k > 0 && t[k - 1].isPunct(".")) else { continue }
            var depth = 0, close: Int?
            for j in open..<t.count {
                if t[j].isPunct("(") { depth += 1 }
                if t[j].isPunct(")") { depth -= 1; if depth == 0 { close = j; break } }
            }
            guard let close else { continue }
            if word == "object_construct" {
                text[k] = "json_strip_nulls(json_build_object"
                text[close] += ")"
            } else {
                text[k] = "json_build_object"
            }
        }
        return text.joined()
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
        return body.map { type, sql in
            "CREATE OR REPLACE FUNCTION \(f)(v \(type)) RETURNS timestamp LANGUAGE sql IMMUTABLE STRICT AS $nexus$ \(sql) $nexus$"
        }
    }
}
