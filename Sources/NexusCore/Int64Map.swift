/// An open-addressing hash map from non-negative `Int64` keys to `Int32` values.
///
/// The engine keeps one entry per (entity, trait) or similar pair, tens of millions of
/// them; the standard Dictionary's SipHash and per-entry overhead cost several times more.
public struct Int64Map: Sendable {
    private var keys: [Int64]
    private var values: [Int32]
    private var mask: Int
    public private(set) var count = 0

    public init(capacity: Int = 1024) {
        var cap = 16
        while cap < capacity * 2 { cap <<= 1 }
        keys = [Int64](repeating: -1, count: cap)
        values = [Int32](repeating: 0, count: cap)
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
            let k = keys[i]
            if k == key { return values[i] }
            if k < 0 { return nil }
            i = (i + 1) & mask
        }
    }

    /// Sets the value for `key` (a key must be non-negative).
    @inline(__always) public mutating func set(_ key: Int64, _ value: Int32) {
        precondition(key >= 0)
        var i = Int64Map.slot(key, mask)
        while true {
            let k = keys[i]
            if k == key { values[i] = value; return }
            if k < 0 { break }
            i = (i + 1) & mask
        }
        keys[i] = key
        values[i] = value
        count += 1
        if count * 2 > keys.count { grow() }
    }

    private mutating func grow() {
        let oldKeys = keys, oldValues = values
        let cap = keys.count * 2
        keys = [Int64](repeating: -1, count: cap)
        values = [Int32](repeating: 0, count: cap)
        mask = cap - 1
        for j in 0..<oldKeys.count where oldKeys[j] >= 0 {
            var i = Int64Map.slot(oldKeys[j], mask)
            while keys[i] >= 0 { i = (i + 1) & mask }
            keys[i] = oldKeys[j]
            values[i] = oldValues[j]
        }
    }
}
