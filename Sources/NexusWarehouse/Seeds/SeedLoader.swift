#if canImport(Glibc)
import Glibc
#endif
import NexusCore
import NexusSQL

/// Loads a CSV seed into a new table, inferring column types from the data.
///
/// Types are inferred from the first rows, then checked on every row as it is loaded;
/// when a later row does not fit (a `n/a` in a column of numbers), the table is loaded
/// again with the types the whole file supports. Declared overrides are never changed:
/// a value that does not fit one is an error naming file, line and column.
public struct SeedLoader {
    public static let sampleRows = 10_000

    /// What one load produced.
    public struct Result: Sendable {
        public var rows: Int
        public var columns: [(name: String, type: ColumnType)]
    }

    /// - Parameter tee: also hands every loaded row to a consumer (see `SeedTee`).
    public static func load(file: String, displayPath: String, table: String, warehouse: any Warehouse,
                            overrides: [String: ColumnType], tee: SeedTee? = nil) throws -> Result {
        var inferred: [ColumnType]? = nil
        for _ in 0..<3 {
            switch try attempt(file: file, displayPath: displayPath, table: table, warehouse: warehouse,
                               overrides: overrides, types: inferred, tee: tee) {
            case .done(let r): return r
            case .retry(let types):
                inferred = types
                tee?.broken = true
            }
        }
        throw NexusError("csv", "column types did not settle after three loads", at: SourceLocation(file: displayPath))
    }

    enum Attempt { case done(Result), retry([ColumnType]) }

    static func attempt(file: String, displayPath: String, table: String, warehouse: any Warehouse,
                        overrides: [String: ColumnType], types given: [ColumnType]?, tee: SeedTee?) throws -> Attempt {
        let reader = try CSVReader(path: file, displayPath: displayPath)
        guard try reader.next() else {
            throw NexusError("csv", "the file is empty: a seed needs a header row", at: SourceLocation(file: displayPath))
        }
        var header: [String] = []
        for i in 0..<reader.fieldCount {
            let name = (reader.string(i) ?? "").trimmingBlanks
            guard !name.isEmpty else {
                throw NexusError("csv", "header column \(i + 1) has no name", at: SourceLocation(file: displayPath, line: reader.line))
            }
            if header.contains(where: { $0.lowercased() == name.lowercased() }) {
                throw NexusError("csv", "header names column '\(name)' twice", at: SourceLocation(file: displayPath, line: reader.line))
            }
            header.append(name)
        }
        for key in overrides.keys where !header.contains(key) {
            throw NexusError("config", "column_types names column '\(key)', which the seed does not have (it has: \(header.joined(separator: ", ")))",
                             at: SourceLocation(file: displayPath))
        }
        let n = header.count
        tee?.start(header: header)
        var observed = [TypeSet](repeating: TypeSet(), count: n)
        var sample: [[String?]] = []
        var more = true
        if given == nil {
            while sample.count < sampleRows {
                guard try reader.next() else { more = false; break }
                try checkWidth(reader, n, displayPath)
                var row: [String?] = []
                row.reserveCapacity(n)
                for i in 0..<n {
                    try validateUTF8(reader, i, displayPath, header[i])
                    if reader.isNull(i) { row.append(nil); continue }
                    reader.withField(i) { observed[i].observe($0) }
                    row.append(reader.string(i))
                }
                sample.append(row)
            }
        }
        var types = given ?? observed.map { $0.resolved }
        for (i, name) in header.enumerated() { if let o = overrides[name] { types[i] = o } }
        let fixed = header.map { overrides[$0] != nil }

        let d = warehouse.dialect
        try warehouse.execute("DROP TABLE IF EXISTS \(d.quote(table))")
        let cols = zip(header, types).map { "\(d.quote($0.0)) \(d.typeName($0.1))" }.joined(separator: ", ")
        try warehouse.execute("CREATE TABLE \(d.quote(table)) (\(cols))")

        var rows = 0
        var demoted = false
        var tracking = false
        let tsBuffers = (0..<n).map { _ in UnsafeMutablePointer<UInt8>.allocate(capacity: 32) }
        defer { tsBuffers.forEach { $0.deallocate() } }
        // A value that does not fit its column's type ends the load: the table is loaded again
        // with the types the whole file supports, so the rest of the file is only observed
        // (a server would refuse the value anyway, and the rows would be thrown away).
        try warehouse.insertPipelined(into: table, columns: header) { w in
            for row in sample {
                for i in 0..<n {
                    guard var v = row[i] else { w.bindNull(i); continue }
                    let ok = v.withUTF8 { bindStable(w, i, UnsafeRawBufferPointer($0), types[i], tsBuffers[i]) }
                    if !ok { demoted = true }
                }
                if demoted { tracking = true; return }
                try tee?.feed(w)
                try w.insertRow()
                rows += 1
            }
            while more, try reader.next() {
                try checkWidth(reader, n, displayPath)
                if !reader.recordIsASCII {
                    for i in 0..<n { try validateUTF8(reader, i, displayPath, header[i]) }
                }
                for i in 0..<n {
                    if reader.isNull(i) { w.bindNull(i); continue }
                    let bytes = reader.field(i)
                    if tracking { observed[i].observe(bytes); continue }
                    if bindStable(w, i, bytes, types[i], tsBuffers[i]) { continue }
                    if fixed[i] {
                        let value = reader.string(i) ?? ""
                        throw NexusError("csv", "value '\(value)' is not a \(types[i].rawValue), the type nexus.yml declares for it",
                                         at: SourceLocation(file: displayPath, line: reader.line, columnName: header[i]))
                    }
                    // Every value so far fitted its column's type; record shapes from here on.
                    tracking = true
                    demoted = true
                    for k in 0..<n { observed[k].include(types[k]) }
                    observed[i].observe(bytes)
                }
                if demoted { return }
                try tee?.feed(w)
                try w.insertRow()
                rows += 1
            }
        }
        if demoted {
            // The rest of the file, observed only (a declared type is checked on the next load).
            while more, try reader.next() {
                try checkWidth(reader, n, displayPath)
                if !reader.recordIsASCII {
                    for i in 0..<n { try validateUTF8(reader, i, displayPath, header[i]) }
                }
                for i in 0..<n where !reader.isNull(i) { observed[i].observe(reader.field(i)) }
            }
        }
        if demoted {
            var next = observed.map { $0.resolved }
            for (i, name) in header.enumerated() { if let o = overrides[name] { next[i] = o } }
            return .retry(next)
        }
        return .done(Result(rows: rows, columns: Array(zip(header, types)).map { (name: $0.0, type: $0.1) }))
    }

