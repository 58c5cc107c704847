import Foundation

/// Text compared with a file kept beside a test (`__Snapshots__/<name>.sql`), so that what a
/// generator emits is reviewed as a diff of files. `NEXUS_RECORD_SNAPSHOTS=1` rewrites them;
/// a missing file is written and reported, so that a new snapshot is always looked at.
public enum Snapshot {
    public enum Outcome: Equatable, Sendable {
        case matches
        /// The file did not exist (or recording was asked for) and now holds the text.
        case recorded
        /// The file holds other text (given).
        case differs(String)
    }

    public static func check(_ text: String, name: String, besides testFile: String) throws -> Outcome {
        let dir = URL(fileURLWithPath: testFile).deletingLastPathComponent().appendingPathComponent("__Snapshots__").path
        let path = dir + "/" + name + ".sql"
        let record = ProcessInfo.processInfo.environment["NEXUS_RECORD_SNAPSHOTS"] != nil
        if record || !FileManager.default.fileExists(atPath: path) {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try (text + "\n").write(toFile: path, atomically: true, encoding: .utf8)
            return record ? .matches : .recorded
        }
        let kept = try String(contentsOfFile: path, encoding: .utf8)
        return kept == text + "\n" ? .matches : .differs(kept)
    }
}
