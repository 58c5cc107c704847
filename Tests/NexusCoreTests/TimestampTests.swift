import Testing
@testable import NexusCore
import NexusScaffold

struct TimestampTests {
    @Test(arguments: [
        ("2025-01-15 10:30:00", "2025-01-15 10:30:00"),
        ("2025-01-15T10:30:00.123Z", "2025-01-15 10:30:00.123000"),
        ("2025-01-15T10:30:00+02:00", "2025-01-15 08:30:00"),
        ("2025-01-15T10:30:00-0130", "2025-01-15 12:00:00"),
        ("2025-01-15", "2025-01-15 00:00:00"),
        ("2025-01-15 10:30", "2025-01-15 10:30:00"),
        ("1969-12-31 23:59:59.5", "1969-12-31 23:59:59.500000"),
        ("2024-02-29 00:00:00", "2024-02-29 00:00:00"),
    ])
    func parsesCommonISOForms(input: String, canonical: String) throws {
        let micros = try #require(Timestamp.parse(input))
        #expect(Timestamp.format(micros) == canonical)
    }

    @Test(arguments: ["", "2025-13-01", "2025-02-30", "hello", "2025-01-15X10:30:00", "2025-01-15 25:00:00", "2023-02-29"])
    func rejectsWhatIsNotATimestamp(input: String) {
        #expect(Timestamp.parse(input) == nil)
    }

    @Test func epochAndISOForms() {
        #expect(Timestamp.parse("1970-01-01 00:00:00") == 0)
        #expect(Timestamp.formatISO(1_714_566_600_000_000) == "2024-05-01T12:30:00.000Z")
        #expect(Timestamp.formatMillis(1_714_566_600_123_000) == "2024-05-01 12:30:00.123")
    }

    /// The seed loader stores a value as it is when `isCanonicalSecond` says so; that must be
    /// exactly when parsing and rewriting it gives back the same 19 bytes. The engine's fast
    /// reader of stored timestamps (`parseStored`, with its day cache carried from value to
    /// value) must agree with `parse` on the same strings.
    @Test func fastTimestampPathsAgreeWithParse() {
        var days = Timestamp.DayCache()
        func check(_ s: String) {
            var s = s
            let fast = s.withUTF8 { Timestamp.isCanonicalSecond(UnsafeRawBufferPointer($0)) }
            let slow = s.utf8.count == 19 && Timestamp.parse(s).map(Timestamp.format) == s
            #expect(fast == slow, "\(s)")
            let stored = s.withUTF8 { Timestamp.parseStored(UnsafeRawBufferPointer($0), days: &days) }
            #expect(stored == Timestamp.parse(s), "\(s)")
        }
        for s in ["2025-01-15 10:30:00", "2024-02-29 23:59:59", "2023-02-29 00:00:00", "2025-01-15 23:59:60",
                  "2025-01-15 24:00:00", "2025-01-15 10:60:00", "2025-13-01 00:00:00", "2025-00-10 00:00:00",
                  "2025-01-00 00:00:00", "2025-01-15T10:30:00", "2025-01-15 10:30:0Z", "0000-01-01 00:00:00",
                  "9999-12-31 23:59:59", "2100-02-29 00:00:00", "2000-02-29 00:00:00", " 2025-01-15 10:30:0"] {
            check(s)
        }
        // Random strings over the characters these forms use, biased towards valid shapes.
        var rng = SeededRandom(seed: 42)
        let digits = Array("0123456789"), seps = Array("-: T")
        for _ in 0..<20_000 {
            var chars = Array("2024-02-29 23:59:59")
            for k in 0..<chars.count where rng.next() % 3 == 0 {
                chars[k] = (k == 4 || k == 7 || k == 10 || k == 13 || k == 16) && rng.next() % 4 != 0
                    ? seps[Int(rng.next() % UInt64(seps.count))] : digits[Int(rng.next() % 10)]
            }
            check(String(chars))
        }
    }

    @Test func canonicalTextSortsLikeTime() throws {
        let inputs = ["2025-01-15 10:30:00.5", "2025-01-15 10:30:00", "2025-01-15 10:30:00.123", "2025-01-14 23:59:59.999999"]
        let micros = try inputs.map { try #require(Timestamp.parse($0)) }
        let byText = micros.map(Timestamp.format).sorted()
        let byTime = micros.sorted().map(Timestamp.format)
        #expect(byText == byTime)
    }
}

struct NexusIDTests {
    @Test func matchesDbtNexusIDs() {
        // The example in dbt-nexus.md §3.5: the person whose smallest identifier is email alice@bs.test.
        #expect(NexusID.make("person", ["email", "alice@bs.test"]) == "per_840d16ccb0ca0348891ce697d95c7b45")
        #expect(NexusID.md5Hex("") == "d41d8cd98f00b204e9800998ecf8427e")
    }

