import Foundation

/// The official Customer.io Python SDK (`customerio-cdp-analytics`), run by
/// `Tests/Support/sdk_oracle.py`, as the reference for what calls look like on the wire.
///
/// The SDK is installed once with pip into `.build/sdk-oracle` (PyPI must be reachable the
/// first time; `.ci/run` installs it up front).
public enum SDKOracle {
    public static let package = "customerio-cdp-analytics==1.1.0"
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let lock = NSLock()

    public struct Failure: Error, CustomStringConvertible { public var description: String }

    /// Where the SDK is installed (a PYTHONPATH entry), installing it first when needed.
    public static func install() throws -> String {
        lock.lock(); defer { lock.unlock() }
        let dir = ProcessInfo.processInfo.environment["NEXUS_SDK_ORACLE"] ?? root.appendingPathComponent(".build/sdk-oracle").path
        if try python(["-c", "import customerio.analytics"], path: dir).status == 0 { return dir }
        var r = try python(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--target", dir, package], path: nil)
        if r.status != 0 {
            // Debian's Python refuses pip installs without this flag, even into a --target folder.
            r = try python(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--break-system-packages", "--target", dir, package], path: nil)
        }
        guard r.status == 0 else { throw Failure(description: "cannot install \(package) with pip: \(r.output)") }
        return dir
    }

    /// Sends the rows of `outputs` (name and shape: identify, track, objects, relationships)
    /// through the SDK to `host`.
    public static func send(db: String, host: String, key: String, outputs: [(String, String)]) throws {
        let path = try install()
        let script = root.appendingPathComponent("Tests/Support/sdk_oracle.py").path
        let r = try python([script, "--db", db, "--host", host, "--key", key] + outputs.map { "\($0.0):\($0.1)" }, path: path)
        guard r.status == 0 else { throw Failure(description: "sdk_oracle.py failed: \(r.output)") }
    }

    static func python(_ args: [String], path: String?) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3"] + args
        var env = ProcessInfo.processInfo.environment
        if let path { env["PYTHONPATH"] = path }
        p.environment = env
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