    static func checkWidth(_ reader: CSVReader, _ n: Int, _ path: String) throws {
        if reader.fieldCount != n {
            throw NexusError("csv", "row has \(reader.fieldCount) fields but the header has \(n)",
                             at: SourceLocation(file: path, line: reader.line))
        }
    }

    @inline(__always)
    static func validateUTF8(_ reader: CSVReader, _ i: Int, _ path: String, _ column: String) throws {
        let ok = reader.withField(i) { b -> Bool in
            for byte in b where byte >= 0x80 { return String(validating: b, as: UTF8.self) != nil }
            return true
        }
        if !ok { throw NexusError("csv", "value is not valid UTF-8", at: SourceLocation(file: path, line: reader.line, columnName: column)) }
    }

    /// Binds one value converted to its column type; false when it does not fit that type.
    @inline(__always)
    static func bindStable(_ w: BatchSink, _ i: Int, _ b: UnsafeRawBufferPointer, _ type: ColumnType, _ buffer: UnsafeMutablePointer<UInt8>) -> Bool {
        switch type {
        case .text:
            w.bindStatic(i, bytes: b)
        case .integer:
            guard let v = ValueClass.parseInt(b) else { return false }
            w.bind(i, v)
        case .real:
            guard ValueClass.classify(b).isNumeric, b.count < 64 else { return false }
            var tmp = [CChar](repeating: 0, count: b.count + 1)
            for k in 0..<b.count { tmp[k] = CChar(bitPattern: b[k]) }
            w.bind(i, strtod(tmp, nil))
        case .boolean:
            guard let v = ValueClass.parseBool(b) else { return false }
            w.bind(i, Int64(v ? 1 : 0))
        case .date:
            guard b.count == 10, Timestamp.parse(b) != nil else { return false }
            w.bindStatic(i, bytes: b)
        case .timestamp:
            // Most seeds already hold the canonical form; rewriting it would give the same bytes.
            if Timestamp.isCanonicalSecond(b) { w.bindStatic(i, bytes: b); return true }
            guard let micros = Timestamp.parse(b) else { return false }
            let len = Timestamp.write(micros, into: buffer)
            w.bindStatic(i, bytes: UnsafeRawBufferPointer(start: buffer, count: len))
        }
        return true
    }
}

/// The shape of one CSV value.
enum ValueClass: UInt8 {
    case integer = 1, real = 2, boolean = 4, date = 8, timestamp = 16, text = 32

