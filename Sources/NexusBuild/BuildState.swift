import Foundation
import NexusCore
import NexusProject

/// What the last successful build was made from, kept beside the warehouse file, so that a
/// run whose inputs have not changed can say "up to date" instead of rebuilding.
///
/// Builds are deterministic, so the same inputs give the same tables. The inputs are the
/// project's files (nexus.yml, models, seeds by size and mtime), nexus's own build format,
/// `SOURCE_DATE_EPOCH`, and the warehouse itself: SQLite's file change counter (header
/// bytes 24–27, bumped by every committed write in rollback-journal mode) must be the one
/// recorded after the last build, so a table changed by any other tool forces a rebuild.
public struct BuildState: Codable, Equatable {
    /// Bumped when a new nexus may build the same project differently, so that its first run
    /// rebuilds (3: SQLite 3.54 from sqlite-nio, where a double-quoted string is an identifier).
    static let format = "nexus-build-4"
    var fingerprint: String
    var changeCounter: UInt32
    /// Rows of each nexus relation, as the build reported them.
    var relationRows: [String: Int]
    /// Each node's fingerprint (its definition and its inputs' fingerprints), by node name:
    /// a node whose fingerprint is unchanged is not rebuilt.
    var nodes: [String: String] = [:]

    static func path(for warehouse: String) -> String { warehouse + ".nexus-state" }

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

    /// SQLite's file change counter, or nil when the file is missing or not in rollback-journal mode.
    static func changeCounter(of path: String) -> UInt32? {
        guard let f = fopen(path, "rb") else { return nil }
        defer { fclose(f) }
        var header = [UInt8](repeating: 0, count: 100)
        guard fread(&header, 1, 100, f) == 100 else { return nil }
        // Bytes 18–19 are 1 in rollback-journal mode, 2 in WAL mode (where the counter is not kept).
        guard header[18] == 1, header[19] == 1 else { return nil }
        return UInt32(header[24]) << 24 | UInt32(header[25]) << 16 | UInt32(header[26]) << 8 | UInt32(header[27])
    }

    static func load(_ warehouse: String) -> BuildState? {
        guard let data = FileManager.default.contents(atPath: path(for: warehouse)) else { return nil }
        return try? JSONDecoder().decode(BuildState.self, from: data)
    }

    func save(_ warehouse: String) throws {
        let data = try JSONEncoder().encode(self)
        try data.write(to: URL(fileURLWithPath: BuildState.path(for: warehouse)), options: .atomic)
    }

    static func forget(_ warehouse: String) {
        try? FileManager.default.removeItem(atPath: path(for: warehouse))
    }

    /// Runs `body`, a write nexus makes to the warehouse outside a build (the sync's state
    /// and log), without making the last build look stale: when the warehouse was as the
    /// build left it before `body`, the recorded change counter moves on with it.
    public static func preservingBuild<R>(warehouse path: String, _ body: () throws -> R) rethrows -> R {
        let before = load(path)
        let current = before != nil && changeCounter(of: path) == before?.changeCounter
        defer {
            if current, var state = before, let counter = changeCounter(of: path) {
                state.changeCounter = counter
                try? state.save(path)
            }
        }
        return try body()
    }
}
