/// Hands every row a seed load binds to a second consumer as well, projected onto the
/// consumer's columns and filtered as a core view over the seed filters it.
///
/// The engine reads the core relations right after the seeds load; taking the rows from
/// the loader instead of reading them back from SQLite saves decoding tens of millions of
/// rows. The rows are the values the loader binds, which are the values SQLite stores for
/// a seed whose columns kept their inferred types (the runner checks that before it uses
/// what the consumer read).
public final class SeedTee {
    let columns: [String]
    let filterColumn: String
    let filterValues: [[UInt8]]?
    let body: (BatchRow) throws -> Void
    /// True when the load started again with other column types after the consumer had seen
    /// rows: what it read is not what was stored, and must be discarded.
    public internal(set) var broken = false
    var map: [Int] = []
    var filterIndex = -1
    let tags: UnsafeMutablePointer<UInt8>
    let words: UnsafeMutablePointer<Int64>
    let lengths: UnsafeMutablePointer<Int32>

    /// - Parameters:
    ///   - columns: the consumer's columns, in its order; a column the seed lacks reads as NULL.
    ///   - keeping: when set, only rows whose `filterColumn` is one of these texts are handed over.
    public init(columns: [String], filterColumn: String = "entity_type", keeping: [String]?, body: @escaping (BatchRow) throws -> Void) {
        self.columns = columns.map { $0.lowercased() }
        self.filterColumn = filterColumn.lowercased()
        filterValues = keeping.map { $0.map { Array($0.utf8) } }
        self.body = body
        tags = .allocate(capacity: max(1, columns.count))
        tags.initialize(repeating: 0, count: max(1, columns.count))
        words = .allocate(capacity: max(1, columns.count))
        words.initialize(repeating: 0, count: max(1, columns.count))
        lengths = .allocate(capacity: max(1, columns.count))
        lengths.initialize(repeating: 0, count: max(1, columns.count))
    }

    deinit { tags.deallocate(); words.deallocate(); lengths.deallocate() }

    func start(header: [String]) {
        let lower = header.map { $0.lowercased() }
        map = columns.map { lower.firstIndex(of: $0) ?? -1 }
        filterIndex = filterValues == nil ? -1 : (lower.firstIndex(of: filterColumn) ?? -2)
    }

    /// Hands over the row `sink` has just bound (before it is inserted).
    @inline(__always) func feed(_ sink: BatchSink) throws {
        if broken { return }
        let base = sink.rowBase
        if filterIndex != -1 {
            // `entity_type IN (…)`: NULL, a missing column or another value drops the row.
            guard filterIndex >= 0, sink.tags[base + filterIndex] == 3, let keep = filterValues else { return }
            let p = UnsafeRawBufferPointer(start: sink.data + Int(sink.words[base + filterIndex]), count: Int(sink.lengths[base + filterIndex]))
            guard keep.contains(where: { $0.elementsEqual(p) }) else { return }
        }
        for (j, c) in map.enumerated() {
            if c < 0 { tags[j] = 0; continue }
            tags[j] = sink.tags[base + c]; words[j] = sink.words[base + c]; lengths[j] = sink.lengths[base + c]
        }
        try body(BatchRow(tags: tags, words: words, lengths: lengths, bytes: sink.data))
    }
}
