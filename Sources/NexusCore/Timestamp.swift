import Foundation
/// Timestamps as microseconds since the Unix epoch, UTC.
///
/// nexus parses the ISO-8601 forms data engineers meet (`2025-01-15 10:30:00`,
/// `2025-01-15T10:30:00.123Z`, `…+02:00`, a bare date) without Foundation, because the
/// engine parses tens of millions of them, and renders one canonical form so that text
/// comparison in SQLite orders timestamps correctly.
public enum Timestamp {
    /// Parses an ISO-8601 date or date-time; a value without offset is UTC.
    public static func parse(_ s: String) -> Int64? {
        var s = s
        return s.withUTF8 { parse(UnsafeRawBufferPointer($0)) }
    }

    /// Parses the bytes of an ISO-8601 date or date-time. Returns nil when they are not one.
    public static func parse(_ b: UnsafeRawBufferPointer) -> Int64? {
        let n = b.count
        var i = 0
        @inline(__always) func digit(_ k: Int) -> Int? {
            guard k < n else { return nil }
            let c = b[k]
            return (c >= 48 && c <= 57) ? Int(c - 48) : nil
        }
        @inline(__always) func num(_ k: Int, _ len: Int) -> Int? {
            var v = 0
            for j in 0..<len { guard let d = digit(k + j) else { return nil }; v = v * 10 + d }
            return v
        }
        while i < n, b[i] == 32 { i += 1 }
        guard let year = num(i, 4), i + 10 <= n, b[i + 4] == 45, let month = num(i + 5, 2), b[i + 7] == 45,
              let day = num(i + 8, 2) else { return nil }
        guard month >= 1, month <= 12, day >= 1, day <= daysIn(month: month, year: year) else { return nil }
        i += 10
        var hour = 0, minute = 0, second = 0, micros = 0
        var offsetSeconds = 0
        if i < n, b[i] == 84 || b[i] == 116 || b[i] == 32 { // 'T', 't' or ' '
            // A trailing blank after a date is allowed; a blank followed by a time is a time.
            if b[i] == 32, digit(i + 1) == nil {
                // fallthrough to trailing check below
            } else {
                i += 1
                guard let h = num(i, 2), i + 5 <= n, b[i + 2] == 58, let m = num(i + 3, 2) else { return nil }
                hour = h; minute = m; i += 5
                if i < n, b[i] == 58 {
                    guard let sec = num(i + 1, 2) else { return nil }
                    second = sec; i += 3
                    if i < n, b[i] == 46 || b[i] == 44 { // fraction
                        i += 1
                        var digits = 0
                        var frac = 0
                        while let d = digit(i) {
                            if digits < 6 { frac = frac * 10 + d; digits += 1 }
                            i += 1
                        }
                        guard digits > 0 else { return nil }
                        while digits < 6 { frac *= 10; digits += 1 }
                        micros = frac
                    }
                }
                guard hour <= 23 || (hour == 24 && minute == 0 && second == 0), minute <= 59, second <= 60 else { return nil }
                if i < n, b[i] == 32 { i += 1 }
                if i < n {
                    let c = b[i]
                    if c == 90 || c == 122 { i += 1 } // Z
                    else if c == 43 || c == 45 { // +hh:mm, +hhmm, +hh
                        let sign = c == 43 ? 1 : -1
                        i += 1
                        guard let oh = num(i, 2) else { return nil }
                        i += 2
                        var om = 0
                        if i < n, b[i] == 58 { guard let v = num(i + 1, 2) else { return nil }; om = v; i += 3 }
                        else if let v = num(i, 2) { om = v; i += 2 }
                        offsetSeconds = sign * (oh * 3600 + om * 60)
                    } else if c == 85, i + 3 <= n, b[i + 1] == 84, b[i + 2] == 67 { i += 3 } // "UTC"
                }
            }
        }
        while i < n, b[i] == 32 { i += 1 }
        guard i == n else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let secs = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second) - Int64(offsetSeconds)
        return secs * 1_000_000 + Int64(micros)
    }

    /// The fields of `b` when it has exactly the shape `YYYY-MM-DD HH:MM:SS` (19 bytes, digits
    /// and separators in place); their ranges are the caller's to check.
    @inlinable @inline(__always)
    static func canonicalFields(_ b: UnsafeRawBufferPointer) -> (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int)? {
        guard b.count == 19 else { return nil }
        @inline(__always) func d(_ k: Int) -> Int { Int(b[k]) &- 48 }
        @inline(__always) func bad(_ k: Int) -> UInt { UInt(bitPattern: d(k)) > 9 ? 1 : 0 }
        let misfits = bad(0) | bad(1) | bad(2) | bad(3) | bad(5) | bad(6) | bad(8) | bad(9)
            | bad(11) | bad(12) | bad(14) | bad(15) | bad(17) | bad(18)
        guard misfits == 0, b[4] == 45, b[7] == 45, b[10] == 32, b[13] == 58, b[16] == 58 else { return nil }
        return (d(0) * 1000 + d(1) * 100 + d(2) * 10 + d(3), d(5) * 10 + d(6), d(8) * 10 + d(9),
                d(11) * 10 + d(12), d(14) * 10 + d(15), d(17) * 10 + d(18))
    }

    /// Parses nexus's canonical stored form `YYYY-MM-DD HH:MM:SS` quickly, falling back to
    /// `parse` for anything else; `days` remembers the last date, since the engine reads
    /// millions of values of few dates.
    @inlinable @inline(__always)
    public static func parseStored(_ b: UnsafeRawBufferPointer, days cache: inout DayCache) -> Int64? {
        guard let f = canonicalFields(b) else { return parse(b) }
        let ymd = f.year << 16 | f.month << 8 | f.day
        var days = cache.days
        if ymd != cache.ymd {
            guard f.month >= 1, f.month <= 12, f.day >= 1, f.day <= daysIn(month: f.month, year: f.year) else { return nil }
            days = daysFromCivil(year: f.year, month: f.month, day: f.day)
            cache.ymd = ymd; cache.days = days
        }
        guard f.hour <= 23, f.minute <= 59, f.second <= 60 else { return parse(b) }
        return (Int64(days) * 86_400 + Int64(f.hour * 3600 + f.minute * 60 + f.second)) * 1_000_000
    }

    /// True when `b` is already the canonical form of a whole second (`YYYY-MM-DD HH:MM:SS`, a
    /// real date, no leap second): then `parse` followed by `write` gives back the same bytes,
    /// so a loader can store them as they are.
    @inlinable @inline(__always)
    public static func isCanonicalSecond(_ b: UnsafeRawBufferPointer) -> Bool {
        guard let f = canonicalFields(b) else { return false }
        return f.month >= 1 && f.month <= 12 && f.day >= 1 && f.day <= daysIn(month: f.month, year: f.year)
            && f.hour <= 23 && f.minute <= 59 && f.second <= 59
    }

    /// The last date `parseStored` converted to days.
    public struct DayCache: Sendable {
        @usableFromInline var ymd = -1
        @usableFromInline var days = 0
        public init() {}
    }

    /// Parses only nexus's canonical text form (`YYYY-MM-DD HH:MM:SS`, optionally with up to
    /// six fraction digits), the form nexus stores: how outputs recognise a timestamp value.
    public static func parseCanonical(_ s: String) -> Int64? {
        var s = s
        return s.withUTF8 { parseCanonical(UnsafeRawBufferPointer($0)) }
    }

    /// `parseCanonical` on the bytes of a value, without making a String of them.
    public static func parseCanonical(_ u: UnsafeRawBufferPointer) -> Int64? {
        guard u.count >= 19, u.count <= 26, u[4] == 45, u[7] == 45, u[10] == 32, u[13] == 58, u[16] == 58 else { return nil }
        return parse(u)
    }

    /// The canonical text form: `YYYY-MM-DD HH:MM:SS`, with `.ffffff` only when there are microseconds.
    public static func format(_ micros: Int64) -> String {
        var out = [UInt8](repeating: 0, count: 26)
        let n = write(micros, into: &out)
        return String(decoding: out[0..<n], as: UTF8.self)
    }

    /// Now, in microseconds since the epoch.
    public static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1_000_000) }

    /// ISO-8601 UTC with milliseconds and `Z`, as Customer.io's APIs take it.
    public static func formatISO(_ micros: Int64) -> String {
        let (date, rest) = split(micros)
        let ms = rest.micros / 1000
        return "\(date)T\(pad(rest.h, 2)):\(pad(rest.m, 2)):\(pad(rest.s, 2)).\(pad(ms, 3))Z"
    }

    /// Appends `formatISO(micros)` to `out` without building a String.
    public static func appendISO(_ micros: Int64, to out: inout [UInt8]) {
        var tmp = [UInt8](repeating: 0, count: 32)
        let n = write(micros, into: &tmp)
        guard n >= 19, tmp[10] == 32 else { out.append(contentsOf: formatISO(micros).utf8); return }
        tmp[10] = 84  // T
        out.append(contentsOf: tmp[0..<19])
        let ms = Int(((micros % 1_000_000) + 1_000_000) % 1_000_000 / 1000)
        out.append(46)
        out.append(UInt8(48 + ms / 100)); out.append(UInt8(48 + ms / 10 % 10)); out.append(UInt8(48 + ms % 10))
        out.append(90)  // Z
    }

    /// `YYYY-MM-DD HH:MM:SS.fff`, the form Snowflake gives timestamps inside an OBJECT.
    public static func formatMillis(_ micros: Int64) -> String {
        let (date, rest) = split(micros)
        return "\(date) \(pad(rest.h, 2)):\(pad(rest.m, 2)):\(pad(rest.s, 2)).\(pad(rest.micros / 1000, 3))"
    }

    /// Writes the canonical form into `out` (26 bytes suffice) and returns its length.
    @inline(__always)
    public static func write(_ micros: Int64, into out: inout [UInt8]) -> Int {
        out.withUnsafeMutableBufferPointer { write(micros, into: $0.baseAddress!) }
    }

    /// Writes the canonical form at `out` (26 bytes suffice) and returns its length.
    @inline(__always)
    public static func write(_ micros: Int64, into out: UnsafeMutablePointer<UInt8>) -> Int {
        let (days, sod, frac) = parts(micros)
        let (y, m, d) = civilFromDays(days)
        func put(_ v: Int, _ at: Int, _ len: Int) {
            var v = v
            for k in stride(from: at + len - 1, through: at, by: -1) { out[k] = UInt8(48 + v % 10); v /= 10 }
        }
        put(y, 0, 4); out[4] = 45; put(m, 5, 2); out[7] = 45; put(d, 8, 2); out[10] = 32
        put(sod / 3600, 11, 2); out[13] = 58; put(sod % 3600 / 60, 14, 2); out[16] = 58
        put(sod % 60, 17, 2)
        if frac == 0 { return 19 }
        out[19] = 46; put(frac, 20, 6)
        return 26
    }

    private static func split(_ micros: Int64) -> (String, (h: Int, m: Int, s: Int, micros: Int)) {
        let (days, sod, frac) = parts(micros)
        let (y, m, d) = civilFromDays(days)
        return ("\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))", (sod / 3600, sod % 3600 / 60, sod % 60, frac))
    }

    /// Days since the epoch, second of the day and microseconds, for any instant (also before 1970).
    @inline(__always)
    static func parts(_ micros: Int64) -> (days: Int, secondOfDay: Int, micros: Int) {
        var secs = micros / 1_000_000
        var frac = micros % 1_000_000
        if frac < 0 { frac += 1_000_000; secs -= 1 }
        var days = secs / 86_400
        var sod = secs % 86_400
        if sod < 0 { sod += 86_400; days -= 1 }
        return (Int(days), Int(sod), Int(frac))
    }

    private static func pad(_ v: Int, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    @usableFromInline static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    // Howard Hinnant's civil calendar algorithms.
    @usableFromInline static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civilFromDays(_ z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }
}
