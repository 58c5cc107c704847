import Foundation

/// Python packages the tests run (the Customer.io SDK oracle, fakesnow), installed with pip
/// into a folder under `.build` the first time (PyPI must be reachable then; `.ci/run`
/// installs them up front), and `python3` run with that folder on its path.
enum PythonPackages {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let lock = NSLock()

    struct Failure: Error, CustomStringConvertible { var description: String }

    /// The folder holding `packages` (a PYTHONPATH entry): `$<override>` when set, else
    /// `.build/<folder>`; installed first when `module` cannot be imported from it.
    static func install(_ packages: [String], module: String, folder: String, override: String) throws -> String {
        lock.lock(); defer { lock.unlock() }
        let dir = ProcessInfo.processInfo.environment[override] ?? root.appendingPathComponent(".build/" + folder).path
        if try python(["-c", "import \(module)"], path: dir).status == 0 { return dir }
        let pip = ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--target", dir]
        var r = try python(pip + packages, path: nil)
        // Debian's Python refuses pip installs without this flag, even into a --target folder.
        if r.status != 0 { r = try python(pip + ["--break-system-packages"] + packages, path: nil) }
        guard r.status == 0 else { throw Failure(description: "cannot install \(packages.joined(separator: " ")) with pip: \(r.output)") }
        return dir
    }

    /// Runs `python3 args` with `path` as PYTHONPATH; its status and its output and errors.
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
