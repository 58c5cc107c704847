import Foundation
import Testing
import NexusCore
import NexusSQL
@testable import NexusWarehouse

func tempDir() -> String {
    let d = NSTemporaryDirectory() + "nexus-test-" + UUID().uuidString
    try! FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    return d
}

struct CSVReaderTests {
    func reader(_ text: String, bufferSize: Int = 1 << 20) throws -> CSVReader {
        let p = tempDir() + "/x.csv"
        try text.write(toFile: p, atomically: true, encoding: .utf8)
        return try CSVReader(path: p, bufferSize: bufferSize)
    }

    func records(_ text: String, bufferSize: Int = 1 << 20) throws -> [[String?]] {
        let r = try reader(text, bufferSize: bufferSize)
        var out: [[String?]] = []
        while try r.next() { out.append((0..<r.fieldCount).map { r.string($0) }) }
        return out
    }

    @Test func quotesNewlinesAndNulls() throws {
        let rows = try records("a,b,c\r\n1,\"x, \"\"y\"\"\",\n2,\"multi\nline\",\"\"\n\n3,,z")
        #expect(rows == [["a", "b", "c"], ["1", "x, \"y\"", nil], ["2", "multi\nline", ""], ["3", nil, "z"]])
    }

    @Test func lineNumbersCountPhysicalLines() throws {
        let r = try reader("a,b\n1,\"two\nlines\"\n3,4\n")
        var lines: [Int] = []
        while try r.next() { lines.append(r.line) }
        #expect(lines == [1, 2, 4])
    }

    /// Records straddle every refill when the read buffer starts at a few bytes; each buffer
    /// size must read the same records as the expected ones, byte for byte.
    @Test func tinyBuffersReadTheSameRecords() throws {
        var state: UInt64 = 7
        func rand(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(n))
        }
        let pieces = ["a", "bc", "12", "é", "x y", ""]
        var text = "\u{FEFF}"
        var expected: [[String?]] = []
        for _ in 0..<400 {
            var row: [String?] = []
            var line: [String] = []
            for _ in 0..<(1 + rand(4)) {
                switch rand(5) {
                case 0: row.append(nil); line.append("")
                case 1:
                    let v = pieces[rand(pieces.count)] + ",\"" + pieces[rand(pieces.count)] + "\n" + pieces[rand(pieces.count)]
                    row.append(v); line.append("\"" + v.replacingOccurrences(of: "\"", with: "\"\"") + "\"")
                case 2: row.append(""); line.append("\"\"")
                default:
                    let v = pieces[rand(pieces.count - 1)] + pieces[rand(pieces.count)]
                    row.append(v); line.append(v)
                }
            }
            if row == [nil] { continue }  // a lone empty field is a blank line, which is skipped
            expected.append(row)
            text += line.joined(separator: ",") + ["\n", "\r\n", "\n\n"][rand(3)]
        }
        for size in [4, 5, 7, 16, 31, 1 << 20] {
            #expect(try records(text, bufferSize: size) == expected, "buffer \(size)")
        }
    }

    @Test func recordIsASCIISeesEveryByteOfTheRecord() throws {
        let r = try reader("a,b\n1,\"é\"\n2,3\n")
        var flags: [Bool] = []
        while try r.next() { flags.append(r.recordIsASCII) }
        #expect(flags == [true, false, true])
    }

    @Test func recordsLargerThanTheBufferAreRead() throws {
        let big = String(repeating: "x", count: 3 << 20)
        let rows = try records("a,b\n\"\(big)\",1\n")
        #expect(rows[1][0]?.count == big.count)
        #expect(rows[1][1] == "1")
    }
}

struct SeedLoaderTests {
    func load(_ csv: String, overrides: [String: ColumnType] = [:]) throws -> (SQLiteWarehouse, SeedLoader.Result) {
        let dir = tempDir()
        try csv.write(toFile: dir + "/s.csv", atomically: true, encoding: .utf8)
        let w = try SQLiteWarehouse(path: dir + "/w.sqlite")
        let r = try SeedLoader.load(file: dir + "/s.csv", displayPath: "seeds/s.csv", table: "s", warehouse: w, overrides: overrides)
        return (w, r)
    }

