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
    // Raw storage rather than an array: the parse loop touches every byte of every seed, and
    // unquoted fields are handed out as pointers into it (no copy) until the next record.
    private var buf: UnsafeMutablePointer<UInt8>
    private var bufCapacity: Int
    private var pos = 0
    private var end = 0
    private var eof = false
    private var nextLine = 1
    private var firstRead = true

    /// Line on which the current record starts (1-based).
    public private(set) var line = 0
    /// Number of fields in the current record.
    public private(set) var fieldCount = 0
    // Quoted fields, unescaped; unquoted fields stay in `buf`. Both stay put while the
    // record is current, so a loader can bind them to SQLite without copying.
    private let scratch = ByteBuffer(capacity: 1 << 16)
    private var starts: UnsafeMutablePointer<Int>   // offset in `buf`, or in `scratch` when quoted
    private var lengths: UnsafeMutablePointer<Int>
    private var quoted: UnsafeMutablePointer<Bool>
    private var fieldCapacity = 64
    private var recordStart = 0
    private var recordEnd = 0

    public convenience init(path: String, displayPath: String? = nil) throws {
        try self.init(path: path, displayPath: displayPath, bufferSize: 1 << 20)
    }

    /// `bufferSize` is the starting read buffer (it grows to hold the longest record); tests
    /// make it tiny so that records straddle every refill.
    init(path: String, displayPath: String? = nil, bufferSize: Int) throws {
        guard let f = fopen(path, "rb") else {
            throw NexusError("csv", "cannot open file", at: SourceLocation(file: displayPath ?? path))
        }
        file = f
        self.path = displayPath ?? path
        bufCapacity = max(4, bufferSize)
        buf = ByteBuffer.allocateBytes(bufCapacity)
        starts = .allocate(capacity: fieldCapacity)
        lengths = .allocate(capacity: fieldCapacity)
        quoted = .allocate(capacity: fieldCapacity)
    }

    deinit {
        fclose(file)
        ByteBuffer.freeBytes(buf); starts.deallocate(); lengths.deallocate(); quoted.deallocate()
    }

    /// True when every byte of the current record is ASCII (then it is valid UTF-8).
    public var recordIsASCII: Bool {
        let p = buf + recordStart, n = recordEnd - recordStart
        var i = 0
        while i + 8 <= n {
            if UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { return false }
            i += 8
        }
        while i < n { if p[i] >= 0x80 { return false }; i += 1 }
        return true
    }

    /// True when field `i` is NULL (unquoted and empty).
    @inline(__always) public func isNull(_ i: Int) -> Bool { lengths[i] == 0 && !quoted[i] }

    /// Calls `body` with the bytes of field `i`.
    @inline(__always)
    public func withField<R>(_ i: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(field(i))
    }

    /// The bytes of field `i`; valid until the next call to `next()`.
    @inline(__always)
    public func field(_ i: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: (quoted[i] ? scratch.base : buf) + starts[i], count: lengths[i])
    }

    /// Field `i` as a string, nil when NULL.
    public func string(_ i: Int) -> String? {
        if isNull(i) { return nil }
        return withField(i) { String(decoding: $0, as: UTF8.self) }
    }

    private func fill() {
        if pos > 0 {
            let remaining = end - pos
            if remaining > 0 { memmove(buf, buf + pos, remaining) }
            end = remaining
            pos = 0
        }
        if end == bufCapacity {
            (buf, bufCapacity) = ByteBuffer.enlarge(buf, used: end, capacity: bufCapacity, toFit: 1)
        }
        let got = fread(buf + end, 1, bufCapacity - end, file)
        if got == 0 { eof = true }
        end += got
        if firstRead {
            firstRead = false
            // Skip a UTF-8 byte-order mark.
            if end >= 3, buf[0] == 0xEF, buf[1] == 0xBB, buf[2] == 0xBF { pos = 3 }
        }
    }

    private func error(_ message: String, line: Int) -> NexusError {
        NexusError("csv", message, at: SourceLocation(file: path, line: line))
    }

    /// Reads the next record. Returns false at the end of the file. Blank lines are skipped.
    public func next() throws -> Bool {
        while true {
            if pos >= end && !eof { fill() }
            if pos >= end && eof { return false }
            switch try parseRecord() {
            case .needMore: fill()
            case .blank: continue
            case .record: return true
            }
        }
    }

    private enum ParseResult { case needMore, blank, record }

    @inline(__always) private func addField(_ start: Int, _ length: Int, quoted q: Bool) {
        if fieldCount == fieldCapacity {
            let cap = fieldCapacity * 2
            let s = UnsafeMutablePointer<Int>.allocate(capacity: cap), l = UnsafeMutablePointer<Int>.allocate(capacity: cap)
            let f = UnsafeMutablePointer<Bool>.allocate(capacity: cap)
            s.update(from: starts, count: fieldCount); l.update(from: lengths, count: fieldCount); f.update(from: quoted, count: fieldCount)
            starts.deallocate(); lengths.deallocate(); quoted.deallocate()
            starts = s; lengths = l; quoted = f; fieldCapacity = cap
        }
        starts[fieldCount] = start; lengths[fieldCount] = length; quoted[fieldCount] = q
        fieldCount += 1
    }

    private func parseRecord() throws -> ParseResult {
        scratch.removeAll()
        fieldCount = 0
        var lines = 0
        let startLine = nextLine
        let b = buf, end = self.end, eof = self.eof
        var i = pos
        var result = ParseResult.record
        // A blank line is skipped.
        if b[i] == 10 {
            i += 1; result = .blank
        } else if b[i] == 13 {
            guard i + 1 < end || eof else { return .needMore }
            i += (i + 1 < end && b[i + 1] == 10) ? 2 : 1
            result = .blank
        } else {
            fields: while true {
                // At the start of a field.
                if i < end && b[i] == 34 {
                    i += 1
                    let fieldStart = scratch.count
                    while true {
                        guard i < end else {
                            if eof { throw error("unterminated quoted field", line: startLine) }
                            return .needMore
                        }
                        if b[i] == 34 {
                            guard i + 1 < end || eof else { return .needMore }
                            if i + 1 < end && b[i + 1] == 34 { scratch.append(34); i += 2; continue }
                            i += 1
                            break
                        }
                        // Copy the run up to the next quote in one go.
                        var j = i
                        while j < end && b[j] != 34 { if b[j] == 10 { lines += 1 }; j += 1 }
                        scratch.append(contentsOf: UnsafeRawBufferPointer(start: b + i, count: j - i))
                        i = j
                    }
                    addField(fieldStart, scratch.count - fieldStart, quoted: true)
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
                    if i >= end && !eof { return .needMore }
                    addField(s, i - s, quoted: false)
                }
                // After a field.
                if i >= end {
                    if !eof { return .needMore }
                    recordEnd = i
                    break fields
                }
                let c = b[i]
                if c == 44 { i += 1; continue }
                recordEnd = i
                if c == 10 { i += 1; break fields }
                // CR or CRLF
                if i + 1 >= end && !eof { return .needMore }
                i += (i + 1 < end && b[i + 1] == 10) ? 2 : 1
                break fields
            }
        }
        recordStart = pos
        pos = i
        line = startLine
        nextLine = startLine + lines + 1
        return result
    }
}
