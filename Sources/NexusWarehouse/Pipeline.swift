import CSQLite
import Foundation
import NexusCore

/// Rows held in flat buffers, passed between two threads so that SQLite's work (stepping,
/// building records) and the engine's work (hashing, interning) run on both cores at once.
public final class RowBatch: @unchecked Sendable {
    public let columns: Int
    public let capacity: Int
    // Raw buffers: these are touched for every cell, and arrays or a buffer object would
    // cost ARC traffic there.
    let tags: UnsafeMutablePointer<UInt8>      // 0 NULL, 1 integer, 2 real, 3 text
    let words: UnsafeMutablePointer<Int64>     // integer bits, real bits, or text offset
    let lengths: UnsafeMutablePointer<Int32>   // text length
    var data: UnsafeMutablePointer<UInt8>      // text bytes
    var dataCount = 0
    var dataCapacity: Int
    public internal(set) var rows = 0

    static let dataLimit = (1 << 20) - (1 << 17)

    init(columns: Int, capacity: Int) {
        self.columns = columns
        self.capacity = capacity
        tags = .allocate(capacity: columns * capacity)
        tags.initialize(repeating: 0, count: columns * capacity)
        words = .allocate(capacity: columns * capacity)
        words.initialize(repeating: 0, count: columns * capacity)
        lengths = .allocate(capacity: columns * capacity)
        lengths.initialize(repeating: 0, count: columns * capacity)
        dataCapacity = 1 << 20
        data = ByteBuffer.allocateBytes(dataCapacity)
    }

    deinit {
        tags.deallocate(); words.deallocate(); lengths.deallocate(); ByteBuffer.freeBytes(data)
    }

    /// Full by rows, or by bytes (about 1 MiB), so that batches stay cache- and memory-friendly.
    var isFull: Bool { rows >= capacity || dataCount > RowBatch.dataLimit }

    func reset() { dataCount = 0; rows = 0 }

    /// Room for `extra` more text bytes (a single long value can exceed the usual size).
    @inline(__always) func reserve(_ extra: Int) {
        if dataCount + extra <= dataCapacity { return }
        (data, dataCapacity) = ByteBuffer.enlarge(data, used: dataCount, capacity: dataCapacity, toFit: extra)
    }

    @inline(__always) func putText(_ k: Int, _ p: UnsafeRawBufferPointer) {
        reserve(p.count)
        tags[k] = 3; words[k] = Int64(dataCount); lengths[k] = Int32(p.count)
        if p.count > 0 { (data + dataCount).update(from: p.baseAddress!.assumingMemoryBound(to: UInt8.self), count: p.count) }
        dataCount += p.count
    }
}

/// One row of a batch, read on the consuming thread; same accessors as a cursor.
public struct BatchRow {
    // Inlinable: the engine (another module) reads tens of millions of cells through these.
    @usableFromInline let tags: UnsafeMutablePointer<UInt8>
    @usableFromInline let words: UnsafeMutablePointer<Int64>
    @usableFromInline let lengths: UnsafeMutablePointer<Int32>
    @usableFromInline let bytes: UnsafeMutablePointer<UInt8>

    init(batch: RowBatch, base: Int) {
        tags = batch.tags + base; words = batch.words + base; lengths = batch.lengths + base; bytes = batch.data
    }

    init(tags: UnsafeMutablePointer<UInt8>, words: UnsafeMutablePointer<Int64>, lengths: UnsafeMutablePointer<Int32>, bytes: UnsafeMutablePointer<UInt8>) {
        self.tags = tags; self.words = words; self.lengths = lengths; self.bytes = bytes
    }

