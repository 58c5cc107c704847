import Testing
@testable import NexusCore

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

    @Test func nullPartsAreSpelledLikeDbtUtils() {
        #expect(NexusID.make("event", [nil, "x"]) == "evt_" + NexusID.md5Hex("_dbt_utils_surrogate_key_null_-x"))
    }
}

struct StringPoolTests {
    @Test func internsAndFindsDistinctStrings() {
        var pool = StringPool(capacity: 4)
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
        var pool = StringPool()
        let a = pool.intern("a"), ab = pool.intern("ab"), b = pool.intern("b"), upper = pool.intern("B")
        #expect(pool.compare(a, ab) < 0)
        #expect(pool.compare(ab, b) < 0)
        #expect(pool.compare(upper, a) < 0) // 'B' (0x42) sorts before 'a' (0x61)
        #expect(pool.compare(b, b) == 0)
    }
}
