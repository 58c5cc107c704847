import Foundation
import NexusCore
import NexusProject
import NexusWarehouse

/// What the last successful build was made from, kept in the warehouse (`_nexus_state`), so
/// that a run whose inputs have not changed can say "up to date" instead of rebuilding.
///
/// Builds are deterministic, so the same inputs give the same tables. The inputs are the
/// project's files (nexus.yml, models, seeds by size and mtime), nexus's own build format,
/// `SOURCE_DATE_EPOCH`, and the warehouse itself: its change counter must be the one the
/// record expects, so a table changed by any other tool forces a rebuild. The record is
/// written in one transaction, which moves the counter by one: it expects the counter read
/// just before, plus one (a write by anyone else in between makes it untrusted: safe).
/// A warehouse without a change counter (a server) keeps no record.
public struct BuildState: Codable, Equatable {
    /// Bumped when a new nexus may build the same project differently, so that its first run
    /// rebuilds (5: the record moved into the warehouse).
    static let format = "nexus-build-5"
    static let stateName = "build"
    var fingerprint: String
    var changeCounter: UInt32
    /// Rows of each nexus relation, as the build reported them.
    var relationRows: [String: Int]
    /// Each node's fingerprint (its definition and its inputs' fingerprints), by node name:
    /// a node whose fingerprint is unchanged is not rebuilt.
    var nodes: [String: String] = [:]

    static func fingerprint(_ project: Project) throws -> String {
        var parts: [String] = [format, ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"] ?? ""]
        parts.append(try String(contentsOfFile: (project.root as NSString).appendingPathComponent("nexus.yml"), encoding: .utf8))
        for m in project.models {
            parts.append(m.file)
            parts.append(try String(contentsOfFile: (project.root as NSString).appendingPathComponent(m.file), encoding: .utf8))
        }
        for s in project.seeds {
            let a = try FileManager.default.attributesOfItem(atPath: s.absolutePath)
            let size = (a[.size] as? NSNumber)?.int64Value ?? -1
            let mtime = (a[.modificationDate] as? Date)?.timeIntervalSince1970 ?? -1
            parts.append("\(s.file)|\(size)|\(mtime)")
        }
        return NexusID.md5Hex(parts.joined(separator: "\u{1}"))
    }

    /// The last build's record, when the warehouse is still as that build left it.
    static func load(_ warehouse: any Warehouse) -> BuildState? {
        guard let counter = warehouse.changeCounter(), let text = try? warehouse.readState(stateName),
              let state = try? JSONDecoder().decode(BuildState.self, from: Data(text.utf8)), state.changeCounter == counter else { return nil }
        return state
    }

    /// Records this build (a warehouse without a change counter keeps no record), with `log`
    /// in the same transaction: a second one would move the change counter the record expects.
    func save(_ warehouse: any Warehouse, log: BuildLog? = nil) throws {
        var logRecord: (name: String, value: String?)?
        if let log { logRecord = (BuildLog.stateName, try log.json()) }
        guard let before = warehouse.changeCounter() else {
            if let logRecord { try warehouse.writeStates([logRecord]) }
            return
        }
        var state = self
        state.changeCounter = before &+ 1
        let data = try JSONEncoder().encode(state)
        try warehouse.writeStates([(BuildState.stateName, String(decoding: data, as: UTF8.self))] + (logRecord.map { [$0] } ?? []))
        // The record once lived in a file beside the warehouse.
        if let sqlite = warehouse as? SQLiteWarehouse { try? FileManager.default.removeItem(atPath: sqlite.path + ".nexus-state") }
    }

    /// Runs `body`, a write nexus makes to the warehouse outside a build (the sync's state
    /// and log), without making the last build look stale: when the warehouse was as the
    /// build left it before `body`, the record is written again after it.
    public static func preservingBuild<R>(_ warehouse: any Warehouse, _ body: () throws -> R) rethrows -> R {
        let before = load(warehouse)
        defer { if let before { try? before.save(warehouse) } }
        return try body()
    }
}
