/// Interns byte strings into one contiguous buffer and gives each distinct string a dense id.
///
/// The engine holds tens of millions of identifiers, edge ids and event ids; as Swift
/// `String`s each would be a heap object. Here each costs its bytes plus about 16 bytes.
public final class StringPool: @unchecked Sendable {
    // Raw storage, so that a string's bytes stay at one address until the pool grows:
    // writers can hand them to SQLite without copying.
    @usableFromInline let storage: ByteBuffer
    @usableFromInline var ends: [Int] = []
    // Each slot packs the string's 32-bit hash with its id + 1 (0 = empty), so that a probe
    // costs one memory access before the bytes are compared; the slot index comes from the
    // same 32 bits, so growing the table never rereads the strings.
    @usableFromInline var table: [UInt64]
    @usableFromInline var mask: Int

    public init(capacity: Int = 1024) {
        storage = ByteBuffer(capacity: max(64, capacity * 16))
        var cap = 16
        while cap < capacity * 2 { cap <<= 1 }
        table = [UInt64](repeating: 0, count: cap)
        mask = cap - 1
        ends.reserveCapacity(capacity)
    }

    /// Number of distinct strings.
    @inlinable public var count: Int { ends.count }

    /// Bytes held, for memory reports.
    public var byteCount: Int { storage.count }

    @inlinable @inline(__always)
    static func slot(_ h32: UInt32, _ mask: Int) -> Int { Int(h32 &* 0x9E37_79B1) & mask }

    @inlinable @inline(__always)
    static func hash(_ p: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(p.count)
        var i = 0
        let n = p.count
        while i + 8 <= n {
            let w = p.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            h = (h ^ w) &* 0xFF51_AFD7_ED55_8CCD
            h ^= h >> 32
            i += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < n { tail |= UInt64(p[i]) << shift; shift += 8; i += 1 }
        h = (h ^ tail) &* 0xC4CE_B9FE_1A85_EC53
        h ^= h >> 29
        return h
    }

    @inlinable @inline(__always)
    func start(_ id: Int) -> Int { id == 0 ? 0 : ends[id - 1] }

    @inlinable @inline(__always)
    func equals(_ id: Int, _ p: UnsafeRawBufferPointer) -> Bool {
        let s = start(id), e = ends[id]
        guard e - s == p.count else { return false }
        if p.count == 0 { return true }
        return memcmp(storage.base + s, p.baseAddress!, p.count) == 0
    }

    /// The id of these bytes, adding them when new.
    @inlinable @inline(__always)
    public func intern(_ p: UnsafeRawBufferPointer) -> Int32 {
        let h32 = UInt32(truncatingIfNeeded: StringPool.hash(p) >> 32)
        var slot = StringPool.slot(h32, mask)
        while true {
            let entry = table[slot]
            if entry == 0 { break }
            if UInt32(truncatingIfNeeded: entry >> 32) == h32 {
                let id = Int32(truncatingIfNeeded: entry & 0xFFFF_FFFF) - 1
                if equals(Int(id), p) { return id }
            }
            slot = (slot + 1) & mask
        }
        let id = Int32(ends.count)
        storage.append(contentsOf: p)
        ends.append(storage.count)
        table[slot] = UInt64(h32) << 32 | UInt64(id + 1)
        if ends.count * 2 > table.count { grow() }
        return id
    }

    /// The id of a Swift string, adding it when new.
    public func intern(_ s: String) -> Int32 {
        var s = s
        return s.withUTF8 { intern(UnsafeRawBufferPointer($0)) }
    }

    /// The id of these bytes, or nil when they were never interned.
    @inlinable @inline(__always)
    public func find(_ p: UnsafeRawBufferPointer) -> Int32? {
        let h32 = UInt32(truncatingIfNeeded: StringPool.hash(p) >> 32)
        var slot = StringPool.slot(h32, mask)
        while true {
            let entry = table[slot]
            if entry == 0 { return nil }
            if UInt32(truncatingIfNeeded: entry >> 32) == h32 {
                let id = Int32(truncatingIfNeeded: entry & 0xFFFF_FFFF) - 1
                if equals(Int(id), p) { return id }
            }
            slot = (slot + 1) & mask
        }
    }

    public func find(_ s: String) -> Int32? {
        var s = s
        return s.withUTF8 { find(UnsafeRawBufferPointer($0)) }
    }

    @usableFromInline func grow() {
        let cap = table.count * 2
        var t = [UInt64](repeating: 0, count: cap)
        let m = cap - 1
        for entry in table where entry != 0 {
            var slot = StringPool.slot(UInt32(truncatingIfNeeded: entry >> 32), m)
            while t[slot] != 0 { slot = (slot + 1) & m }
            t[slot] = entry
        }
        table = t
        mask = m
    }

    /// Frees the lookup table once no string will be added or looked up again (the strings
    /// stay readable by id): at 1,000,000 persons the events pool's table is 134 MB.
    public func dropLookup() {
        table = [0]
        mask = 0
    }

    /// Calls `body` with the bytes of string `id`.
    @inlinable @inline(__always)
    public func withBytes<R>(_ id: Int32, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(bytes(id))
    }

    /// The bytes of string `id`; valid until the next `intern` that adds a string.
    @inlinable @inline(__always)
    public func bytes(_ id: Int32) -> UnsafeRawBufferPointer {
        let s = start(Int(id)), e = ends[Int(id)]
        return UnsafeRawBufferPointer(start: storage.base + s, count: e - s)
    }

    /// String `id` as a Swift string.
    public func string(_ id: Int32) -> String {
        withBytes(id) { String(decoding: $0, as: UTF8.self) }
    }

    /// Byte-order comparison of two interned strings: negative, zero or positive.
    @inlinable @inline(__always)
    public func compare(_ a: Int32, _ b: Int32) -> Int {
        if a == b { return 0 }
        let sa = start(Int(a)), ea = ends[Int(a)], sb = start(Int(b)), eb = ends[Int(b)]
        let la = ea - sa, lb = eb - sb
        let n = min(la, lb)
        let c = n == 0 ? 0 : memcmp(storage.base + sa, storage.base + sb, n)
        if c != 0 { return Int(c) }
        return la - lb
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