    @inlinable @inline(__always) func text(_ i: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: bytes + Int(words[i]), count: Int(lengths[i]))
    }

    @inlinable @inline(__always) public func isNull(_ i: Int) -> Bool { tags[i] == 0 }
    @inline(__always) public func int64(_ i: Int) -> Int64 {
        switch tags[i] {
        case 1: return words[i]
        case 2: return Int64(Double(bitPattern: UInt64(bitPattern: words[i])))
        case 3: return Int64(String(decoding: text(i), as: UTF8.self)) ?? 0
        default: return 0
        }
    }
    @inlinable @inline(__always) public func withBytes<R>(_ i: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(bytes(i))
    }
    /// The value as text bytes (numbers rendered as text); empty for NULL. Valid while the row is current.
    @inlinable @inline(__always) public func bytes(_ i: Int) -> UnsafeRawBufferPointer {
        tags[i] == 3 ? text(i) : UnsafeRawBufferPointer(start: nil, count: 0)
    }
    public func string(_ i: Int) -> String? {
        switch tags[i] {
        case 0: return nil
        case 1: return String(words[i])
        case 2: return String(Double(bitPattern: UInt64(bitPattern: words[i])))
        default: return String(decoding: text(i), as: UTF8.self)
        }
    }
}

/// Hands batches from one thread to another through a small bounded queue.
final class BatchChannel: @unchecked Sendable {
    private let lock = NSCondition()
    private var full: [RowBatch] = []
    private var empty: [RowBatch]
    private var closed = false
    var failure: (any Error)?

    init(columns: Int, capacity: Int, count: Int = 3) {
        empty = (0..<count).map { _ in RowBatch(columns: columns, capacity: capacity) }
    }

    /// An empty batch to fill, or nil once the exchange is closed.
    func takeEmpty() -> RowBatch? {
        lock.lock(); defer { lock.unlock() }
        while empty.isEmpty && !closed { lock.wait() }
        if closed { return nil }
        let b = empty.removeLast(); b.reset(); return b
    }

    func putFull(_ b: RowBatch) {
        lock.lock(); full.append(b); lock.broadcast(); lock.unlock()
    }

    func takeFull() -> RowBatch? {
        lock.lock(); defer { lock.unlock() }
        while full.isEmpty && !closed { lock.wait() }
        if full.isEmpty { return nil }
        return full.removeFirst()
    }

    func putEmpty(_ b: RowBatch) {
        lock.lock(); empty.append(b); lock.broadcast(); lock.unlock()
    }

    /// Ends the exchange (no more batches will be produced), optionally with an error.
    func close(_ error: (any Error)? = nil) {
        lock.lock()
        if let error, failure == nil { failure = error }
        closed = true
        lock.broadcast()
        lock.unlock()
    }
}

/// The producing side of a pipelined insert: same binding calls as a bulk writer.
///
/// It holds the current batch's buffers as raw pointers, so that binding a cell touches no
/// reference count (that was a tenth of the engine's time).
public final class BatchSink: @unchecked Sendable {
    let channel: BatchChannel
    var batch: RowBatch
    var rowBase = 0
    var tags: UnsafeMutablePointer<UInt8>
    var words: UnsafeMutablePointer<Int64>
    var lengths: UnsafeMutablePointer<Int32>
    var data: UnsafeMutablePointer<UInt8>
    var dataCount = 0
    var dataCapacity: Int
    var rows = 0
    let columns: Int
    let capacity: Int

    init(channel: BatchChannel, batch: RowBatch) {
        self.channel = channel; self.batch = batch
        tags = batch.tags; words = batch.words; lengths = batch.lengths
        data = batch.data; dataCapacity = batch.dataCapacity
        columns = batch.columns; capacity = batch.capacity
    }

    /// Copies a text cell into the batch, followed by a zero byte: SQLite is then told the
    /// text is zero-terminated (`SQLITE_UTF8_ZT`), so that a column of NUMERIC affinity
    /// (TIMESTAMP, BOOLEAN) tries its number conversion in place instead of on a copy of
    /// every value.
    @inline(__always) func putText(_ k: Int, _ p: UnsafeRawBufferPointer) {
        if dataCount + p.count + 1 > dataCapacity {
            batch.dataCount = dataCount
            batch.reserve(p.count + 1)
            data = batch.data; dataCapacity = batch.dataCapacity
        }
        tags[k] = 3; words[k] = Int64(dataCount); lengths[k] = Int32(p.count)
        if p.count > 0 { (data + dataCount).update(from: p.baseAddress!.assumingMemoryBound(to: UInt8.self), count: p.count) }
        data[dataCount + p.count] = 0
        dataCount += p.count + 1
    }

