import Foundation
import NexusCore

#if canImport(Glibc)
import Glibc
#endif

// Bulk paths: COPY in for loads, COPY out for the native engine's scans, CREATE TABLE AS.
extension PostgresWarehouse {
    public func createTable(_ table: String, as select: String) throws -> Int {
        // PostgreSQL types the new table's columns from the query itself.
        try executeCounting(try createTableStatements(table, as: select)[0])
    }

    public func createTable(_ table: String, columns: [(name: String, type: String)], as select: String) throws -> Int {
        try execute("CREATE TABLE \(dialect.quote(table)) (\(columns.map { "\(dialect.quote($0.name)) \($0.type)" }.joined(separator: ", ")))")
        return try executeCounting("INSERT INTO \(dialect.quote(table)) \(select)")
    }

    // MARK: COPY in

    /// Starts `COPY table (columns) FROM STDIN` (text format).
    func beginCopyIn(_ table: String, _ columns: [String]) throws {
        let sql = "COPY \(dialect.quote(table)) (\(columns.map { dialect.quote($0) }.joined(separator: ", "))) FROM STDIN"
        guard let start = pq.exec(conn, sql) else { throw failure(nil) }
        defer { pq.clear(start) }
        guard pq.resultStatus(start) == LibPQ.copyIn else { throw failure(start) }
    }

    /// Sends what `buffer` holds and empties it.
    func sendCopyData(_ buffer: inout [UInt8]) throws {
        guard !buffer.isEmpty else { return }
        let ok = buffer.withUnsafeBufferPointer { b in
            b.baseAddress!.withMemoryRebound(to: CChar.self, capacity: b.count) { pq.putCopyData(conn, $0, Int32(b.count)) }
        }
        buffer.removeAll(keepingCapacity: true)
        guard ok == 1 else { throw failure(nil) }
    }

    /// Ends the COPY (aborting it when the rows failed: the server then keeps none of them),
    /// reads its outcome, and throws the first failure.
    func endCopyIn(failed: Error?) throws {
        _ = failed == nil ? pq.putCopyEnd(conn, nil) : pq.putCopyEnd(conn, "nexus stopped the load")
        var serverError: Error?
        while let result = pq.getResult(conn) {
            if pq.resultStatus(result) != LibPQ.commandOK, serverError == nil { serverError = failure(result) }
            pq.clear(result)
        }
        if let failed { throw failed }
        if let serverError { throw serverError }
    }

    /// Appends one value in COPY's text format (backslash, tab, newline and carriage return escaped).
    @inline(__always)
    static func appendCopyText(_ bytes: UnsafeRawBufferPointer, to buffer: inout [UInt8]) {
        for b in bytes {
            switch b {
            case 92: buffer.append(92); buffer.append(92)
            case 9: buffer.append(92); buffer.append(116)
            case 10: buffer.append(92); buffer.append(110)
            case 13: buffer.append(92); buffer.append(114)
            default: buffer.append(b)
            }
        }
    }

    static func copyText(_ d: Double) -> String {
        d.isFinite ? String(d) : (d.isNaN ? "NaN" : (d > 0 ? "Infinity" : "-Infinity"))
    }

    /// Loads rows with COPY: `rows` calls `send` with each row's values, NULL as nil.
    /// Returns the rows loaded. (The same COPY path as `insertPipelined`, with text values.)
    @discardableResult
    public func copy(into table: String, columns: [String], _ rows: (_ send: ([String?]) throws -> Void) throws -> Void) throws -> Int {
        var count = 0
        try insertPipelined(into: table, columns: columns) { sink in
            try rows { values in
                guard values.count == columns.count else {
                    throw NexusError("warehouse", "COPY into \(table): a row has \(values.count) values for \(columns.count) columns")
                }
                for (i, v) in values.enumerated() { sink.bind(i, v) }
                try sink.insertRow()
                count += 1
            }
        }
        return count
    }

    /// Bulk load through COPY: the batches `produce` fills are written as COPY text on a
    /// second thread. COPY is all or nothing: a failure leaves no row behind.
    public func insertPipelined(into table: String, columns: [String], _ produce: (BatchSink) throws -> Void) throws {
        try beginCopyIn(table, columns)
        let n = columns.count
        var failed: Error?
        do {
            let buffer = UncheckedBox(CopyBuffer())
            try BatchPipeline.insert(columns: n, label: table, consume: { [self] b in
                let out = buffer.value
                for r in 0..<b.rows {
                    let base = r * n
                    for c in 0..<n {
                        if c > 0 { out.bytes.append(9) }
                        let k = base + c
                        switch b.tags[k] {
                        case 0: out.bytes.append(92); out.bytes.append(78)
                        case 1: out.appendDecimal(b.words[k])
                        case 2: out.bytes.append(contentsOf: PostgresWarehouse.copyText(Double(bitPattern: UInt64(bitPattern: b.words[k]))).utf8)
                        default:
                            PostgresWarehouse.appendCopyText(UnsafeRawBufferPointer(start: b.data + Int(b.words[k]), count: Int(b.lengths[k])), to: &out.bytes)
                        }
                    }
                    out.bytes.append(10)
                }
                if out.bytes.count >= 1 << 20 { try sendCopyData(&out.bytes) }
            }, produce: { sink in
                try produce(sink)
            })
            try sendCopyData(&buffer.value.bytes)
        } catch {
            failed = error
        }
        try endCopyIn(failed: failed)
    }

    // MARK: COPY out

