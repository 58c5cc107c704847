import CSQLite
import Foundation
import NexusCore

/// SQL functions nexus adds to SQLite so that models written for Snowflake run unchanged.
enum SQLiteFunctions {
    /// Every function `register` adds: SQL that calls one of them runs only on nexus's connections.
    static let names = Set<String>([
        "md5", "to_timestamp_ntz", "nexus_timestamp", "nexus_boolean", "nexus_true", "nexus_false",
        "object_construct", "object_construct_keep_null",
    ]).union(mathFunctions.map(\.0))

    static func register(on db: OpaquePointer) {
        registerJSON(on: db)
        registerMath(on: db)
        let flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC
        sqlite3_create_function_v2(db, "md5", 1, flags, nil, { ctx, _, argv in
            guard let arg = argv?[0], sqlite3_value_type(arg) != SQLITE_NULL else { sqlite3_result_null(ctx); return }
            let p = sqlite3_value_text(arg)
            let n = Int(sqlite3_value_bytes(arg))
            let hex = NexusID.md5Hex(UnsafeRawBufferPointer(start: p, count: n))
            sqlite3_result_text(ctx, hex, -1, SQLITE_TRANSIENT_PTR)
        }, nil, nil, nil)
        // to_timestamp_ntz(x): text in any ISO-8601 form, or Unix seconds, to the canonical UTC
        // text, marked as a timestamp so object_construct renders it as Snowflake does.
        sqlite3_create_function_v2(db, "to_timestamp_ntz", 1, flags | SQLITE_RESULT_SUBTYPE, nil, { ctx, _, argv in
            guard let arg = argv?[0] else { sqlite3_result_null(ctx); return }
            func timestamp(_ micros: Int64) {
                sqlite3_result_text(ctx, Timestamp.format(micros), -1, SQLITE_TRANSIENT_PTR)
                sqlite3_result_subtype(ctx, SQLiteFunctions.timestampSubtype)
            }
            switch sqlite3_value_type(arg) {
            case SQLITE_NULL: sqlite3_result_null(ctx)
            case SQLITE_INTEGER: timestamp(sqlite3_value_int64(arg) * 1_000_000)
            case SQLITE_FLOAT: timestamp(Int64(sqlite3_value_double(arg) * 1_000_000))
            default:
                let p = sqlite3_value_text(arg)
                let n = Int(sqlite3_value_bytes(arg))
                let raw = UnsafeRawBufferPointer(start: p, count: n)
                if let micros = Timestamp.parse(raw) {
                    timestamp(micros)
                } else if let secs = Int64(String(decoding: raw, as: UTF8.self)) {
                    timestamp(secs * 1_000_000)
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

    /// Subtypes nexus puts on values: SQLite's own JSON marker, and nexus's boolean and timestamp markers.
    static let jsonSubtype: UInt32 = 74       // 'J', as SQLite's JSON functions use
    static let booleanSubtype: UInt32 = 66    // 'B'
    static let timestampSubtype: UInt32 = 84  // 'T'

    /// Registers `nexus_true()`, `nexus_false()`, `object_construct` and `object_construct_keep_null`.
    static func registerJSON(on db: OpaquePointer) {
        let flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC
        for (name, value) in [("nexus_true", Int64(1)), ("nexus_false", Int64(0))] {
            let box = UnsafeMutablePointer<Int64>.allocate(capacity: 1)
            box.initialize(to: value)
            sqlite3_create_function_v2(db, name, 0, flags | SQLITE_RESULT_SUBTYPE, box, { ctx, _, _ in
                let v = sqlite3_user_data(ctx)!.assumingMemoryBound(to: Int64.self).pointee
                sqlite3_result_int64(ctx, v)
                sqlite3_result_subtype(ctx, SQLiteFunctions.booleanSubtype)
            }, nil, nil, { $0?.deallocate() })
        }
        for (name, keepNull) in [("object_construct", false), ("object_construct_keep_null", true)] {
            let box = UnsafeMutablePointer<Bool>.allocate(capacity: 1)
            box.initialize(to: keepNull)
            // It reads its arguments' subtypes and marks its result as JSON: SQLite keeps
            // subtypes through the query plan only for functions that say so.
            sqlite3_create_function_v2(db, name, -1, flags | SQLITE_SUBTYPE | SQLITE_RESULT_SUBTYPE, box, { ctx, argc, argv in
                let keepNull = sqlite3_user_data(ctx)!.assumingMemoryBound(to: Bool.self).pointee
                guard argc % 2 == 0, let argv else {
                    sqlite3_result_error(ctx, "object_construct takes key, value pairs", -1); return
                }
                var out: [UInt8] = [123]
                var first = true
                for k in stride(from: 0, to: Int(argc), by: 2) {
                    guard let key = argv[k], sqlite3_value_type(key) != SQLITE_NULL else {
                        sqlite3_result_error(ctx, "object_construct: key \(k / 2 + 1) is NULL", -1); return
                    }
                    let value = argv[k + 1]
                    let type = value.map { sqlite3_value_type($0) } ?? SQLITE_NULL
                    if type == SQLITE_NULL && !keepNull { continue }
                    if !first { out.append(44) }
                    first = false
                    JSONText.appendString(&out, UnsafeRawBufferPointer(start: sqlite3_value_text(key), count: Int(sqlite3_value_bytes(key))))
                    out.append(58)
                    guard let value else { out.append(contentsOf: "null".utf8); continue }
                    let subtype = sqlite3_value_subtype(value)
                    switch type {
                    case SQLITE_NULL: out.append(contentsOf: "null".utf8)
                    case SQLITE_INTEGER:
                        let v = sqlite3_value_int64(value)
                        if subtype == SQLiteFunctions.booleanSubtype { out.append(contentsOf: (v != 0 ? "true" : "false").utf8) }
                        else { out.append(contentsOf: String(v).utf8) }
                    case SQLITE_FLOAT:
                        let v = sqlite3_value_double(value)
                        out.append(contentsOf: (v.isFinite ? String(v) : "null").utf8)
                    default:
                        let raw = UnsafeRawBufferPointer(start: sqlite3_value_text(value), count: Int(sqlite3_value_bytes(value)))
                        if subtype == SQLiteFunctions.jsonSubtype {
                            out.append(contentsOf: raw)
                        } else if subtype == SQLiteFunctions.timestampSubtype, let micros = Timestamp.parse(raw) {
                            let text = Array(Timestamp.formatMillis(micros).utf8)
                            text.withUnsafeBytes { JSONText.appendString(&out, $0) }
                        } else {
                            JSONText.appendString(&out, raw)
                        }
                    }
                }
                out.append(125)
                out.withUnsafeBytes { sqlite3_result_text(ctx, $0.baseAddress!.assumingMemoryBound(to: CChar.self), Int32($0.count), SQLITE_TRANSIENT_PTR) }
                sqlite3_result_subtype(ctx, SQLiteFunctions.jsonSubtype)
            }, nil, nil, { $0?.deallocate() })
        }
    }

    /// The math functions of SQLite's math extension (floor, ceil, ln, power, …), which the
    /// SQLite nexus links (sqlite-nio's build) leaves out; Snowflake and PostgreSQL models use them.
    /// As in SQLite: NULL in, NULL out; outside a function's domain, NULL; ceil, floor and
    /// trunc return an integer argument unchanged.
    enum MathOp: Int { case floor, ceil, trunc, sqrt, exp, ln, log10, log2, log, power, mod, pi }
    static let mathFunctions: [(String, MathOp, Int32)] = [
        ("floor", .floor, 1), ("ceil", .ceil, 1), ("ceiling", .ceil, 1), ("trunc", .trunc, 1),
        ("sqrt", .sqrt, 1), ("exp", .exp, 1), ("ln", .ln, 1), ("log10", .log10, 1), ("log2", .log2, 1),
        ("log", .log10, 1), ("log", .log, 2), ("pow", .power, 2), ("power", .power, 2), ("mod", .mod, 2), ("pi", .pi, 0),
    ]

    static func registerMath(on db: OpaquePointer) {
        typealias Op = MathOp
        for (name, op, argc) in mathFunctions {
            let box = UnsafeMutablePointer<Int>.allocate(capacity: 1)
            box.initialize(to: op.rawValue)
            sqlite3_create_function_v2(db, name, argc, SQLITE_UTF8 | SQLITE_DETERMINISTIC, box, { ctx, argc, argv in
                let op = Op(rawValue: sqlite3_user_data(ctx)!.assumingMemoryBound(to: Int.self).pointee)!
                // At most two arguments: held in locals, since a model may call these per row.
                var x = 0.0, y = 0.0
                for k in 0..<Int(argc) {
                    guard let v = argv?[k], sqlite3_value_type(v) != SQLITE_NULL else { sqlite3_result_null(ctx); return }
                    if k == 0, op == .floor || op == .ceil || op == .trunc, sqlite3_value_numeric_type(v) == SQLITE_INTEGER {
                        sqlite3_result_int64(ctx, sqlite3_value_int64(v)); return
                    }
                    if k == 0 { x = sqlite3_value_double(v) } else { y = sqlite3_value_double(v) }
                }
                let r: Double
                switch op {
                case .floor: r = x.rounded(.down)
                case .ceil: r = x.rounded(.up)
                case .trunc: r = x.rounded(.towardZero)
                case .sqrt: r = x < 0 ? .nan : x.squareRoot()
                case .exp: r = Foundation.exp(x)
                case .ln: r = x <= 0 ? .nan : Foundation.log(x)
                case .log10: r = x <= 0 ? .nan : Foundation.log10(x)
                case .log2: r = x <= 0 ? .nan : Foundation.log2(x)
                case .log: r = x <= 0 || x == 1 || y <= 0 ? .nan : Foundation.log(y) / Foundation.log(x)
                case .power: r = Foundation.pow(x, y)
                case .mod: r = y == 0 ? .nan : Foundation.fmod(x, y)
                case .pi: r = Double.pi
                }
                if r.isNaN { sqlite3_result_null(ctx) } else { sqlite3_result_double(ctx, r) }
            }, nil, nil, { $0?.deallocate() })
        }
    }

    static func rowError(_ argv: UnsafeMutablePointer<OpaquePointer?>, _ message: String) -> String {
        func text(_ k: Int) -> String {
            guard let v = argv[k], let p = sqlite3_value_text(v) else { return "NULL" }
            return String(cString: p)
        }
        return "relation \(text(1)), row \(text(3)), column \(text(2)): \(message)"
    }
}
