import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A real HTTP server standing in for Snowflake's SQL API v2, for tests
/// (Tests/Support/fake_snowflake.py), executing statements on fakesnow (Snowflake emulated on
/// DuckDB). It makes a fresh RSA key pair for the test user in `keyDir`: `key.p8`,
/// `key-encrypted.p8` (passphrase `FakeSnowflake.passphrase`) and `key.pub`.
///
/// fakesnow is installed once with pip into `.build/fakesnow` (PyPI must be reachable the
/// first time; `.ci/run` installs it up front).
public final class FakeSnowflake {
    public static let account = "nexus-test"
    public static let user = "nexus_ci"
    public static let role = "NEXUS_ROLE"
    public static let warehouse = "NEXUS_WH"
    public static let database = "NEXUS"
    public static let passphrase = "test-passphrase"
    public static let packages = ["fakesnow==0.12.1", "snowflake-connector-python<5"]

    let process = Process()
    public let keyDir: String
    public let port: Int
    public struct Failure: Error, CustomStringConvertible { public var description: String }

    /// Where fakesnow is installed (a PYTHONPATH entry), installing it first when needed.
    public static func install() throws -> String {
        try PythonPackages.install(packages, module: "fakesnow", folder: "fakesnow", override: "NEXUS_FAKESNOW")
    }

    /// Starts a stand-in; `extra` are fake_snowflake.py options (`--partition-rows 5`,
    /// `--fail-first 2`, `--lose-first 1`, …).
    public init(_ extra: [String] = []) throws {
        let path = try FakeSnowflake.install()
        keyDir = NSTemporaryDirectory() + "snowflake-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: keyDir, withIntermediateDirectories: true)
        let script = PythonPackages.root.appendingPathComponent("Tests/Support/fake_snowflake.py").path
        let portFile = keyDir + "/port"
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, "--key-dir", keyDir, "--passphrase", FakeSnowflake.passphrase,
                             "--account", FakeSnowflake.account, "--user", FakeSnowflake.user, "--role", FakeSnowflake.role,
                             "--warehouse", FakeSnowflake.warehouse, "--database", FakeSnowflake.database, "--port-file", portFile] + extra
        var env = ProcessInfo.processInfo.environment
        env["PYTHONPATH"] = path
        process.environment = env
        process.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        var found: Int?
        for _ in 0..<600 {
            if let text = try? String(contentsOfFile: portFile, encoding: .utf8), let p = Int(text) { found = p; break }
            if !process.isRunning { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        guard let found else {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            throw Failure(description: "fake_snowflake.py did not start: " + String(decoding: errors.fileHandleForReading.availableData, as: UTF8.self))
        }
        port = found
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: keyDir)
    }

    public var url: String { "http://127.0.0.1:\(port)" }

    /// Statements submitted (POSTs, retries included) and executed, tables swapped,
    /// statements cancelled, and statements running now (`waiting`: inside SYSTEM$WAIT).
    public func stats() throws -> (submits: Int, executed: Int, swaps: Int, cancels: Int, running: Int, waiting: Int) {
        let data = try Data(contentsOf: URL(string: url + "/_test/stats")!)
        let o = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        func n(_ k: String) -> Int { o[k] as? Int ?? -1 }
        return (n("submits"), n("executed"), n("swaps"), n("cancels"), n("running"), n("waiting"))
    }

    /// The `warehouse:` section of nexus.yml for this stand-in, with the unencrypted key.
    public func warehouseYAML(schema: String = "PUBLIC", encrypted: Bool = false) -> String {
        """
        warehouse:
          type: snowflake
          account: \(FakeSnowflake.account)
          user: \(FakeSnowflake.user)
          role: \(FakeSnowflake.role)
          warehouse: \(FakeSnowflake.warehouse)
          database: \(FakeSnowflake.database)
          schema: \(schema)
          private_key_path: \(keyDir)/\(encrypted ? "key-encrypted.p8" : "key.p8")
        \(encrypted ? "  private_key_passphrase_env: NEXUS_TEST_SNOWFLAKE_PASSPHRASE\n" : "")  host: \(url)

        """
    }
}