    /// Writes the sink's counters back to the batch before it is handed over.
    func seal() { batch.rows = rows; batch.dataCount = dataCount }

    @inline(__always) public func bindNull(_ i: Int) { tags[rowBase + i] = 0 }
    @inline(__always) public func bind(_ i: Int, _ v: Int64) { tags[rowBase + i] = 1; words[rowBase + i] = v }
    @inline(__always) public func bind(_ i: Int, _ v: Double) { tags[rowBase + i] = 2; words[rowBase + i] = Int64(bitPattern: v.bitPattern) }
    @inline(__always) public func bind(_ i: Int, bytes: UnsafeRawBufferPointer) { putText(rowBase + i, bytes) }
    @inline(__always) public func bindStatic(_ i: Int, bytes: UnsafeRawBufferPointer) { putText(rowBase + i, bytes) }
    public func bind(_ i: Int, _ v: String?) {
        guard var v else { bindNull(i); return }
        v.withUTF8 { putText(rowBase + i, UnsafeRawBufferPointer($0)) }
    }

    /// Ends the row; hands the batch over when it is full.
    @inline(__always) public func insertRow() throws {
        rows += 1
        rowBase += columns
        if rows >= capacity || dataCount > RowBatch.dataLimit { try handOver() }
    }

    func handOver() throws {
        seal()
        channel.putFull(batch)
        guard let next = channel.takeEmpty() else { throw channel.failure ?? NexusError("engine", "the writer stopped") }
        batch = next
        tags = next.tags; words = next.words; lengths = next.lengths
        data = next.data; dataCapacity = next.dataCapacity
        dataCount = 0; rows = 0; rowBase = 0
    }
}

/// The two-thread part of pipelined loads and scans, shared by every warehouse: one thread
/// works on the warehouse's connection, the other on the rows, with batches in between.
enum BatchPipeline {
    /// Rows produced by `produce` on the calling thread, handed in batches to `consume` on a
    /// second thread (the warehouse's side). `consume` throwing stops the producer.
    static func insert(columns n: Int, label: String, consume: @escaping (RowBatch) throws -> Void,
                       produce: (BatchSink) throws -> Void) throws {
        let channel = BatchChannel(columns: n, capacity: 4096)
        let done = DispatchSemaphore(value: 0)
        let consumer = UncheckedBox(consume)
        let traceStart = (ThreadTrace.wall(), ThreadTrace.cpu())
        let otherCPU = UncheckedBox(CPUBox())
        let writer = Thread {
            defer { otherCPU.value.seconds = ThreadTrace.cpu(); done.signal() }
            while let b = channel.takeFull() {
                do { try consumer.value(b) } catch { channel.close(error); return }
                channel.putEmpty(b)
            }
        }
        writer.stackSize = 1 << 22
        writer.start()
        guard let first = channel.takeEmpty() else { throw NexusError("engine", "the writer stopped") }
        let sink = BatchSink(channel: channel, batch: first)
        do {
            try produce(sink)
            sink.seal()
            if sink.batch.rows > 0 { channel.putFull(sink.batch) }
            channel.close()
        } catch {
            channel.close(error)
            done.wait()
            throw channel.failure ?? error
        }
        done.wait()
        if let failure = channel.failure { throw failure }
        ThreadTrace.report("insert \(label)", wall: ThreadTrace.wall() - traceStart.0, main: ThreadTrace.cpu() - traceStart.1, other: otherCPU.value.seconds)
    }

