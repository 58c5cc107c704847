import Foundation
import Testing
import NexusTesting

/// Runs the built `nexus` binary as a child process, as a user would.
struct CLITests {
    static var binary: String {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("nexus").path,
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("nexus").path,
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(".build/debug/nexus").path,
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[2]
    }

    struct Output { var status: Int32; var stdout: String; var stderr: String }

    func launch(_ args: [String], in dir: String? = nil, env extra: [String: String] = [:]) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLITests.binary)
        p.arguments = args
        if let dir { p.currentDirectoryURL = URL(fileURLWithPath: dir) }
        p.environment = ProcessInfo.processInfo.environment.merging(extra) { _, b in b }
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    func nexus(_ args: [String], in dir: String? = nil, env extra: [String: String] = [:]) throws -> Output {
        var env = ProcessInfo.processInfo.environment.merging(extra) { _, b in b }
        env["SOURCE_DATE_EPOCH"] = "1800000000"
        let r = try runCommand(CLITests.binary, args, in: dir, environment: env)
        return Output(status: r.status, stdout: r.stdout, stderr: r.stderr)
    }

    func tempDir() throws -> String {
        let d = NSTemporaryDirectory() + "nexus-cli-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    @Test func versionNamesNexusAndItsSQLite() throws {
        let v = try nexus(["--version"], in: try tempDir())
        #expect(v.status == 0)
        #expect(v.stdout.hasPrefix("nexus 0."), "\(v.stdout)")
        #expect(v.stdout.contains("(SQLite 3."), "\(v.stdout)")
    }

    @Test func demoRunsAndTheOtherCommandsReadItsWarehouse() throws {
        let dir = try tempDir()
        let demo = try nexus(["demo", "demo"], in: dir)
        #expect(demo.status == 0, "\(demo.stderr)")
        #expect(demo.stdout.contains("nexus_entities"))
        #expect(demo.stderr.contains("identity resolution"))
        let show = try nexus(["show", "nexus_relationships", "--limit", "2", "--project", "demo"], in: dir)
        #expect(show.status == 0)
        #expect(show.stdout.contains("relationship_id"))
        #expect(show.stdout.contains("2 of "))
        let explain = try nexus(["explain", "email", "chain.walker@example.com", "--project", dir + "/demo"])
        #expect(explain.status == 0)
        // A tree: each identifier once, the chain's far end eight levels down.
        let lines = explain.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasSuffix(": 10 identifier(s)") == true, "\(explain.stdout)")
        #expect(lines.contains("email chain.walker@example.com   (asked about)"))
        let far = lines.first { $0.contains("anon-chain-0 ") } ?? ""
        #expect(far.hasPrefix(String(repeating: "   ", count: 7) + "└─ segment_anonymous_id anon-chain-0   via event evt_"), "\(explain.stdout)")
        #expect(lines.filter { $0.contains("├─ ") || $0.contains("└─ ") }.count == 9, "every other identifier once")
        // The chain's inner links are the bridges: each alone holds the far end on.
        #expect(lines.filter { $0.contains("[bridge]") }.count == 7 && !far.contains("[bridge]"), "\(explain.stdout)")
        // DOT for Graphviz: one node per identifier, one edge per link.
        let dot = try nexus(["explain", "email", "chain.walker@example.com", "--format", "dot", "--project", dir + "/demo"])
        #expect(dot.status == 0 && dot.stdout.hasPrefix("graph \"person per_") && dot.stdout.hasSuffix("}\n"), "\(dot.stdout)")
        #expect(dot.stdout.components(separatedBy: " -- ").count - 1 == 9)
        #expect(dot.stdout.contains("\"email chain.walker@example.com\" [style=\"rounded,filled\""))
        // SVG and HTML through Graphviz (which .ci/run installs): the same bytes every time;
        // without Graphviz, one line saying what to do.
        let html = try nexus(["explain", "email", "chain.walker@example.com", "--format", "html", "--project", dir + "/demo"])
        #expect(html.status == 0 && html.stdout.hasPrefix("<!doctype html>") && html.stdout.contains("<svg") && !html.stdout.contains("<?xml"), "\(html.stderr)")
        #expect(html.stdout.contains("7 bridge(s)") && !html.stdout.contains("<script") && !html.stdout.contains("http://www.w3.org/Graphics/SVG/1.1/DTD"))
        #expect(try nexus(["explain", "email", "chain.walker@example.com", "--format", "html", "--project", dir + "/demo"]).stdout == html.stdout)
        let svg = try nexus(["explain", "email", "chain.walker@example.com", "--format", "svg", "--project", dir + "/demo"])
        #expect(svg.status == 0 && svg.stdout.contains("<svg") && svg.stdout.contains("email chain.walker@example.com"))
        let noDot = try nexus(["explain", "email", "chain.walker@example.com", "--format", "svg", "--project", dir + "/demo"], env: ["PATH": "/nonexistent"])
        #expect(noDot.status != 0 && noDot.stderr.contains("apt-get install graphviz") && noDot.stderr.contains("--format dot"), "\(noDot.stderr)")
        // An identifier that is not there, but is close to one that is.
        let close = try nexus(["explain", "email", " Chain.Walker@Example.com ", "--project", dir + "/demo"])
        #expect(close.status != 0 && close.stderr.contains("close matches: email 'chain.walker@example.com'"), "\(close.stderr)")
        // Rerunning with nothing changed is up to date; --full rebuilds, skipping unchanged seeds.
        let rerun = try nexus(["run", "--project", "demo"], in: dir)
        #expect(rerun.status == 0)
        #expect(rerun.stderr.contains("up to date"))
        let full = try nexus(["run", "--full", "--project", "demo"], in: dir)
        #expect(full.status == 0)
        #expect(full.stderr.contains("(unchanged)"))
        #expect(full.stderr.contains("identity resolution"))
    }

    @Test func customerIOQueriesAndExports() throws {
        let dir = try tempDir()
        #expect(try nexus(["demo", "demo"], in: dir).status == 0)
        let q = try nexus(["customerio", "queries", "--project", "demo", "--dialect", "snowflake"], in: dir)
        #expect(q.status == 0, "\(q.stderr)")
        #expect(q.stdout.contains("== customer_io_persons: Identify sync"))
        #expect(q.stdout.contains("WHERE TO_TIMESTAMP_NTZ(\"timestamp\") > TO_TIMESTAMP_NTZ({{last_sync_time}})"))
        #expect(q.stdout.contains("Relationship Attributes  <- relationshipAttributes"))
        let order = try #require(q.stdout.split(separator: "\n").first { $0.hasPrefix("initial sync order: ") })
        #expect(order.hasPrefix("initial sync order: customer_io_persons (identify)"))
        #expect(order.hasSuffix("(track)"))
        let track = try #require(order.range(of: "(track)")), rel = try #require(order.range(of: "(relationships)")), obj = try #require(order.range(of: "(objects)"))
        #expect(obj.lowerBound < rel.lowerBound && rel.lowerBound < track.lowerBound)

        let e = try nexus(["export", "customer_io_location_relationships", "customer_io_persons", "--format", "jsonl", "--out", "out", "--project", "demo"], in: dir)
        #expect(e.status == 0, "\(e.stderr)")
        let lines = try String(contentsOfFile: dir + "/out/customer_io_location_relationships.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(lines.count > 200)
        for line in lines.prefix(20) {
            let o = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let attributes = try #require(o["relationshipAttributes"] as? [String: Any])
            #expect(attributes["is_primary_location"] is Bool)
            #expect((o["timestamp"] as? String)?.hasSuffix(".000Z") == true)
            #expect(o["objectTypeId"] as? String == "1")
        }
        let csv = try nexus(["export", "customer_io_persons", "--out", "out", "--project", "demo"], in: dir)
        #expect(csv.status == 0)
        let header = try String(contentsOfFile: dir + "/out/customer_io_persons.csv", encoding: .utf8).split(separator: "\n").first
        #expect(header?.hasPrefix("userId,anonymousId,timestamp,") == true)
        let missing = try nexus(["export", "nope", "--out", "out", "--project", "demo"], in: dir)
        #expect(missing.status != 0 && missing.stderr.contains("no relation named 'nope'"))
    }

    /// Kill a sync at any moment and rerun: nothing is lost, and only calls whose
    /// acknowledgement was not recorded are sent again (with the same messageIds).
    @Test func aKilledSyncResumesWithoutLoss() throws {
        let dir = try tempDir()
        #expect(try nexus(["demo", "demo"], in: dir).status == 0)
        let slow = try FakeCustomerIO(["--delay", "0.6"])
        let yml = dir + "/demo/nexus.yml"
        let base = try String(contentsOfFile: yml, encoding: .utf8)
        try (base + "customerio:\n  endpoint: \(slow.url)\n  requests_per_second: 50\n").write(toFile: yml, atomically: true, encoding: .utf8)
        let env = ["CUSTOMERIO_API_KEY": FakeCustomerIO.key]
        let sqlite = "\(dir)/demo/warehouse.sqlite"
        func scalar(_ sql: String) throws -> Int {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["sqlite3", "-cmd", ".timeout 5000", sqlite, sql]
            let out = Pipe()
            p.standardOutput = out
            p.standardError = FileHandle.nullDevice
            try p.run()
            p.waitUntilExit()
            return Int(String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        }
        let first = try launch(["sync", "customerio", "--project", "demo"], in: dir, env: env)
        // Kill it as soon as its first acknowledgement is recorded, while later requests are in flight.
        for _ in 0..<200 {
            if (try? scalar("SELECT count(*) FROM _nexus_customerio_log WHERE status = 'sent'")) ?? 0 > 0 { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        // Acknowledgements are recorded in the log batch by batch (the state table catches up at the end of each output).
        let recorded = try scalar("SELECT count(*) FROM _nexus_customerio_log WHERE status = 'sent'")
        let firstCalls = try slow.received().calls.compactMap { $0["messageId"] as? String }
        #expect(recorded > 0, "the first run acknowledged nothing before it was killed")

        let fast = try FakeCustomerIO()
        try (base + "customerio:\n  endpoint: \(fast.url)\n  requests_per_second: 50\n").write(toFile: yml, atomically: true, encoding: .utf8)
        let second = try nexus(["sync", "customerio", "--project", "demo"], in: dir, env: env)
        #expect(second.status == 0, "\(second.stderr)")
        let secondCalls = try fast.received().calls.compactMap { $0["messageId"] as? String }
        let total = try scalar("SELECT count(*) FROM _nexus_customerio_state")
        // Nothing lost: every row is acknowledged now, and each was received by one server or the other.
        #expect(Set(firstCalls).union(secondCalls).count == total)
        // Only what was not recorded was sent again.
        #expect(secondCalls.count == total - recorded)
        #expect(recorded < total, "the first run finished before it could be killed")
        // Calls both servers saw are only those the first server accepted but whose acknowledgement
        // the killed run had not recorded; they repeat with the same messageIds.
        #expect(Set(firstCalls).intersection(secondCalls).count <= firstCalls.count - recorded)
    }

    /// A sync's own writes (state, log) do not make the build look stale; a settings-only
    /// change to nexus.yml rebuilds nothing.
    @Test func syncKeepsTheBuildCurrent() throws {
        let dir = try tempDir()
        #expect(try nexus(["demo", "demo"], in: dir).status == 0)
        let server = try FakeCustomerIO()
        let yml = dir + "/demo/nexus.yml"
        let base = try String(contentsOfFile: yml, encoding: .utf8)
        try (base + "customerio:\n  endpoint: \(server.url)\n  requests_per_second: 50\n").write(toFile: yml, atomically: true, encoding: .utf8)
        let settle = try nexus(["run", "--project", "demo"], in: dir)
        #expect(settle.status == 0 && !settle.stderr.contains("read identifiers") && settle.stderr.contains("unchanged: same sources"), "\(settle.stderr)")
        let sync = try nexus(["sync", "customerio", "--project", "demo"], in: dir, env: ["CUSTOMERIO_API_KEY": FakeCustomerIO.key])
        #expect(sync.status == 0, "\(sync.stderr)")
        let rerun = try nexus(["run", "--project", "demo"], in: dir)
        #expect(rerun.status == 0 && rerun.stderr.contains("up to date"), "\(rerun.stderr)")
    }

    @Test func errorsAreOneLineWithANonZeroExit() throws {
        let dir = try tempDir()
        let missing = try nexus(["run", "--project", dir])
        #expect(missing.status != 0)
        #expect(missing.stderr.hasPrefix("error: "))
        #expect(missing.stderr.contains("nexus.yml"))
        #expect(missing.stderr.split(separator: "\n").count == 1)

        try "name: x\nsources: [\n".write(toFile: dir + "/nexus.yml", atomically: true, encoding: .utf8)
        let yaml = try nexus(["run", "--project", dir])
        #expect(yaml.status != 0)
        #expect(yaml.stderr.contains("nexus.yml:"))

        let show = try nexus(["show", "nope", "--project", dir])
        #expect(show.status != 0)
    }

    @Test func everyCommandHasHelp() throws {
        for cmd in ["run", "demo", "show", "explain", "generate", "export", "customerio"] {
            let h = try nexus([cmd, "--help"])
            #expect(h.status == 0)
            #expect(h.stdout.contains("USAGE"))
        }
    }
}
