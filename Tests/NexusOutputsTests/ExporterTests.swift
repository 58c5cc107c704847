import Foundation
import NexusCore
import NexusOutputs
import NexusWarehouse
import Testing

/// Export streams rows to the file; a column takes the kind of its first value, and when a
/// later value contradicts it the kinds are read from every row and the file written again.
struct ExporterTests {
    func warehouse() throws -> (SQLiteWarehouse, String) {
        let dir = NSTemporaryDirectory() + "nexus-export-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return (try SQLiteWarehouse(path: dir + "/w.sqlite"), dir)
    }

    func export(_ w: SQLiteWarehouse, _ dir: String, _ relation: String, _ format: Exporter.Format) throws -> String {
        let r = try Exporter(warehouse: w).export(relation, format: format, to: dir + "/out")
        #expect(!FileManager.default.fileExists(atPath: r.path + ".partial"))
        return try String(contentsOfFile: r.path, encoding: .utf8)
    }

    @Test func kindsFromEveryRow() throws {
        let (w, dir) = try warehouse()
        try w.execute("""
            CREATE TABLE t (k INTEGER, ts TEXT, late TEXT, j TEXT, badj TEXT, mixed, declared TIMESTAMP);
            INSERT INTO t VALUES (1, '2025-01-15 10:30:00', '2025-01-15 10:30:00', '{"a":1}', '[1]', 5, '2025-01-15T10:30:00+01:00');
            INSERT INTO t VALUES (2, NULL, 'not a time', '[true]', 'x,y', 'five', 'someday');
            INSERT INTO t VALUES (3, '2025-01-16 00:00:00.250000', NULL, NULL, NULL, NULL, NULL);
            """)
        #expect(try export(w, dir, "t", .jsonl) == """
            {"k":1,"ts":"2025-01-15T10:30:00.000Z","late":"2025-01-15 10:30:00","j":{"a":1},"badj":"[1]","mixed":5,"declared":"2025-01-15T09:30:00.000Z"}
            {"k":2,"ts":null,"late":"not a time","j":[true],"badj":"x,y","mixed":"five","declared":"someday"}
            {"k":3,"ts":"2025-01-16T00:00:00.250Z","late":null,"j":null,"badj":null,"mixed":null,"declared":null}

            """)
        #expect(try export(w, dir, "t", .csv) == """
            k,ts,late,j,badj,mixed,declared
            1,2025-01-15T10:30:00.000Z,2025-01-15 10:30:00,"{""a"":1}",[1],5,2025-01-15T09:30:00.000Z
            2,,not a time,[true],"x,y",five,someday
            3,2025-01-16T00:00:00.250Z,,,,,

            """)
    }

    /// A number in a column declared a timestamp is written as it is, as the in-memory export
    /// did, not taken for a contradiction (which no second pass could settle).
    @Test func aNumberInADeclaredTimestampColumn() throws {
        let (w, dir) = try warehouse()
        try w.execute("""
            CREATE TABLE n (k INTEGER, at TIMESTAMP);
            INSERT INTO n VALUES (1, '2025-01-15 10:30:00'), (2, 1700000000), (3, 'later');
            """)
        #expect(try export(w, dir, "n", .jsonl) == """
            {"k":1,"at":"2025-01-15T10:30:00.000Z"}
            {"k":2,"at":1700000000}
            {"k":3,"at":"later"}

            """)
    }

    @Test func anEmptyRelationHasItsHeader() throws {
        let (w, dir) = try warehouse()
        try w.execute("CREATE TABLE e (\"userId\" TEXT, n REAL)")
        #expect(try export(w, dir, "e", .csv) == "userId,n\n")
        #expect(try export(w, dir, "e", .jsonl) == "")
        #expect(throws: NexusError.self) { _ = try Exporter(warehouse: w).export("nope", format: .csv, to: dir) }
    }
}
