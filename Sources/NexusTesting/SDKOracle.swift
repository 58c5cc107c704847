import Foundation

/// The official Customer.io Python SDK (`customerio-cdp-analytics`), run by
/// `Tests/Support/sdk_oracle.py`, as the reference for what calls look like on the wire.
///
/// The SDK is installed once with pip into `.build/sdk-oracle` (PyPI must be reachable the
/// first time; `.ci/run` installs it up front).
public enum SDKOracle {
    public static let package = "customerio-cdp-analytics==1.1.0"
    public struct Failure: Error, CustomStringConvertible { public var description: String }

    /// Where the SDK is installed (a PYTHONPATH entry), installing it first when needed.
    public static func install() throws -> String {
        try PythonPackages.install([package], module: "customerio.analytics", folder: "sdk-oracle", override: "NEXUS_SDK_ORACLE")
    }

    /// Sends the rows of `outputs` (name and shape: identify, track, objects, relationships)
    /// through the SDK to `host`.
    public static func send(db: String, host: String, key: String, outputs: [(String, String)]) throws {
        let path = try install()
        let script = PythonPackages.root.appendingPathComponent("Tests/Support/sdk_oracle.py").path
        let r = try python([script, "--db", db, "--host", host, "--key", key] + outputs.map { "\($0.0):\($0.1)" }, path: path)
        guard r.status == 0 else { throw Failure(description: "sdk_oracle.py failed: \(r.output)") }
    }

    static func python(_ args: [String], path: String?) throws -> (status: Int32, output: String) {
        try PythonPackages.python(args, path: path)
    }
}
