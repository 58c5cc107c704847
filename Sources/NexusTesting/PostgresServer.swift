import Foundation

/// A real PostgreSQL server for the tests, on loopback.
///
/// `.ci/run` starts one and names it in `NEXUS_TEST_PG_HOST`, `_PORT`, `_USER`, `_DATABASE`
/// (password in `NEXUS_TEST_PG_PASSWORD`). Without those, the first test that asks starts its
/// own from Debian's PostgreSQL (`initdb` and `pg_ctl` from /usr/lib/postgresql/*/bin, run as
/// the `postgres` user when the tests run as root), in a temporary folder, on a free port,
/// with password authentication; a watcher process stops it when the test process ends,
/// however it ends. Where neither is possible the tests that need it fail, saying why.
public struct PostgresServer: Sendable {
    public var host: String
    public var port: Int
    public var user: String
    public var database: String
    /// A file holding the password (tests never change the environment: other threads read it).
    public var passwordFile: String

    public static func shared() throws -> PostgresServer {
        lock.lock(); defer { lock.unlock() }
        if let s = started { return s }
        let env = ProcessInfo.processInfo.environment
        if let host = env["NEXUS_TEST_PG_HOST"], let port = env["NEXUS_TEST_PG_PORT"].flatMap(Int.init) {
            let file = NSTemporaryDirectory() + "nexus-pg-password-" + UUID().uuidString
            try (env["NEXUS_TEST_PG_PASSWORD"] ?? "").write(toFile: file, atomically: true, encoding: .utf8)
            let s = PostgresServer(host: host, port: port, user: env["NEXUS_TEST_PG_USER"] ?? "postgres", database: env["NEXUS_TEST_PG_DATABASE"] ?? "postgres", passwordFile: file)
            started = s
            return s
        }
        let s = try startOwn()
        started = s
        return s
    }

    nonisolated(unsafe) private static var started: PostgresServer?
    private static let lock = NSLock()

    static func startOwn() throws -> PostgresServer {
        let fm = FileManager.default
        let versions = ((try? fm.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []).sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }
        guard let bin = versions.map({ "/usr/lib/postgresql/\($0)/bin" }).first(where: { fm.isExecutableFile(atPath: "\($0)/initdb") }) else {
            throw ServerError("no PostgreSQL server to test against: install Debian's postgresql-15 (apt-get install postgresql-15), or run the tests through .ci/run")
        }
        let password = "nexus-test-" + UUID().uuidString.prefix(8)
        let dir = NSTemporaryDirectory() + "nexus-pg-" + UUID().uuidString.prefix(8)
        try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try password.write(toFile: dir + "/pw", atomically: true, encoding: .utf8)
        let port = freePort()
        let asRoot = geteuid() == 0
        // The server refuses to run as root: as root, the data folder is the postgres user's.
        let prefix = asRoot ? "runuser -u postgres -- " : ""
        if asRoot { _ = try shell("chown -R postgres \(dir) && chmod 700 \(dir)") }
        let initdb = try shell("\(prefix)\(bin)/initdb -D \(dir)/data -U nexus --auth=scram-sha-256 --pwfile=\(dir)/pw -E UTF8 --locale=C.UTF-8 --no-sync")
        guard initdb.status == 0 else { throw ServerError("initdb failed: \(initdb.output)") }
        let options = "-c listen_addresses=127.0.0.1 -p \(port) -k \(dir) -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=40"
        let start = try shell("\(prefix)\(bin)/pg_ctl -D \(dir)/data -o '\(options)' -l \(dir)/log -w -t 60 start")
        guard start.status == 0 else {
            throw ServerError("pg_ctl start failed: \(start.output) \((try? String(contentsOfFile: dir + "/log", encoding: .utf8)) ?? "")")
        }
        // Stops the server when this process ends, however it ends.
        let watcher = Process()
        watcher.executableURL = URL(fileURLWithPath: "/bin/sh")
        watcher.arguments = ["-c", "while kill -0 \(getpid()) 2>/dev/null; do sleep 1; done; \(prefix)\(bin)/pg_ctl -D \(dir)/data -m immediate stop >/dev/null 2>&1; rm -rf \(dir)"]
        watcher.standardOutput = FileHandle.nullDevice
        watcher.standardError = FileHandle.nullDevice
        try watcher.run()
        // The password file initdb read; it goes with the server's folder.
        return PostgresServer(host: "127.0.0.1", port: port, user: "nexus", database: "postgres", passwordFile: dir + "/pw")
    }

    /// Runs a shell command with `system` (Foundation's `Process` can wait forever here once
    /// the command has started a daemon: pg_ctl leaves the server running).
    static func shell(_ command: String) throws -> (status: Int32, output: String) {
        let out = NSTemporaryDirectory() + "nexus-pg-cmd-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: out) }
        let status = system("(\(command)) > \(out) 2>&1 < /dev/null")
        let output = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        return (status == 0 ? 0 : max(1, status >> 8), output)
    }

    /// A port nobody listens on now (the kernel's choice for a socket bound to port 0).
    public static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    public struct ServerError: Error, CustomStringConvertible {
        public var description: String
        init(_ d: String) { description = d }
    }
}

extension PostgresServer {
    /// Points the project at `root` to `schema` on this server (replacing its `warehouse:`
    /// block), with `engine` when given. The schema must exist.
    public func useInProject(_ root: String, schema: String, engine: String? = nil) throws {
        var lines = [
            "warehouse:", "  type: postgres", "  host: \(host)", "  port: \(port)", "  database: \(database)",
            "  user: \(user)", "  schema: \(schema)", "  password_file: \(passwordFile)", "  sslmode: disable",
        ]
        if let engine { lines.append("engine: \(engine)") }
        try replaceWarehouse(inProject: root, with: lines.joined(separator: "\n") + "\n")
    }
}

/// Replaces the `warehouse:` block of the project's nexus.yml (it ends at the next line that
/// is not indented) with `block`, appended at the end; with `dropEngine`, `engine:` lines go too.
public func replaceWarehouse(inProject root: String, with block: String, dropEngine: Bool = false) throws {
    let yml = root + "/nexus.yml"
    var lines = try String(contentsOfFile: yml, encoding: .utf8).components(separatedBy: "\n")
    if let start = lines.firstIndex(where: { $0.hasPrefix("warehouse:") }) {
        var end = start + 1
        while end < lines.count, lines[end].hasPrefix(" ") { end += 1 }
        lines.removeSubrange(start..<end)
    }
    if dropEngine { lines.removeAll { $0.hasPrefix("engine:") } }
    while lines.last == "" { lines.removeLast() }
    try (lines.joined(separator: "\n") + "\n" + block).write(toFile: yml, atomically: true, encoding: .utf8)
}