    @Test func prefixTable() {
        #expect(NexusID.prefix(for: "person") == "per")
        #expect(NexusID.prefix(for: "group") == "grp")
        #expect(NexusID.prefix(for: "entity_participant") == "ent_prt")
        #expect(NexusID.prefix(for: "relationship") == "rel")
        #expect(NexusID.prefix(for: "task") == "tas")
        #expect(NexusID.prefix(for: "task_identifier") == "tas")
    }

    @Test func md5MatchesRFC1321() {
        // RFC 1321 appendix A.5.
        let vectors = [
            ("", "d41d8cd98f00b204e9800998ecf8427e"), ("a", "0cc175b9c0f1b6a831c399e269772661"),
            ("abc", "900150983cd24fb0d6963f7d28e17f72"), ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
            ("abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"),
            ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f"),
            ("12345678901234567890123456789012345678901234567890123456789012345678901234567890", "57edf4a22be3c955ac49da2e2107b67a"),
        ]
        for (input, digest) in vectors { #expect(NexusID.md5Hex(input) == digest, "md5(\(input))") }
    }

    @Test func md5AtEveryPaddingBoundary() {
        // Bytes (i * 7 + 3) % 256 for i in 0..<n; digests from Python's hashlib. The lengths
        // straddle the one- and two-block tails (55/56, 63/64/65, 119/120) and many blocks.
        let expected: [Int: String] = [
            0: "d41d8cd98f00b204e9800998ecf8427e", 1: "8666683506aacd900bbd5a74ac4edf68", 3: "c9aee4810523ef8658121b8d492c6b41",
            26: "a95d97bd92e42b61b54636e1a99f4cf5", 55: "52c0e574e1198de5fe3f8f11440dcb1b", 56: "46c9907fc908ee68b1e7b8e71286a518",
            57: "1c805dd236c35cab25fcb1bc73802c51", 63: "a62f6d59e837867693f042f5b8f5a236", 64: "7160b8fb5e9e4023d549c3971fbaeead",
            65: "70bd662e7aefbda85a0f7244167b7897", 100: "f85d474760cb48f459327ba2209c185d", 119: "e84905d4214f4d1ca56c2cdcc152b143",
            120: "e3eb5a6c8669ea01a8c185b8abc8a5dc", 127: "acce2474d6cc8302120d09c818d17ef7", 128: "10b2da1a82f16d99a81a7203fe9f02cb",
            129: "03fefbbcebe2959cf2270241aafe0250", 1000: "10046f077f2082ac19676b8079f1cb1a",
        ]
        for (n, digest) in expected {
            let bytes = (0..<n).map { UInt8(($0 * 7 + 3) % 256) }
            #expect(bytes.withUnsafeBytes { NexusID.md5Hex($0) } == digest, "length \(n)")
            // The allocation-free path the engine's ids take: hex written into a caller's buffer.
            var out = [UInt8](repeating: 0, count: 32)
            out.withUnsafeMutableBufferPointer { o in bytes.withUnsafeBytes { MD5.hex($0, into: o.baseAddress!) } }
            #expect(String(decoding: out, as: UTF8.self) == digest)
        }
    }

    /// The sync state stores this prefix: it must stay the digest's first 8 bytes, big-endian.
    @Test func md5PrefixIsTheDigestsFirstEightBytes() {
        for input in ["", "abc", "user:P1|{\"email\":\"a@x.test\"}"] {
            let (hex, prefix) = Array(input.utf8).withUnsafeBytes { NexusID.md5HexAndPrefix($0) }
            #expect(hex == NexusID.md5Hex(input))
            #expect(prefix == UInt64(hex.prefix(16), radix: 16))
        }
    }

    @Test func nullPartsAreSpelledLikeDbtUtils() {
        #expect(NexusID.make("event", [nil, "x"]) == "evt_" + NexusID.md5Hex("_dbt_utils_surrogate_key_null_-x"))
    }
}

struct StringPoolTests {
    @Test func internsAndFindsDistinctStrings() {
        let pool = StringPool(capacity: 4)
        var ids: [Int32] = []
        for i in 0..<5000 { ids.append(pool.intern("value-\(i % 2500)")) }
        #expect(pool.count == 2500)
        #expect(ids[0] == ids[2500])
        #expect(pool.string(ids[1234]) == "value-1234")
        #expect(pool.find("value-7") == ids[7])
        #expect(pool.find("absent") == nil)
        #expect(pool.intern("") == pool.intern(""))
    }

    @Test func comparesInByteOrder() {
        let pool = StringPool()
        let a = pool.intern("a"), ab = pool.intern("ab"), b = pool.intern("b"), upper = pool.intern("B")
        #expect(pool.compare(a, ab) < 0)
        #expect(pool.compare(ab, b) < 0)
        #expect(pool.compare(upper, a) < 0) // 'B' (0x42) sorts before 'a' (0x61)
        #expect(pool.compare(b, b) == 0)
    }
}