    @Test func infersTypes() throws {
        let (w, r) = try load("""
            id,amount,flag,day,at,code,phone,name
            1,1.5,true,2025-01-01,2025-01-01T10:00:00Z,007,+15551234,Ann
            2,2,false,2025-01-02,2025-01-02 11:00:00+01:00,010,+15551235,Bob
            """)
        #expect(r.columns.map(\.type) == [.integer, .real, .boolean, .date, .timestamp, .text, .text, .text])
        let rows = try w.query("SELECT id, amount, flag, at, code FROM s ORDER BY id").rows
        #expect(rows[0] == [.integer(1), .real(1.5), .integer(1), .text("2025-01-01 10:00:00"), .text("007")])
        #expect(rows[1][3] == .text("2025-01-02 10:00:00"))
        let types = try w.columns(of: "s")!.map(\.declaredType)
        #expect(types == ["INTEGER", "REAL", "BOOLEAN", "DATE", "TIMESTAMP", "TEXT", "TEXT", "TEXT"])
    }

    /// A value bigger than a batch's usual text buffer makes the batch grow, on the way in
    /// (the loader's batches) and on the way out (a pipelined scan's batches).
    @Test func valuesLargerThanABatchBufferPassThrough() throws {
        let big = String(repeating: "y", count: 3 << 20)
        // Text before it in the same batch must survive the move.
        let (w, r) = try load("id,v\n1,a\n2,\(big)\n3,b\n")
        #expect(r.rows == 3)
        #expect(try w.query("SELECT v FROM s WHERE id <> 2 ORDER BY id").rows == [[.text("a")], [.text("b")]])
        #expect(try w.query("SELECT length(v) FROM s WHERE id = 2").rows == [[.integer(3 << 20)]])
        var seen: [String] = []
        try w.scanPipelined("SELECT v FROM s ORDER BY id") { row in seen.append(row.string(0) ?? "NULL") }
        #expect(seen == ["a", big, "b"])
    }

    @Test func aLateValueThatDoesNotFitReloadsAsText() throws {
        var csv = "n\n"
        for i in 0..<(SeedLoader.sampleRows + 50) { csv += "\(i)\n" }
        csv += "n/a\n"
        let (w, r) = try load(csv)
        #expect(r.columns[0].type == .text)
        #expect(r.rows == SeedLoader.sampleRows + 51)
        #expect(try w.query("SELECT count(*) FROM s WHERE n = 'n/a'").rows[0][0] == .integer(1))
    }

    @Test func overridesAreKeptAndEnforced() throws {
        let (_, r) = try load("zip\n12345\n", overrides: ["zip": .text])
        #expect(r.columns[0].type == .text)
        let e = #expect(throws: NexusError.self) { _ = try load("n\n1\nx\n", overrides: ["n": .integer]) }
        #expect(e?.location?.line == 3)
        #expect(e?.location?.columnName == "n")
    }

    @Test func raggedRowNamesItsLine() {
        let e = #expect(throws: NexusError.self) { _ = try load("a,b\n1,2\n3\n") }
        #expect(e?.location?.file == "seeds/s.csv")
        #expect(e?.location?.line == 3)
        #expect(e?.message.contains("1 fields but the header has 2") == true)
    }

    @Test func emptyAndDuplicateHeadersAreErrors() {
        #expect(throws: NexusError.self) { _ = try load("") }
        #expect(throws: NexusError.self) { _ = try load("a,A\n1,2\n") }
    }
}

