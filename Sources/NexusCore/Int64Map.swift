/// An open-addressing hash map from non-negative `Int64` keys to `Int32` values.
///
/// The engine keeps one entry per (entity, trait) or similar pair, tens of millions of
/// them; the standard Dictionary's SipHash and per-entry overhead cost several times more.
public struct Int64Map: Sendable {
    // Key and value side by side: a lookup touches one cache line, not two.
    private struct Slot { var key: Int64; var value: Int32 }
    private var slots: [Slot]
    private var mask: Int
    public private(set) var count = 0

    public init(capacity: Int = 1024) {
        var cap = 16
        while cap * 3 < capacity * 4 { cap <<= 1 }
        slots = [Slot](repeating: Slot(key: -1, value: 0), count: cap)
        mask = cap - 1
    }

    @inline(__always) private static func slot(_ key: Int64, _ mask: Int) -> Int {
        var h = UInt64(bitPattern: key) &* 0x9E37_79B9_7F4A_7C15
        h ^= h >> 31
        return Int(truncatingIfNeeded: h) & mask
    }

    /// The value for `key`, or nil.
    @inline(__always) public func get(_ key: Int64) -> Int32? {
        var i = Int64Map.slot(key, mask)
        while true {
            let s = slots[i]
            if s.key == key { return s.value }
            if s.key < 0 { return nil }
            i = (i + 1) & mask
        }
    }

    /// Sets the value for `key` (a key must be non-negative).
    @inline(__always) public mutating func set(_ key: Int64, _ value: Int32) {
        precondition(key >= 0)
        var i = Int64Map.slot(key, mask)
        while true {
            let k = slots[i].key
            if k == key { slots[i].value = value; return }
            if k < 0 { break }
            i = (i + 1) & mask
        }
        slots[i] = Slot(key: key, value: value)
        count += 1
        // Up to three quarters full: linear probing stays short, and the table half the size.
        if count * 4 > slots.count * 3 { grow() }
    }

    private mutating func grow() {
        let old = slots
        let cap = slots.count * 2
        slots = [Slot](repeating: Slot(key: -1, value: 0), count: cap)
        mask = cap - 1
        for s in old where s.key >= 0 {
            var i = Int64Map.slot(s.key, mask)
            while slots[i].key >= 0 { i = (i + 1) & mask }
            slots[i] = s
        }
    }
}
