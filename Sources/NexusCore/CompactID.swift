#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A shorter spelling, for the engine's memory, of ids that end in 32 lowercase hex digits
/// (what `create_nexus_id` and md5 make: `ent_edg_d499…a694`, 40 bytes, becomes 25).
///
/// Encoded: tag `1`, the text before the digits, then the digits as 16 bytes; any other
/// text is tag `0` and its bytes. Each text has exactly one spelling, so interning and
/// equality work on the encoded bytes, and `compare` gives the order of the texts
/// themselves (lowercase hex digits sort as the nibbles they spell), so tie-breaks on ids
/// stay exact.
public enum CompactID {
    @usableFromInline @inline(__always)
    static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: return c - 48
        case 97...102: return c - 87
        default: return nil
        }
    }

    /// Appends the encoding of `raw` to `out`.
    @inlinable
    public static func encode(_ raw: UnsafeRawBufferPointer, into out: ByteBuffer) {
        if let packed = hexTailStart(raw) {
            out.append(1)
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[0..<packed]))
            var i = packed
            while i < raw.count {
                out.append(nibble(raw[i])! << 4 | nibble(raw[i + 1])!)
                i += 2
            }
        } else {
            out.append(0)
            out.append(contentsOf: raw)
        }
    }

    /// Where the last 32 bytes start when they are all lowercase hex digits.
    @inlinable
    static func hexTailStart(_ raw: UnsafeRawBufferPointer) -> Int? {
        guard raw.count >= 32 else { return nil }
        let start = raw.count - 32
        for i in start..<raw.count where nibble(raw[i]) == nil { return nil }
        return start
    }

    /// Appends the text that `encoded` spells to `out`.
    public static func decode(_ encoded: UnsafeRawBufferPointer, into out: ByteBuffer) {
        guard encoded.count > 0 else { return }
        let body = UnsafeRawBufferPointer(rebasing: encoded[1...])
        if encoded[0] == 0 { out.append(contentsOf: body); return }
        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: body[0..<(body.count - 16)]))
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        for b in body[(body.count - 16)...] {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
    }

    /// Byte-order comparison of the texts two encodings spell: negative, zero or positive.
    public static func compare(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
        if a.count > 0, b.count > 0, a[0] == b[0], a[0] == 0 || a.count == b.count {
            // Same tag, and for packed ids prefixes of one length: the encodings compare as
            // the texts do (the tag byte is equal).
            let n = min(a.count, b.count)
            let c = memcmp(a.baseAddress!, b.baseAddress!, n)
            return c != 0 ? Int(c) : a.count - b.count
        }
        let da = ByteBuffer(capacity: a.count * 2 + 16), db = ByteBuffer(capacity: b.count * 2 + 16)
        decode(a, into: da)
        decode(b, into: db)
        let n = min(da.count, db.count)
        let c = n == 0 ? 0 : memcmp(da.base, db.base, n)
        return c != 0 ? Int(c) : da.count - db.count
    }
}
