import CSQLite
import NexusCore

/// SQL functions nexus adds to SQLite so that models written for Snowflake run unchanged.
enum SQLiteFunctions {
    static func register(on db: OpaquePointer) {
        let flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC
        sqlite3_create_function_v2(db, "md5", 1, flags, nil, { ctx, _, argv in
            guard let arg = argv?[0], sqlite3_value_type(arg) != SQLITE_NULL else { sqlite3_result_null(ctx); return }
            let p = sqlite3_value_text(arg)
            let n = Int(sqlite3_value_bytes(arg))
            let hex = NexusID.md5Hex(UnsafeRawBufferPointer(start: p, count: n))
            sqlite3_result_text(ctx, hex, -1, SQLITE_TRANSIENT_PTR)
        }, nil, nil, nil)
        // to_timestamp_ntz(x): text in any ISO-8601 form, or Unix seconds, to the canonical UTC text.
        sqlite3_create_function_v2(db, "to_timestamp_ntz", 1, flags, nil, { ctx, _, argv in
            guard let arg = argv?[0] else { sqlite3_result_null(ctx); return }
            switch sqlite3_value_type(arg) {
            case SQLITE_NULL: sqlite3_result_null(ctx)
            case SQLITE_INTEGER:
                sqlite3_result_text(ctx, Timestamp.format(sqlite3_value_int64(arg) * 1_000_000), -1, SQLITE_TRANSIENT_PTR)
            case SQLITE_FLOAT:
                sqlite3_result_text(ctx, Timestamp.format(Int64(sqlite3_value_double(arg) * 1_000_000)), -1, SQLITE_TRANSIENT_PTR)
            default:
                let p = sqlite3_value_text(arg)
                let n = Int(sqlite3_value_bytes(arg))
                let raw = UnsafeRawBufferPointer(start: p, count: n)
                if let micros = Timestamp.parse(raw) {
                    sqlite3_result_text(ctx, Timestamp.format(micros), -1, SQLITE_TRANSIENT_PTR)
                } else if let secs = Int64(String(decoding: raw, as: UTF8.self)) {
                    sqlite3_result_text(ctx, Timestamp.format(secs * 1_000_000), -1, SQLITE_TRANSIENT_PTR)
                } else {
                    let msg = "to_timestamp_ntz: cannot read '\(String(decoding: raw, as: UTF8.self))' as a timestamp"
                    sqlite3_result_error(ctx, msg, -1)
                }
            }
        }, nil, nil, nil)
            // nexus_timestamp(value, relation, column, key): the canonical timestamp, or an error naming the row.
        sqlite3_create_function_v2(db, "nexus_timestamp", 4, flags, nil, { ctx, _, argv in
            guard let argv, let arg = argv[0] else { sqlite3_result_null(ctx); return }
            switch sqlite3_value_type(arg) {
            case SQLITE_NULL: sqlite3_result_null(ctx)
            case SQLITE_INTEGER:
                sqlite3_result_text(ctx, Timestamp.format(sqlite3_value_int64(arg) * 1_000_000), -1, SQLITE_TRANSIENT_PTR)
            default:
                let raw = UnsafeRawBufferPointer(start: sqlite3_value_text(arg), count: Int(sqlite3_value_bytes(arg)))
                if let micros = Timestamp.parse(raw) {
                    sqlite3_result_text(ctx, Timestamp.format(micros), -1, SQLITE_TRANSIENT_PTR)
                } else {
                    sqlite3_result_error(ctx, SQLiteFunctions.rowError(argv, "cannot read '\(String(decoding: raw, as: UTF8.self))' as a timestamp"), -1)
                }
            }
        }, nil, nil, nil)
        // nexus_boolean(value, relation, column, key): 1 or 0, or an error naming the row.
        sqlite3_create_function_v2(db, "nexus_boolean", 4, flags, nil, { ctx, _, argv in
            guard let argv, let arg = argv[0] else { sqlite3_result_null(ctx); return }
            switch sqlite3_value_type(arg) {
            case SQLITE_NULL: sqlite3_result_null(ctx)
            case SQLITE_INTEGER, SQLITE_FLOAT: sqlite3_result_int64(ctx, sqlite3_value_double(arg) != 0 ? 1 : 0)
            default:
                let s = String(decoding: UnsafeRawBufferPointer(start: sqlite3_value_text(arg), count: Int(sqlite3_value_bytes(arg))), as: UTF8.self)
                switch s.lowercased() {
                case "true", "t", "1", "yes": sqlite3_result_int64(ctx, 1)
                case "false", "f", "0", "no": sqlite3_result_int64(ctx, 0)
                default: sqlite3_result_error(ctx, SQLiteFunctions.rowError(argv, "cannot read '\(s)' as a boolean"), -1)
                }
            }
        }, nil, nil, nil)
    }

    static func rowError(_ argv: UnsafeMutablePointer<OpaquePointer?>, _ message: String) -> String {
        func text(_ k: Int) -> String {
            guard let v = argv[k], let p = sqlite3_value_text(v) else { return "NULL" }
            return String(cString: p)
        }
        return "relation \(text(1)), row \(text(3)), column \(text(2)): \(message)"
    }
}
