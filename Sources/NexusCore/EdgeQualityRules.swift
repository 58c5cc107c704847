/// How nexus judges and guards identifiers that co-occur with too many others
/// (`edge_quality:` in nexus.yml; dbt-nexus §3.3, with partners counted within an entity
/// type: docs/decisions.md). Parsed by the project, applied by every engine.
public struct EdgeQualityRules: Sendable, Hashable {
    /// What a run does with identifiers above `error`.
    public enum OnError: String, Sendable, CaseIterable {
        /// Report them, warn, and resolve as usual.
        case warn
        /// Stop the run before anything is published; the previous build stays.
        case fail
        /// Cut their edges before resolution and leave out the filtered orphans.
        case filter
    }

    /// Severity labels: more distinct partners than `warning`, `error`, `critical` (strictly).
    public var warning = 10
    public var error = 20
    public var critical = 50
    public var onError = OnError.warn
    /// Identifier values left out before resolution, by identifier type (exact match).
    public var ignore: [String: [String]] = [:]

    public init() {}

    /// The severity of an identifier with `partners` distinct partner values.
    public func severity(_ partners: Int) -> String {
        partners > critical ? "CRITICAL" : partners > error ? "ERROR" : partners > warning ? "WARNING" : "OK"
    }

    /// Everything that changes what a build writes, for the build's fingerprint.
    public var fingerprint: String {
        let ignored = ignore.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.sorted().joined(separator: "\u{2}"))" }
        return "eq:\(warning):\(error):\(critical):\(onError.rawValue):\(ignored.joined(separator: "\u{3}"))"
    }
}
