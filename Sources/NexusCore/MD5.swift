/// MD5 (RFC 1321), written out for the engine's hot loops: tens of millions of ids are
/// hashed per build, and the hex digest goes straight into the caller's buffer with no
/// allocation. Checked against RFC 1321's test vectors and Python's hashlib in tests.
public enum MD5 {
    @inline(__always) static func rotl(_ x: UInt32, _ s: UInt32) -> UInt32 { (x << s) | (x >> (32 &- s)) }

    /// Updates the state with one 64-byte block at `p`.
    @inline(__always)
    static func block(_ state: inout (UInt32, UInt32, UInt32, UInt32), _ p: UnsafeRawPointer) {
        let x0 = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 0, as: UInt32.self))
        let x1 = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        let x2 = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
        let x3 = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 12, as: UInt32.self))
        let x4 = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 16, as: UInt32.self))
        let x5 = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 20, as: UInt32.self))
        let x6 = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 24, as: UInt32.self))
        let x7 = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 28, as: UInt32.self))
        let x8 = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 32, as: UInt32.self))
        let x9 = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 36, as: UInt32.self))
        let x10 = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 40, as: UInt32.self))
        let x11 = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 44, as: UInt32.self))
        let x12 = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 48, as: UInt32.self))
        let x13 = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 52, as: UInt32.self))
        let x14 = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 56, as: UInt32.self))
        let x15 = UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 60, as: UInt32.self))
        var a = state.0, b = state.1, c = state.2, d = state.3
        a = b &+ rotl(a &+ ((b & c) | (~b & d)) &+ x0 &+ 0xd76aa478, 7)
        d = a &+ rotl(d &+ ((a & b) | (~a & c)) &+ x1 &+ 0xe8c7b756, 12)
        c = d &+ rotl(c &+ ((d & a) | (~d & b)) &+ x2 &+ 0x242070db, 17)
        b = c &+ rotl(b &+ ((c & d) | (~c & a)) &+ x3 &+ 0xc1bdceee, 22)
        a = b &+ rotl(a &+ ((b & c) | (~b & d)) &+ x4 &+ 0xf57c0faf, 7)
        d = a &+ rotl(d &+ ((a & b) | (~a & c)) &+ x5 &+ 0x4787c62a, 12)
        c = d &+ rotl(c &+ ((d & a) | (~d & b)) &+ x6 &+ 0xa8304613, 17)
        b = c &+ rotl(b &+ ((c & d) | (~c & a)) &+ x7 &+ 0xfd469501, 22)
        a = b &+ rotl(a &+ ((b & c) | (~b & d)) &+ x8 &+ 0x698098d8, 7)
        d = a &+ rotl(d &+ ((a & b) | (~a & c)) &+ x9 &+ 0x8b44f7af, 12)
        c = d &+ rotl(c &+ ((d & a) | (~d & b)) &+ x10 &+ 0xffff5bb1, 17)
        b = c &+ rotl(b &+ ((c & d) | (~c & a)) &+ x11 &+ 0x895cd7be, 22)
        a = b &+ rotl(a &+ ((b & c) | (~b & d)) &+ x12 &+ 0x6b901122, 7)
        d = a &+ rotl(d &+ ((a & b) | (~a & c)) &+ x13 &+ 0xfd987193, 12)
        c = d &+ rotl(c &+ ((d & a) | (~d & b)) &+ x14 &+ 0xa679438e, 17)
        b = c &+ rotl(b &+ ((c & d) | (~c & a)) &+ x15 &+ 0x49b40821, 22)
        a = b &+ rotl(a &+ ((d & b) | (~d & c)) &+ x1 &+ 0xf61e2562, 5)
        d = a &+ rotl(d &+ ((c & a) | (~c & b)) &+ x6 &+ 0xc040b340, 9)
        c = d &+ rotl(c &+ ((b & d) | (~b & a)) &+ x11 &+ 0x265e5a51, 14)
        b = c &+ rotl(b &+ ((a & c) | (~a & d)) &+ x0 &+ 0xe9b6c7aa, 20)
        a = b &+ rotl(a &+ ((d & b) | (~d & c)) &+ x5 &+ 0xd62f105d, 5)
        d = a &+ rotl(d &+ ((c & a) | (~c & b)) &+ x10 &+ 0x02441453, 9)
        c = d &+ rotl(c &+ ((b & d) | (~b & a)) &+ x15 &+ 0xd8a1e681, 14)
        b = c &+ rotl(b &+ ((a & c) | (~a & d)) &+ x4 &+ 0xe7d3fbc8, 20)
        a = b &+ rotl(a &+ ((d & b) | (~d & c)) &+ x9 &+ 0x21e1cde6, 5)
        d = a &+ rotl(d &+ ((c & a) | (~c & b)) &+ x14 &+ 0xc33707d6, 9)
        c = d &+ rotl(c &+ ((b & d) | (~b & a)) &+ x3 &+ 0xf4d50d87, 14)
        b = c &+ rotl(b &+ ((a & c) | (~a & d)) &+ x8 &+ 0x455a14ed, 20)
        a = b &+ rotl(a &+ ((d & b) | (~d & c)) &+ x13 &+ 0xa9e3e905, 5)
        d = a &+ rotl(d &+ ((c & a) | (~c & b)) &+ x2 &+ 0xfcefa3f8, 9)
        c = d &+ rotl(c &+ ((b & d) | (~b & a)) &+ x7 &+ 0x676f02d9, 14)
        b = c &+ rotl(b &+ ((a & c) | (~a & d)) &+ x12 &+ 0x8d2a4c8a, 20)
        a = b &+ rotl(a &+ (b ^ c ^ d) &+ x5 &+ 0xfffa3942, 4)
        d = a &+ rotl(d &+ (a ^ b ^ c) &+ x8 &+ 0x8771f681, 11)
        c = d &+ rotl(c &+ (d ^ a ^ b) &+ x11 &+ 0x6d9d6122, 16)
        b = c &+ rotl(b &+ (c ^ d ^ a) &+ x14 &+ 0xfde5380c, 23)
        a = b &+ rotl(a &+ (b ^ c ^ d) &+ x1 &+ 0xa4beea44, 4)
        d = a &+ rotl(d &+ (a ^ b ^ c) &+ x4 &+ 0x4bdecfa9, 11)
        c = d &+ rotl(c &+ (d ^ a ^ b) &+ x7 &+ 0xf6bb4b60, 16)
        b = c &+ rotl(b &+ (c ^ d ^ a) &+ x10 &+ 0xbebfbc70, 23)
        a = b &+ rotl(a &+ (b ^ c ^ d) &+ x13 &+ 0x289b7ec6, 4)
        d = a &+ rotl(d &+ (a ^ b ^ c) &+ x0 &+ 0xeaa127fa, 11)
        c = d &+ rotl(c &+ (d ^ a ^ b) &+ x3 &+ 0xd4ef3085, 16)
        b = c &+ rotl(b &+ (c ^ d ^ a) &+ x6 &+ 0x04881d05, 23)
        a = b &+ rotl(a &+ (b ^ c ^ d) &+ x9 &+ 0xd9d4d039, 4)
        d = a &+ rotl(d &+ (a ^ b ^ c) &+ x12 &+ 0xe6db99e5, 11)
        c = d &+ rotl(c &+ (d ^ a ^ b) &+ x15 &+ 0x1fa27cf8, 16)
        b = c &+ rotl(b &+ (c ^ d ^ a) &+ x2 &+ 0xc4ac5665, 23)
        a = b &+ rotl(a &+ (c ^ (b | ~d)) &+ x0 &+ 0xf4292244, 6)
        d = a &+ rotl(d &+ (b ^ (a | ~c)) &+ x7 &+ 0x432aff97, 10)
        c = d &+ rotl(c &+ (a ^ (d | ~b)) &+ x14 &+ 0xab9423a7, 15)
        b = c &+ rotl(b &+ (d ^ (c | ~a)) &+ x5 &+ 0xfc93a039, 21)
        a = b &+ rotl(a &+ (c ^ (b | ~d)) &+ x12 &+ 0x655b59c3, 6)
        d = a &+ rotl(d &+ (b ^ (a | ~c)) &+ x3 &+ 0x8f0ccc92, 10)
        c = d &+ rotl(c &+ (a ^ (d | ~b)) &+ x10 &+ 0xffeff47d, 15)
        b = c &+ rotl(b &+ (d ^ (c | ~a)) &+ x1 &+ 0x85845dd1, 21)
        a = b &+ rotl(a &+ (c ^ (b | ~d)) &+ x8 &+ 0x6fa87e4f, 6)
        d = a &+ rotl(d &+ (b ^ (a | ~c)) &+ x15 &+ 0xfe2ce6e0, 10)
        c = d &+ rotl(c &+ (a ^ (d | ~b)) &+ x6 &+ 0xa3014314, 15)
        b = c &+ rotl(b &+ (d ^ (c | ~a)) &+ x13 &+ 0x4e0811a1, 21)
        a = b &+ rotl(a &+ (c ^ (b | ~d)) &+ x4 &+ 0xf7537e82, 6)
        d = a &+ rotl(d &+ (b ^ (a | ~c)) &+ x11 &+ 0xbd3af235, 10)
        c = d &+ rotl(c &+ (a ^ (d | ~b)) &+ x2 &+ 0x2ad7d2bb, 15)
        b = c &+ rotl(b &+ (d ^ (c | ~a)) &+ x9 &+ 0xeb86d391, 21)
        state.0 &+= a; state.1 &+= b; state.2 &+= c; state.3 &+= d
    }

    /// The 16-byte digest of `input`, as its four little-endian state words.
    @inline(__always)
    public static func digest(_ input: UnsafeRawBufferPointer) -> (UInt32, UInt32, UInt32, UInt32) {
        var state: (UInt32, UInt32, UInt32, UInt32) = (0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476)
        let n = input.count
        var offset = 0
        if let base = input.baseAddress {
            while offset + 64 <= n { block(&state, base + offset); offset += 64 }
        }
        // The tail, the 0x80 marker and the bit length, in one or two final blocks.
        var tail: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                   UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &tail) { t in
            let rest = n - offset
            if rest > 0 { t.baseAddress!.copyMemory(from: input.baseAddress! + offset, byteCount: rest) }
            t[rest] = 0x80
            let blocks = rest + 9 <= 64 ? 1 : 2
            t.storeBytes(of: (UInt64(n) &* 8).littleEndian, toByteOffset: blocks * 64 - 8, as: UInt64.self)
            block(&state, t.baseAddress!)
            if blocks == 2 { block(&state, t.baseAddress! + 64) }
        }
        return state
    }

    /// Writes the 32 lowercase hex digits of the digest of `input` at `out`.
    @inline(__always)
    public static func hex(_ input: UnsafeRawBufferPointer, into out: UnsafeMutablePointer<UInt8>) {
        hex(digest: digest(input), into: out)
    }

    /// Writes the 32 lowercase hex digits of a digest at `out`.
    @inline(__always)
    public static func hex(digest s: (UInt32, UInt32, UInt32, UInt32), into out: UnsafeMutablePointer<UInt8>) {
        put(s.0, out); put(s.1, out + 8); put(s.2, out + 16); put(s.3, out + 24)
    }

    @inline(__always)
    static func put(_ word: UInt32, _ out: UnsafeMutablePointer<UInt8>) {
        // Little-endian: the word's low byte is the digest's first byte.
        for k in 0..<4 {
            let byte = UInt8(truncatingIfNeeded: word >> (8 * UInt32(k)))
            out[2 * k] = digit(byte >> 4)
            out[2 * k + 1] = digit(byte & 15)
        }
    }

    @inline(__always) static func digit(_ v: UInt8) -> UInt8 { v < 10 ? 48 + v : 87 + v }

    /// The first 8 digest bytes as a big-endian number (for hash tables keyed by digest).
    @inline(__always)
    public static func prefix64(_ s: (UInt32, UInt32, UInt32, UInt32)) -> UInt64 {
        UInt64(s.0.byteSwapped) << 32 | UInt64(s.1.byteSwapped)
    }
}