    /// Streams a query's rows through `COPY (query) TO STDOUT` on a second thread; values are
    /// typed by the query's column types (numbers and booleans as numbers, the rest as text).
    public func scanPipelined(_ sql: String, _ body: (BatchRow) throws -> Void) throws {
        // The column types, from the query's description (no rows are produced).
        guard let probe = pq.exec(conn, "SELECT * FROM (\(sql)) AS nexus_probe LIMIT 0") else { throw failure(nil) }
        guard pq.resultStatus(probe) == LibPQ.tuplesOK else {
            let error = failure(probe)
            pq.clear(probe)
            throw error
        }
        let n = Int(pq.nfields(probe))
        let kinds: [CopyKind] = (0..<Int32(n)).map { CopyKind(oid: pq.ftype(probe, $0)) }
        pq.clear(probe)
        guard let start = pq.exec(conn, "COPY (\(sql)) TO STDOUT") else { throw failure(nil) }
        guard pq.resultStatus(start) == LibPQ.copyOut else {
            let error = failure(start)
            pq.clear(start)
            throw error
        }
        pq.clear(start)
        try BatchPipeline.scan(columns: n, fill: { [self] channel in
            var stopped = false
            var b = channel.takeEmpty()
            if b == nil { stopped = true }
            var field: [UInt8] = []
            while true {
                var line: UnsafeMutablePointer<CChar>?
                let len = pq.getCopyData(conn, &line, 0)
                if len == -1 { break }
                if len < 0 {
                    if !stopped { channel.close(failure(nil)); stopped = true }
                    break
                }
                defer { pq.freemem(line) }
                // A consumer that stopped early: the rest of the COPY is read and dropped, so
                // that the connection is ready for the next statement.
                guard !stopped, let batch = b, let line else { continue }
                let row = UnsafeRawBufferPointer(start: line, count: Int(len))
                PostgresWarehouse.parseCopyRow(row, into: batch, columns: n, kinds: kinds, scratch: &field)
                batch.rows += 1
                if batch.isFull {
                    channel.putFull(batch)
                    b = channel.takeEmpty()
                    if b == nil { stopped = true }
                }
            }
            var serverError: NexusError?
            while let result = pq.getResult(conn) {
                if pq.resultStatus(result) != LibPQ.commandOK, serverError == nil { serverError = failure(result) }
                pq.clear(result)
            }
            if stopped { return }
            if let batch = b, batch.rows > 0 { channel.putFull(batch) }
            channel.close(serverError)
        }, body)
    }

    /// How a COPY text value of a column type becomes a batch value.
    enum CopyKind {
        case text, integer, real, numeric, boolean
        // Type OIDs (pg_type): int8 20, int2 21, int4 23, oid 26, float4 700, float8 701, numeric 1700, bool 16.
        init(oid: UInt32) {
            switch oid {
            case 20, 21, 23, 26: self = .integer
            case 700, 701: self = .real
            case 1700: self = .numeric
            case 16: self = .boolean
            default: self = .text
            }
        }
    }

    /// Splits one COPY text row (ending in a newline) into the batch's next row.
    static func parseCopyRow(_ row: UnsafeRawBufferPointer, into b: RowBatch, columns n: Int, kinds: [CopyKind], scratch: inout [UInt8]) {
        var end = row.count
        if end > 0, row[end - 1] == 10 { end -= 1 }
        let base = b.rows * n
        var start = 0
        var c = 0
        while c < n {
            var i = start
            var escaped = false
            while i < end, row[i] != 9 {
                if row[i] == 92 { escaped = true; i += 1 }
                i += 1
            }
            let raw = UnsafeRawBufferPointer(rebasing: row[start..<min(i, end)])
            let k = base + c
            if raw.count == 2, raw[0] == 92, raw[1] == 78 {
                b.tags[k] = 0
            } else if escaped {
                scratch.removeAll(keepingCapacity: true)
                var j = 0
                while j < raw.count {
                    var byte = raw[j]
                    if byte == 92, j + 1 < raw.count {
                        j += 1
                        switch raw[j] {
                        case 110: byte = 10
                        case 116: byte = 9
                        case 114: byte = 13
                        case 98: byte = 8
                        case 102: byte = 12
                        case 118: byte = 11
                        default: byte = raw[j]
                        }
                    }
                    scratch.append(byte)
                    j += 1
                }
                scratch.withUnsafeBytes { put($0, kinds[c], b, k) }
            } else {
                put(raw, kinds[c], b, k)
            }
            start = i + 1
            c += 1
        }
    }

    @inline(__always)
    static func put(_ v: UnsafeRawBufferPointer, _ kind: CopyKind, _ b: RowBatch, _ k: Int) {
        switch kind {
        case .boolean:
            b.tags[k] = 1; b.words[k] = v.first == 116 ? 1 : 0
        case .integer:
            if let n = Int64(String(decoding: v, as: UTF8.self)) { b.tags[k] = 1; b.words[k] = n } else { b.putText(k, v) }
        case .real, .numeric:
            let text = String(decoding: v, as: UTF8.self)
            if kind == .numeric, !v.contains(where: { $0 == 46 || $0 == 101 || $0 == 69 }), let n = Int64(text) {
                b.tags[k] = 1; b.words[k] = n
            } else if let d = Double(text) {
                b.tags[k] = 2; b.words[k] = Int64(bitPattern: d.bitPattern)
            } else {
                b.putText(k, v)
            }
        case .text:
            b.putText(k, v)
        }
    }
}

/// COPY text being assembled on the writer thread.
final class CopyBuffer {
    var bytes: [UInt8] = []
    init() { bytes.reserveCapacity(1 << 20 + 4096) }

    /// Appends `v` in decimal, without allocating (booleans come as 1 and 0 in every row).
    @inline(__always) func appendDecimal(_ v: Int64) {
        if v < 0 { bytes.append(45) }
        var m = v.magnitude
        let start = bytes.count
        repeat { bytes.append(UInt8(48 + m % 10)); m /= 10 } while m > 0
        bytes[start...].reverse()
    }
}
