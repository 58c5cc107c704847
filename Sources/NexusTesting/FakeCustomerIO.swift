import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A real HTTP server standing in for Customer.io, for tests (Tests/Support/fake_customerio.py), which
/// validates requests as the strict API does and can inject failures.
public final class FakeCustomerIO {
    let process = Process()
    let log: String
    public let port: Int
    public static let key = "test-key"
    /// The Track API's credentials (merges).
    public static let siteID = "test-site"
    public static let trackKey = "test-track-key"

    public init(_ extra: [String] = []) throws {
        log = NSTemporaryDirectory() + "cio-" + UUID().uuidString + ".jsonl"
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Tests/Support/fake_customerio.py").path
        let portFile = log + ".port"
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, "--key", FakeCustomerIO.key, "--log", log, "--port-file", portFile] + extra
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        var found: Int?
        for _ in 0..<200 {
            if let text = try? String(contentsOfFile: portFile, encoding: .utf8), let p = Int(text) { found = p; break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        guard let found else { throw CocoaError(.fileReadNoSuchFile) }
        port = found
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    public var url: String { "http://127.0.0.1:\(port)" }

    /// Every accepted call, in order, and the number of accepted requests.
    public func received() throws -> (calls: [[String: Any]], requests: [[String: Any]]) {
        guard let text = try? String(contentsOfFile: log, encoding: .utf8) else { return ([], []) }
        let objects = try text.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        return (objects.filter { $0["_request"] == nil }, objects.filter { $0["_request"] != nil })
    }
}