    /// Rows read by `fill` on a second thread (the warehouse's side) into the channel's
    /// batches, handed to `body` on the calling thread. `fill` takes empty batches with
    /// `takeEmpty`, hands full ones with `putFull`, and ends with `close` (with an error when
    /// the read failed); it stops when `takeEmpty` returns nil.
    static func scan(columns n: Int, fill: @escaping (BatchChannel) -> Void, _ body: (BatchRow) throws -> Void) throws {
        let channel = BatchChannel(columns: n, capacity: 4096)
        let done = DispatchSemaphore(value: 0)
        let filler = UncheckedBox(fill)
        let traceStart = (ThreadTrace.wall(), ThreadTrace.cpu())
        let otherCPU = UncheckedBox(CPUBox())
        let reader = Thread {
            defer { otherCPU.value.seconds = ThreadTrace.cpu(); done.signal() }
            filler.value(channel)
        }
        reader.stackSize = 1 << 22
        reader.start()
        do {
            while let b = channel.takeFull() {
                for r in 0..<b.rows { try body(BatchRow(batch: b, base: r * n)) }
                channel.putEmpty(b)
            }
        } catch {
            channel.close(error)
            // Let the reader see the close and stop before its statement is finished.
            while channel.takeFull() != nil {}
            done.wait()
            throw error
        }
        done.wait()
        if let failure = channel.failure { throw failure }
        ThreadTrace.report("scan", wall: ThreadTrace.wall() - traceStart.0, main: ThreadTrace.cpu() - traceStart.1, other: otherCPU.value.seconds)
    }
}

extension SQLiteWarehouse {
    /// Inserts rows produced by `produce` (on the calling thread) from a second thread that
    /// does the SQLite work, in one transaction.
    public func insertPipelined(into table: String, columns: [String], _ produce: (BatchSink) throws -> Void) throws {
        let n = columns.count
        let cols = columns.map { dialect.quote($0) }.joined(separator: ", ")
        let tuple = "(" + Array(repeating: "?", count: n).joined(separator: ", ") + ")"
        // Several rows per INSERT: fewer statement steps per row, and SQLite's per-statement
        // work is shared. Remainders go through the single-row statement.
        let perStatement = max(1, min(32, 2_000 / max(1, n)))
        let single = try prepare("INSERT INTO \(dialect.quote(table)) (\(cols)) VALUES \(tuple)")
        defer { sqlite3_finalize(single) }
        let multi = try prepare("INSERT INTO \(dialect.quote(table)) (\(cols)) VALUES " + Array(repeating: tuple, count: perStatement).joined(separator: ", "))
        defer { sqlite3_finalize(multi) }
        let statements = UncheckedBox((single, multi))
        try transaction {
            @inline(__always) func bind(_ stmt: OpaquePointer, _ b: RowBatch, row r: Int, at offset: Int) {
                let base = r * n
                for c in 0..<n {
                    let k = base + c
                    let slot = Int32(offset + c + 1)
                    switch b.tags[k] {
                    case 0: sqlite3_bind_null(stmt, slot)
                    case 1: sqlite3_bind_int64(stmt, slot, b.words[k])
                    case 2: sqlite3_bind_double(stmt, slot, Double(bitPattern: UInt64(bitPattern: b.words[k])))
                    default:
                        // The sink wrote a zero byte after the text (BatchSink.putText).
                        sqlite3_bind_text64(stmt, slot, UnsafeRawPointer(b.data + Int(b.words[k])).assumingMemoryBound(to: CChar.self), UInt64(b.lengths[k]), nil, UInt8(SQLITE_UTF8_ZT))
                    }
                }
            }
            try BatchPipeline.insert(columns: n, label: table, consume: { [self] b in
                let (single, multi) = statements.value
                var r = 0
                while r < b.rows {
                    let stmt: OpaquePointer
                    if b.rows - r >= perStatement {
                        for j in 0..<perStatement { bind(multi, b, row: r + j, at: j * n) }
                        stmt = multi
                        r += perStatement
                    } else {
                        bind(single, b, row: r, at: 0)
                        stmt = single
                        r += 1
                    }
                    let rc = sqlite3_step(stmt)
                    sqlite3_reset(stmt)
                    if rc != SQLITE_DONE { throw NexusError("sql", self.lastError) }
                }
            }, produce: produce)
        }
    }

