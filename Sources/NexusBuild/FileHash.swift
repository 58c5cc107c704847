import Foundation
import NexusCore

/// Content fingerprints of seed files, so that a touched but unchanged seed is not reloaded.
///
/// Two independent 64-bit multiply–xorshift lanes over 8-byte words: not cryptographic (a
/// seed is not an adversary), and several times faster than SHA-256 on 2 cores.
enum FileHash {
    static func hash(path: String) throws -> String {
        guard let f = fopen(path, "rb") else {
            throw NexusError("csv", "cannot open file", at: SourceLocation(file: path))
        }
        defer { fclose(f) }
        let size = 4 << 20
        let buf = UnsafeMutableRawPointer.allocate(byteCount: size + 8, alignment: 8)
        defer { buf.deallocate() }
        var a: UInt64 = 0x243F_6A88_85A3_08D3, b: UInt64 = 0x1319_8A2E_0370_7344
        var total: UInt64 = 0
        while true {
            let got = fread(buf, 1, size, f)
            if got == 0 { break }
            total &+= UInt64(got)
            // Pad the tail to a whole word with zeros; the length goes into the result.
            memset(buf + got, 0, 8)
            var i = 0
            while i < got {
                let w = buf.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                a = (a ^ w) &* 0xFF51_AFD7_ED55_8CCD; a ^= a >> 32
                b = (b ^ (w &+ 0x9E37_79B9_7F4A_7C15)) &* 0xC4CE_B9FE_1A85_EC53; b ^= b >> 29
                i += 8
            }
        }
        a = (a ^ total) &* 0xFF51_AFD7_ED55_8CCD
        func hex(_ v: UInt64) -> String { let s = String(v, radix: 16); return String(repeating: "0", count: 16 - s.count) + s }
        return hex(a) + hex(b)
    }

    /// `hash(path:)` on another thread; `wait()` gives its result.
    final class Job: @unchecked Sendable {
        // Written once on the worker; read only after `done` is signalled.
        private var result: Result<String, any Error>?
        private let done = DispatchSemaphore(value: 0)

        init(path: String) {
            DispatchQueue.global().async { [self] in
                result = Result { try FileHash.hash(path: path) }
                done.signal()
            }
        }

        func wait() throws -> String {
            done.wait()
            return try result!.get()
        }
    }
}
