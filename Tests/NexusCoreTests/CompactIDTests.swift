import Testing
import NexusCore
import NexusScaffold

struct CompactIDTests {
    static func encoded(_ s: String) -> [UInt8] {
        let out = ByteBuffer()
        Array(s.utf8).withUnsafeBytes { CompactID.encode($0, into: out) }
        return Array(out.bytes)
    }

    static func decoded(_ e: [UInt8]) -> String {
        let out = ByteBuffer()
        e.withUnsafeBytes { CompactID.decode($0, into: out) }
        return String(decoding: out.bytes, as: UTF8.self)
    }

    @Test func hexTailsAreShorterAndComeBackAsWritten() {
        let id = "ent_edg_d499d15698c3522c332b45bb3398a694"
        let e = CompactIDTests.encoded(id)
        #expect(e.count == 1 + 8 + 16)
        #expect(CompactIDTests.decoded(e) == id)
        // Not a hex tail: kept whole, behind its tag.
        for plain in ["", "x1", "ent_edg_D499D15698C3522C332B45BB3398A694", "ent_edg_d499d15698c3522c332b45bb3398a69", "évt_0123456789abcdef0123456789abcdeg"] {
            let e = CompactIDTests.encoded(plain)
            #expect(e.count == plain.utf8.count + 1, "\(plain)")
            #expect(CompactIDTests.decoded(e) == plain)
        }
    }

    /// Encodings order as the texts they spell, byte by byte, whatever mix of spellings.
    @Test func ordersAsTheTexts() {
        var rng = SeededRandom(seed: 11)
        let prefixes = ["", "e_", "ent_edg_", "ent_tr_", "E_", "e", "ent_edg_0"]
        func hex(_ n: Int) -> String {
            let digits = Array("0123456789abcdef")
            return String((0..<n).map { _ in digits[Int(rng.next() % 16)] })
        }
        var ids: [String] = []
        for _ in 0..<600 {
            let p = prefixes[Int(rng.next() % UInt64(prefixes.count))]
            switch rng.next() % 5 {
            case 0: ids.append(p + hex(32))
            case 1: ids.append(p + hex(31))
            case 2: ids.append(p + hex(33))
            case 3: ids.append(p + hex(32).uppercased())
            default: ids.append(p + "0" + hex(31).replacingOccurrences(of: "f", with: "~"))
            }
        }
        // Near neighbours: equal but for the last digit, or a prefix of another.
        ids += ["a_" + String(repeating: "0", count: 32), "a_" + String(repeating: "0", count: 31) + "1", "a_" + String(repeating: "0", count: 32) + "0"]
        let enc = ids.map(CompactIDTests.encoded)
        for i in 0..<ids.count {
            for j in stride(from: i % 7, to: ids.count, by: 7) {
                let want = Array(ids[i].utf8).lexicographicallyPrecedes(Array(ids[j].utf8)) ? -1 : (ids[i] == ids[j] ? 0 : 1)
                let got = enc[i].withUnsafeBytes { a in enc[j].withUnsafeBytes { b in CompactID.compare(a, b) } }
                #expect(got.signum() == want, "\(ids[i]) vs \(ids[j])")
                #expect((enc[i] == enc[j]) == (ids[i] == ids[j]))
            }
        }
    }
}
