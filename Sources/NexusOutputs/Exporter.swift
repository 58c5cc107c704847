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
/// array. The relation is read into memory (fine for outputs; large syncs stream in `sync`).
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
        let result = try warehouse.query("SELECT * FROM \(warehouse.dialect.quote(relation))")
        let kinds: [Kind] = result.columns.indices.map { i in
            if i < declared.count, ColumnType(declared: declared[i].declaredType).isTemporal { return .timestamp }
            let values = result.rows.compactMap { $0[i].isNull ? nil : $0[i] }
            guard !values.isEmpty else { return .plain }
            if values.allSatisfy({ v in if case .text(let s) = v { return Exporter.isCanonicalTimestamp(s) } else { return false } }) { return .timestamp }
            if values.allSatisfy({ v in if case .text(let s) = v { return Exporter.isJSONContainer(s) } else { return false } }) { return .json }
            return .plain
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = (directory as NSString).appendingPathComponent("\(relation).\(format.rawValue)")
        var out = ""
        switch format {
        case .csv:
            out += result.columns.map(Exporter.csvField).joined(separator: ",") + "\n"
            for row in result.rows {
                out += row.indices.map { i -> String in
                    switch row[i] {
                    case .null: return ""
                    case .text(let s) where kinds[i] == .timestamp: return Exporter.csvField(Exporter.iso(s))
                    default: return Exporter.csvField(row[i].description)
                    }
                }.joined(separator: ",") + "\n"
            }
        case .jsonl:
            for row in result.rows {
                let fields = row.indices.map { i -> String in
                    let key = Exporter.jsonString(result.columns[i])
                    let value: String
                    switch row[i] {
                    case .null: value = "null"
                    case .integer(let v): value = String(v)
                    case .real(let v): value = v.isFinite ? String(v) : "null"
                    case .text(let s):
                        switch kinds[i] {
                        case .timestamp: value = Exporter.jsonString(Exporter.iso(s))
                        case .json: value = s
                        case .plain: value = Exporter.jsonString(s)
                        }
                    }
                    return "\(key):\(value)"
                }
                out += "{" + fields.joined(separator: ",") + "}\n"
            }
        }
        do { try out.write(toFile: path, atomically: true, encoding: .utf8) } catch {
            throw NexusError("export", "cannot write \(path): \(error.localizedDescription)")
        }
        return (path, result.rows.count)
    }

    static func isCanonicalTimestamp(_ s: String) -> Bool { Timestamp.parseCanonical(s) != nil }

    /// A JSON object or array, by the same parser the sync payloads use.
    static func isJSONContainer(_ s: String) -> Bool {
        guard let f = s.first, f == "{" || f == "[" else { return false }
        return (try? JSONValue.parse(s)) != nil
    }

    static func iso(_ s: String) -> String { Timestamp.parse(s).map(Timestamp.formatISO) ?? s }

    static func csvField(_ s: String) -> String {
        if s.contains(",") || s.contains("\"") || s.contains("\n") || s.contains("\r") {
            return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return s
    }

    static func jsonString(_ s: String) -> String { JSONText.string(s) }
}
