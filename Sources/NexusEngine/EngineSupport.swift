import NexusCore
import NexusSQL
import NexusWarehouse

#if canImport(Glibc)
import Glibc
#endif

/// Binds pooled string `id`, or NULL for a negative id.
@inline(__always)
func bindPooled(_ ins: BatchSink, _ i: Int, _ pool: StringPool, _ id: Int32) {
    if id < 0 { ins.bindNull(i) } else { ins.bind(i, bytes: pool.bytes(id)) }
}

@inline(__always)
func compareBytes(_ a: UnsafeRawBufferPointer, _ s: String) -> Int {
    var s = s
    return s.withUTF8 { compareBytes(a, UnsafeRawBufferPointer($0)) }
}

@inline(__always)
func equalBytes(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    a.count == b.count && (a.count == 0 || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0)
}

@inline(__always)
func compareBytes(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
    let n = min(a.count, b.count)
    if n > 0 {
        let c = memcmp(a.baseAddress!, b.baseAddress!, n)
        if c != 0 { return Int(c) }
    }
    return a.count - b.count
}

/// Moves an array out of its place, leaving it empty (so the moved copy stays unique).
@inline(__always)
func take<T>(_ a: inout [T]) -> [T] {
    var out: [T] = []
    swap(&out, &a)
    return out
}

/// Formats timestamps for binding, remembering the last one: rows sorted by entity or event
/// repeat the same instant often.
final class TimestampWriter {
    let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: 32)
    var last = Int64.min
    var length = 0

    deinit { buffer.deallocate() }

    @inline(__always) func bind(_ w: BatchSink, _ i: Int, _ micros: Int64) {
        if micros == NativeEngine.missing || micros == Int64.max { w.bindNull(i); return }
        if micros != last { length = Timestamp.write(micros, into: buffer); last = micros }
        w.bind(i, bytes: UnsafeRawBufferPointer(start: buffer, count: length))
    }
}

/// Builds `<prefix>_<md5 hex>` ids in one reused buffer: the prefix is written once, each id
/// costs one md5 and no allocation.
final class IDMaker {
    let buffer: UnsafeMutablePointer<UInt8>
    let start: Int
    /// The input being assembled for the next id.
    let input = ByteBuffer(capacity: 256)

    init(kind: String) {
        let prefix = Array(NexusID.prefix(for: kind).utf8) + [95]
        start = prefix.count
        buffer = .allocate(capacity: start + 32)
        buffer.initialize(from: prefix, count: start)
    }

    deinit { buffer.deallocate() }

    /// The id of the bytes assembled in `input`; valid until the next call.
    @inline(__always) func make() -> UnsafeRawBufferPointer {
        MD5.hex(input.bytes, into: buffer + start)
        return UnsafeRawBufferPointer(start: buffer, count: start + 32)
    }

    /// The id of three parts joined by '-', a NULL part (id < 0) spelled as dbt_utils does.
    @inline(__always) func make(_ p1: StringPool, _ i1: Int32, _ p2: StringPool, _ i2: Int32,
                                _ p3: StringPool, _ i3: Int32) -> UnsafeRawBufferPointer {
        input.removeAll()
        part(p1, i1); input.append(45); part(p2, i2); input.append(45); part(p3, i3)
        return make()
    }

    /// The id of three byte strings joined by '-'.
    @inline(__always) func make(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer, _ c: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        input.removeAll()
        input.append(contentsOf: a); input.append(45); input.append(contentsOf: b); input.append(45); input.append(contentsOf: c)
        return make()
    }

    static let nullToken = Array(NexusID.nullToken.utf8)

    @inline(__always) func part(_ pool: StringPool, _ id: Int32) {
        if id < 0 { IDMaker.nullToken.withUnsafeBytes { input.append(contentsOf: $0) } } else { input.append(contentsOf: pool.bytes(id)) }
    }
}