    var isNumeric: Bool { self == .integer || self == .real }

    @inline(__always)
    static func parseBool(_ b: UnsafeRawBufferPointer) -> Bool? {
        if b.count == 4, b[0] | 0x20 == 116, b[1] | 0x20 == 114, b[2] | 0x20 == 117, b[3] | 0x20 == 101 { return true }
        if b.count == 5, b[0] | 0x20 == 102, b[1] | 0x20 == 97, b[2] | 0x20 == 108, b[3] | 0x20 == 115, b[4] | 0x20 == 101 { return false }
        return nil
    }

    /// An integer without leading zeros (so `007`, a code, stays text) that fits 64 bits.
    @inline(__always)
    static func parseInt(_ b: UnsafeRawBufferPointer) -> Int64? {
        var i = 0
        var negative = false
        // A leading '+' marks a phone number or a code, not a number: such values stay text.
        if b.count > 0, b[0] == 45 { negative = true; i = 1 }
        guard i < b.count, b.count - i <= 19 else { return nil }
        if b[i] == 48 && b.count - i > 1 { return nil }
        var v: Int64 = 0
        while i < b.count {
            let c = b[i]
            guard c >= 48, c <= 57 else { return nil }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int64(c - 48))
            if o1 || o2 { return nil }
            v = a
            i += 1
        }
        return negative ? -v : v
    }

    static func classify(_ b: UnsafeRawBufferPointer) -> ValueClass {
        if b.isEmpty { return .text }
        if parseInt(b) != nil { return .integer }
        if parseBool(b) != nil { return .boolean }
        let c0 = b[0]
        if (c0 >= 48 && c0 <= 57) || c0 == 45 || c0 == 46 {
            if isDecimal(b) { return .real }
            if b.count >= 10, Timestamp.parse(b) != nil { return b.count == 10 ? .date : .timestamp }
        }
        return .text
    }

    /// `[+-]digits[.digits][e[+-]digits]` with at least one digit and a dot or exponent.
    static func isDecimal(_ b: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        if b[0] == 45 { i = 1 }
        var intDigits = 0, fracDigits = 0
        let intStart = i
        while i < b.count, b[i] >= 48, b[i] <= 57 { i += 1; intDigits += 1 }
        if intDigits > 1 && b[intStart] == 48 { return false }
        var sawDotOrExp = false
        if i < b.count, b[i] == 46 {
            sawDotOrExp = true
            i += 1
            while i < b.count, b[i] >= 48, b[i] <= 57 { i += 1; fracDigits += 1 }
        }
        guard intDigits + fracDigits > 0 else { return false }
        if i < b.count, b[i] == 101 || b[i] == 69 {
            sawDotOrExp = true
            i += 1
            if i < b.count, b[i] == 45 || b[i] == 43 { i += 1 }
            var e = 0
            while i < b.count, b[i] >= 48, b[i] <= 57 { i += 1; e += 1 }
            if e == 0 { return false }
        }
        return sawDotOrExp && i == b.count
    }
}

/// The set of value shapes seen in one column, and the type they settle on.
struct TypeSet {
    var bits: UInt8 = 0

    @inline(__always) mutating func observe(_ b: UnsafeRawBufferPointer) {
        bits |= ValueClass.classify(b).rawValue
    }

    /// Records that a column held values of `type` (they all fitted it).
    mutating func include(_ type: ColumnType) {
        switch type {
        case .text: bits |= ValueClass.text.rawValue
        case .integer: bits |= ValueClass.integer.rawValue
        case .real: bits |= ValueClass.real.rawValue
        case .boolean: bits |= ValueClass.boolean.rawValue
        case .date: bits |= ValueClass.date.rawValue
        case .timestamp: bits |= ValueClass.timestamp.rawValue
        }
    }

    var resolved: ColumnType {
        if bits == 0 { return .text }
        if bits & ValueClass.text.rawValue != 0 { return .text }
        let numeric = ValueClass.integer.rawValue | ValueClass.real.rawValue
        let temporal = ValueClass.date.rawValue | ValueClass.timestamp.rawValue
        if bits == ValueClass.integer.rawValue { return .integer }
        if bits & ~numeric == 0 { return .real }
        if bits == ValueClass.boolean.rawValue { return .boolean }
        if bits == ValueClass.date.rawValue { return .date }
        if bits & ~temporal == 0 { return .timestamp }
        return .text
    }
}

extension String {
    var trimmingBlanks: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}