struct SQLiteFunctionTests {
    @Test func md5AndTimestamps() throws {
        let w = try SQLiteWarehouse(path: ":memory:")
        let r = try w.query("SELECT md5('email-alice@bs.test'), to_timestamp_ntz('2025-01-15T10:30:00Z'), to_timestamp_ntz(0), md5(NULL)").rows[0]
        #expect(r == [.text("840d16ccb0ca0348891ce697d95c7b45"), .text("2025-01-15 10:30:00"), .text("1970-01-01 00:00:00"), .null])
        #expect(throws: NexusError.self) { _ = try w.query("SELECT to_timestamp_ntz('soon')") }
    }

    /// The math functions models use on the other warehouses, with SQLite's math-extension results.
    @Test func mathFunctions() throws {
        let w = try SQLiteWarehouse(path: ":memory:")
        let r = try w.query("""
            SELECT floor(2.7), floor(-2.5), ceil(2.1), ceiling(-2.1), trunc(-2.7), floor(7), ceil('3.5'), ceil('3'),
                   sqrt(16), sqrt(-1), power(2, 10), pow(2, 0.5) = sqrt(2), mod(7, 3), mod(-7.5, 2), mod(1, 0),
                   ln(1), log10(1000), log2(8), log(100), log(2, 8), ln(0), exp(0), floor(NULL), round(pi(), 5)
            """).rows[0]
        #expect(r == [.real(2), .real(-3), .real(3), .real(-2), .real(-2), .integer(7), .real(4), .integer(3),
                      .real(4), .null, .real(1024), .integer(1), .real(1), .real(-1.5), .null,
                      .real(0), .real(3), .real(3), .real(2), .real(3), .null, .real(1), .null, .real(3.14159)])
    }
}

struct ObjectConstructTests {
    @Test func snowflakeSemanticsOnSQLite() throws {
        let w = try SQLiteWarehouse(path: ":memory:")
        let sql = NexusSQL.SQLiteDialect().adapt("""
            SELECT object_construct('b', true, 'f', case when 1 = 2 then true else false end, 'n', 2, 'x', 2.5,
                                    's', 'he said "hi"', 'gone', NULL, 't', to_timestamp_ntz('2025-01-15T10:30:00Z'),
                                    'o', object_construct('k', 'v'), 'one', 1),
                   object_construct_keep_null('gone', NULL),
                   true = 1, 'true'
            """)
        let r = try w.query(sql).rows[0]
        #expect(r[0] == .text(#"{"b":true,"f":false,"n":2,"x":2.5,"s":"he said \"hi\"","t":"2025-01-15 10:30:00.000","o":{"k":"v"},"one":1}"#))
        #expect(r[1] == .text(#"{"gone":null}"#))
        #expect(r[2] == .integer(1))
        #expect(r[3] == .text("true"))
        #expect(throws: NexusError.self) { _ = try w.query("SELECT object_construct('a')") }
    }
}

struct PipelineTests {
    /// Bulk inserts tell SQLite each text value is zero-terminated (so NUMERIC-affinity
    /// columns convert it in place); the value must end where its cell ends, also in batches
    /// reused after earlier rows left other bytes behind.
    @Test func textIntoNumericColumnsEndsAtItsCell() throws {
        let w = try SQLiteWarehouse(path: tempDir() + "/w.sqlite")
        try w.execute("CREATE TABLE t (a NUMERIC, b TEXT, c TIMESTAMP)")
        let n = 20_000
        try w.insertPipelined(into: "t", columns: ["a", "b", "c"]) { sink in
            for i in 0..<n {
                sink.bind(0, String(i))
                sink.bind(1, String(repeating: "9", count: i % 7))
                sink.bind(2, "2025-01-0\(1 + i % 9) 10:00:00")
                try sink.insertRow()
            }
        }
        let r = try w.query("SELECT count(*), sum(a = rowid - 1), sum(typeof(a) = 'integer'), sum(length(b) = (rowid - 1) % 7), sum(c = '2025-01-0' || (1 + (rowid - 1) % 9) || ' 10:00:00') FROM t").rows[0]
        #expect(r == [.integer(Int64(n)), .integer(Int64(n)), .integer(Int64(n)), .integer(Int64(n)), .integer(Int64(n))])
    }
}
