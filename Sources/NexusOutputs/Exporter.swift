import Foundation
import NexusCore
import NexusSQL
import NexusWarehouse

/// Writes relations to CSV or JSON Lines, as Customer.io's APIs want values: timestamps as
/// ISO-8601 UTC (`2025-01-15T10:30:00.000Z`), JSON columns (such as
/// `relationshipAttributes`) as JSON.
///
/// A column is a timestamp when its declared type says so, or when every value in it is a
/// timestamp in nexus's canonical form; it is JSON when every value is a JSON object or
/// array. Rows stream from the warehouse to the file: each column is taken to be of the kind
/// its first value shows, and in the rare relation where a later value says otherwise, the
/// kinds are read from every row and the file is written again. The file appears whole or
/// not at all (written beside it, then renamed).
public struct Exporter {
    public enum Format: String, Sendable, CaseIterable { case csv, jsonl }

    let warehouse: any Warehouse

    public init(warehouse: any Warehouse) { self.warehouse = warehouse }

    enum Kind { case plain, timestamp, json }

    /// Exports `relation` to `directory/relation.(csv|jsonl)`; returns the path and row count.
    @discardableResult
    public func export(_ relation: String, format: Format, to directory: String) throws -> (path: String, rows: Int) {
        guard let declared = try warehouse.columns(of: relation) else {
            let names = try warehouse.relations().map(\.name).filter { !$0.hasPrefix("_nexus") && !$0.hasPrefix("__nexus") }
            throw NexusError("export", "no relation named '\(relation)' (there are: \(names.joined(separator: ", ")))")
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = (directory as NSString).appendingPathComponent("\(relation).\(format.rawValue)")
        let partial = path + ".partial"
        let sql = "SELECT * FROM \(warehouse.dialect.quote(relation))"
        let fixed: [Kind?] = declared.map { ColumnType(declared: $0.declaredType).isTemporal ? .timestamp : nil }
        do {
            let isDeclared = fixed.map { $0 != nil }
            var rows = try write(sql, format: format, kinds: fixed, declared: isDeclared, settled: false, to: partial)
            if rows == nil {
                rows = try write(sql, format: format, kinds: try kinds(sql, fixed: fixed), declared: isDeclared, settled: true, to: partial)
                // Kinds read from every row cannot be contradicted, unless the relation changed
                // between the two reads.
                guard rows != nil else { throw NexusError("export", "\(relation) changed while it was being exported; export it again") }
            }
            if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
            try FileManager.default.moveItem(atPath: partial, toPath: path)
            return (path, rows ?? 0)
        } catch let e as NexusError {
            try? FileManager.default.removeItem(atPath: partial)
            throw e
        } catch {
            try? FileManager.default.removeItem(atPath: partial)
            throw NexusError("export", "cannot write \(path): \(error.localizedDescription)")
        }
    }

    /// Each column's kind from every row: one pass, nothing held but the answer.
    func kinds(_ sql: String, fixed: [Kind?]) throws -> [Kind?] {
        var timestamp: [Bool] = [], json: [Bool] = [], seen: [Bool] = []
        try warehouse.stream(sql) { c in
            if seen.isEmpty { timestamp = Array(repeating: true, count: c.columnCount); json = timestamp; seen = Array(repeating: false, count: c.columnCount) }
            for i in 0..<c.columnCount where (i >= fixed.count || fixed[i] == nil) && (timestamp[i] || json[i]) {
                switch c.storage(i) {
                case .null: continue
                case .text:
                    seen[i] = true
                    c.withBytes(i) { b in
                        if timestamp[i] { timestamp[i] = Exporter.isCanonicalTimestamp(b) }
                        if json[i] { json[i] = Exporter.isJSONContainer(b) }
                    }
                default: seen[i] = true; timestamp[i] = false; json[i] = false
                }
            }
        }
        return seen.indices.map { i in
            if i < fixed.count, let k = fixed[i] { return k }
            return !seen[i] ? .plain : timestamp[i] ? .timestamp : json[i] ? .json : .plain
        }
    }

    /// Streams the rows to `path`. Unless `settled`, a column without a kind takes the one its
    /// first value shows; returns nil when a later value contradicts that. `declared` marks the
    /// columns declared timestamps, whose text that is no timestamp is written as it is.
    func write(_ sql: String, format: Format, kinds start: [Kind?], declared: [Bool], settled: Bool, to path: String) throws -> Int? {
        guard FileManager.default.createFile(atPath: path, contents: nil), let file = FileHandle(forWritingAtPath: path) else {
            throw NexusError("export", "cannot write \(path)")
        }
        defer { try? file.close() }
        var kinds = start
        var out: [UInt8] = []
        out.reserveCapacity(1 << 20)
        var rows = 0
        var contradicted = false
        var names: [[UInt8]] = []
        try warehouse.stream(sql, header: { columns in
            while kinds.count < columns.count { kinds.append(nil) }
            // Each key's JSON text (`"name":`) once, not once per row.
            names = columns.map { name in
                var key: [UInt8] = []
                Array(name.utf8).withUnsafeBytes { JSONText.appendString(&key, $0) }
                return key + [58]
            }
            if format == .csv {
                for (i, n) in columns.enumerated() {
                    if i > 0 { out.append(44) }
                    Array(n.utf8).withUnsafeBytes { Exporter.appendCSV(&out, $0) }
                }
                out.append(10)
            }
        }) { c in
            guard !contradicted else { return }
            if format == .jsonl { out.append(123) }
            for i in 0..<c.columnCount {
                if i > 0 { out.append(44) }
                if format == .jsonl { out.append(contentsOf: names[i]) }
                let storage = c.storage(i)
                if storage == .null {
                    if format == .jsonl { out.append(contentsOf: Exporter.null) }
                    continue
                }
                if kinds[i] == nil {
                    kinds[i] = storage != .text ? .plain : c.withBytes(i) { b in
                        Exporter.isCanonicalTimestamp(b) ? .timestamp : Exporter.isJSONContainer(b) ? .json : .plain
                    }
                }
                let isDeclared = i < declared.count && declared[i]
                switch storage {
                case .integer, .real:
                    // A number in a declared timestamp column is written as it is.
                    if kinds[i] != .plain && !isDeclared { contradicted = true; return }
                    let text: String
                    if storage == .integer { text = String(c.int64(i)) } else {
                        let v = c.double(i)
                        text = format == .jsonl && !v.isFinite ? "null" : String(v)
                    }
                    out.append(contentsOf: text.utf8)
                default:
                    let ok: Bool = c.withBytes(i) { b in
                        switch kinds[i]! {
                        case .timestamp:
                            if let micros = Timestamp.parseCanonical(b) ?? (isDeclared ? Timestamp.parse(b) : nil) {
                                if format == .jsonl { out.append(34) }
                                Timestamp.appendISO(micros, to: &out)
                                if format == .jsonl { out.append(34) }
                            } else if isDeclared {
                                // Declared a timestamp, but text that is none: written as it is.
                                if format == .jsonl { JSONText.appendString(&out, b) } else { Exporter.appendCSV(&out, b) }
                            } else {
                                return false
                            }
                        case .json:
                            guard settled || Exporter.isJSONContainer(b) else { return false }
                            if format == .jsonl { out.append(contentsOf: b) } else { Exporter.appendCSV(&out, b) }
                        case .plain:
                            if format == .jsonl { JSONText.appendString(&out, b) } else { Exporter.appendCSV(&out, b) }
                        }
                        return true
                    }
                    if !ok { contradicted = true; return }
                }
            }
            if format == .jsonl { out.append(125) }
            out.append(10)
            rows += 1
            if out.count >= 1 << 20 { file.write(Data(out)); out.removeAll(keepingCapacity: true) }
        }
        if contradicted { return nil }
        file.write(Data(out))
        return rows
    }

    static let null: [UInt8] = Array("null".utf8)

    static func isCanonicalTimestamp(_ b: UnsafeRawBufferPointer) -> Bool {
        Timestamp.parseCanonical(b) != nil
    }

    /// A JSON object or array, by the same parser the sync payloads use.
    static func isJSONContainer(_ b: UnsafeRawBufferPointer) -> Bool {
        guard let f = b.first, f == 123 || f == 91 else { return false }
        return (try? JSONValue.parse(String(decoding: b, as: UTF8.self))) != nil
    }

    /// A CSV field, quoted when it holds a comma, a quote or a line break.
    static func appendCSV(_ out: inout [UInt8], _ b: UnsafeRawBufferPointer) {
        guard b.contains(where: { $0 == 44 || $0 == 34 || $0 == 10 || $0 == 13 }) else { out.append(contentsOf: b); return }
        out.append(34)
        for c in b {
            if c == 34 { out.append(34) }
            out.append(c)
        }
        out.append(34)
    }
}
