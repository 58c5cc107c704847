#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NexusCore

/// A streaming RFC 4180 reader: one record at a time, fields as bytes, in constant memory.
///
/// Quoted fields may hold commas, quotes (`""`) and line breaks. A record's line number is
/// the physical line it starts on, so errors can point at it. An unquoted empty field is
/// NULL; a quoted empty field (`""`) is the empty string.
public final class CSVReader {
    private let file: UnsafeMutablePointer<FILE>
    public let path: String
    private var buf: [UInt8]
    private var pos = 0
    private var end = 0
    private var eof = false
    private var nextLine = 1
    private var firstRead = true

    /// Line on which the current record starts (1-based).
    public private(set) var line = 0
    // Field bytes of the current record, in storage that does not move while the record is
    // current, so a loader can bind them to SQLite without copying.
    private let scratch = ByteBuffer(capacity: 1 << 16)
    private var ends: [Int] = []
    private var quotedFlags: [Bool] = []

    public init(path: String, displayPath: String? = nil) throws {
        guard let f = fopen(path, "rb") else {
            throw NexusError("csv", "cannot open file", at: SourceLocation(file: displayPath ?? path))
        }
        file = f
        self.path = displayPath ?? path
        buf = [UInt8](repeating: 0, count: 1 << 20)
    }

    deinit { fclose(file) }

    @inline(__always) private func append(_ c: UInt8) { scratch.append(c) }
    @inline(__always) private func append(_ p: UnsafeBufferPointer<UInt8>) { scratch.append(contentsOf: UnsafeRawBufferPointer(p)) }

    /// True when every byte of the current record is ASCII (then it is valid UTF-8).
    public var recordIsASCII: Bool {
        let p = scratch.base, n = scratch.count
        var i = 0
        while i + 8 <= n {
            if UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { return false }
            i += 8
        }
        while i < n { if p[i] >= 0x80 { return false }; i += 1 }
        return true
    }

    /// Number of fields in the current record.
    public var fieldCount: Int { ends.count }

    /// True when field `i` was written in quotes.
    public func isQuoted(_ i: Int) -> Bool { quotedFlags[i] }

    /// True when field `i` is NULL (unquoted and empty).
    @inline(__always) public func isNull(_ i: Int) -> Bool { !quotedFlags[i] && fieldLength(i) == 0 }

    @inline(__always) func fieldLength(_ i: Int) -> Int { ends[i] - (i == 0 ? 0 : ends[i - 1]) }

    /// Calls `body` with the bytes of field `i`.
    @inline(__always)
    public func withField<R>(_ i: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(field(i))
    }

    /// The bytes of field `i`; valid until the next call to `next()`.
    @inline(__always)
    public func field(_ i: Int) -> UnsafeRawBufferPointer {
        let s = i == 0 ? 0 : ends[i - 1]
        return UnsafeRawBufferPointer(start: scratch.base + s, count: ends[i] - s)
    }

    /// Field `i` as a string, nil when NULL.
    public func string(_ i: Int) -> String? {
        if isNull(i) { return nil }
        return withField(i) { String(decoding: $0, as: UTF8.self) }
    }

    private func fill() {
        if pos > 0 {
            let remaining = end - pos
            if remaining > 0 {
                buf.withUnsafeMutableBytes { p in
                    _ = memmove(p.baseAddress!, p.baseAddress! + pos, remaining)
                }
            }
            end = remaining
            pos = 0
        }
        if end == buf.count { buf.append(contentsOf: [UInt8](repeating: 0, count: buf.count)) }
        let cap = buf.count - end
        let got = buf.withUnsafeMutableBytes { p in fread(p.baseAddress! + end, 1, cap, file) }
        if got == 0 { eof = true }
        if firstRead {
            firstRead = false
            // Skip a UTF-8 byte-order mark.
            if got >= 3, buf[0] == 0xEF, buf[1] == 0xBB, buf[2] == 0xBF { pos = 3 }
        }
        end += got
    }

    private func error(_ message: String, line: Int) -> NexusError {
        NexusError("csv", message, at: SourceLocation(file: path, line: line))
    }

    /// Reads the next record. Returns false at the end of the file. Blank lines are skipped.
    public func next() throws -> Bool {
        while true {
            if pos >= end && !eof { fill() }
            if pos >= end && eof { return false }
            let result = try parseRecord()
            switch result {
            case .needMore: fill()
            case .blank: continue
            case .record: return true
            }
        }
    }

    private enum ParseResult { case needMore, blank, record }

    private func parseRecord() throws -> ParseResult {
        scratch.removeAll()
        ends.removeAll(keepingCapacity: true)
        quotedFlags.removeAll(keepingCapacity: true)
        var lines = 0
        let startLine = nextLine
        let r: (ParseResult, Int) = try buf.withUnsafeBufferPointer { b in
            var i = pos
            // A blank line is skipped.
            if b[i] == 10 { return (.blank, i + 1) }
            if b[i] == 13 {
                if i + 1 < end { return (.blank, b[i + 1] == 10 ? i + 2 : i + 1) }
                if eof { return (.blank, i + 1) }
                return (.needMore, pos)
            }
            while true {
                // At the start of a field.
                if i < end && b[i] == 34 {
                    i += 1
                    while true {
                        guard i < end else {
                            if eof { throw error("unterminated quoted field", line: startLine) }
                            return (.needMore, pos)
                        }
                        if b[i] == 34 {
                            guard i + 1 < end || eof else { return (.needMore, pos) }
                            if i + 1 < end && b[i + 1] == 34 { append(34); i += 2; continue }
                            i += 1
                            break
                        }
                        // Copy the run up to the next quote in one go.
                        var j = i
                        while j < end && b[j] != 34 { if b[j] == 10 { lines += 1 }; j += 1 }
                        append(UnsafeBufferPointer(rebasing: b[i..<j]))
                        i = j
                    }
                    ends.append(scratch.count)
                    quotedFlags.append(true)
                    if i < end, b[i] != 44, b[i] != 10, b[i] != 13 {
                        throw error("unexpected character after a closing quote", line: startLine + lines)
                    }
                } else {
                    let s = i
                    while i < end {
                        let c = b[i]
                        if c == 44 || c == 10 || c == 13 { break }
                        i += 1
                    }
                    if i >= end && !eof { return (.needMore, pos) }
                    append(UnsafeBufferPointer(rebasing: b[s..<i]))
                    ends.append(scratch.count)
                    quotedFlags.append(false)
                }
                // After a field.
                if i >= end {
                    if !eof { return (.needMore, pos) }
                    return (.record, i)
                }
                let c = b[i]
                if c == 44 { i += 1; continue }
                if c == 10 { return (.record, i + 1) }
                // CR or CRLF
                if i + 1 >= end && !eof { return (.needMore, pos) }
                if i + 1 < end && b[i + 1] == 10 { return (.record, i + 2) }
                return (.record, i + 1)
            }
        }
        if r.0 == .needMore { return .needMore }
        pos = r.1
        line = startLine
        nextLine = startLine + lines + 1
        return r.0
    }
}
