import Foundation
import NexusCore
import NexusWarehouse

/// What the build that made the current tables did, kept in the warehouse (`_nexus_state`
/// row `last_build`) for `nexus report`: its steps with rows and seconds, its warnings, the
/// rows of each nexus relation. A run that finds everything up to date leaves it as it is.
public struct BuildLog: Codable, Equatable, Sendable {
    static let stateName = "last_build"

    public struct Step: Codable, Equatable, Sendable {
        public var kind: String
        public var name: String
        public var rows: Int?
        public var seconds: Double
        public var note: String?
        init(_ r: StepResult) { kind = r.kind; name = r.name; rows = r.rows; seconds = r.seconds; note = r.note }
    }

    /// The build's `_processed_at`.
    public var processedAt: String
    public var engine: String
    public var seconds: Double
    public var steps: [Step]
    public var warnings: [String]
    public var relationRows: [String: Int]

    func json() throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return String(decoding: try e.encode(self), as: UTF8.self)
    }

    /// The last build's log, or nil when the warehouse has none (built by an older nexus).
    public static func load(_ warehouse: any Warehouse) throws -> BuildLog? {
        guard let text = try warehouse.readState(stateName) else { return nil }
        return try? JSONDecoder().decode(BuildLog.self, from: Data(text.utf8))
    }
}