    /// Streams the rows of a query through `body` on the calling thread while a second thread
    /// steps the statement and copies rows into batches.
    public func scanPipelined(_ sql: String, _ body: (BatchRow) throws -> Void) throws {
        let stmt = try prepare(sql)
        defer { sqlite3_finalize(stmt) }
        let n = Int(sqlite3_column_count(stmt))
        let statement = UncheckedBox(stmt)
        try BatchPipeline.scan(columns: n, fill: { [self] channel in
            let stmt = statement.value
            guard var b = channel.takeEmpty() else { return }
            while true {
                let rc = sqlite3_step(stmt)
                if rc == SQLITE_DONE { break }
                if rc != SQLITE_ROW { channel.close(SQLiteWarehouse.error(self.lastError)); return }
                let base = b.rows * n
                for c in 0..<n {
                    let k = base + c
                    // One column fetch, then the value's own accessors: each sqlite3_column_*
                    // call pays the statement's checks again (a third of this thread's time).
                    // The connection is used by this thread alone while it steps.
                    let v = sqlite3_column_value(stmt, Int32(c))
                    switch sqlite3_value_type(v) {
                    case SQLITE_NULL: b.tags[k] = 0
                    case SQLITE_INTEGER: b.tags[k] = 1; b.words[k] = sqlite3_value_int64(v)
                    case SQLITE_FLOAT:
                        let d = sqlite3_value_double(v)
                        b.tags[k] = 2; b.words[k] = Int64(bitPattern: d.bitPattern)
                    default:
                        let p = sqlite3_value_text(v)
                        let len = Int(sqlite3_value_bytes(v))
                        b.putText(k, UnsafeRawBufferPointer(start: p, count: len))
                    }
                }
                b.rows += 1
                if b.isFull {
                    channel.putFull(b)
                    guard let next = channel.takeEmpty() else { return }
                    b = next
                }
            }
            if b.rows > 0 { channel.putFull(b) }
            channel.close()
        }, body)
    }
}

final class CPUBox: @unchecked Sendable { var seconds = 0.0 }

/// Per-thread CPU seconds of pipelined scans and inserts, printed to stderr when
/// `NEXUS_TRACE_THREADS` is set: which side of a pipeline bounds it.
enum ThreadTrace {
    static let enabled = ProcessInfo.processInfo.environment["NEXUS_TRACE_THREADS"] != nil
    static func cpu() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
    static func wall() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
    static func report(_ what: String, wall: Double, main: Double, other: Double) {
        guard enabled else { return }
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        FileHandle.standardError.write(String(format: "    [trace] %@: wall %.2f s, engine thread %.2f s cpu, sqlite thread %.2f s cpu, peak %.2f GB\n", what, wall, main, other, Double(usage.ru_maxrss) / 1_048_576).data(using: .utf8)!)
    }
}

/// Each statement a warehouse runs with its time, on stderr, when `NEXUS_TRACE_SQL` is set:
/// which statement of a step takes the time (values are never part of the text shown).
enum StatementTrace {
    static let enabled = ProcessInfo.processInfo.environment["NEXUS_TRACE_SQL"] != nil
    static func start() -> Double { enabled ? ThreadTrace.wall() : 0 }
    static func end(_ started: Double, _ sql: String) {
        guard enabled else { return }
        let text = sql.split(whereSeparator: { $0 == "\n" }).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
        FileHandle.standardError.write(String(format: "    [sql] %.2f s: %@\n", ThreadTrace.wall() - started, String(text.prefix(160))).data(using: .utf8)!)
    }
}

/// Carries a value the compiler cannot prove Sendable across a thread we fully control.
struct UncheckedBox<T>: @unchecked Sendable { let value: T; init(_ v: T) { value = v } }
