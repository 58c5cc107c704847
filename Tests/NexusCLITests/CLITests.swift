import Foundation
import Testing

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

    func nexus(_ args: [String], in dir: String? = nil) throws -> Output {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLITests.binary)
        p.arguments = args
        if let dir { p.currentDirectoryURL = URL(fileURLWithPath: dir) }
        var env = ProcessInfo.processInfo.environment
        env["SOURCE_DATE_EPOCH"] = "1800000000"
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Output(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    func tempDir() throws -> String {
        let d = NSTemporaryDirectory() + "nexus-cli-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
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
        #expect(explain.stdout.contains("anon-chain-0   8 hop(s)"))
        // Rerunning with nothing changed is up to date; --full rebuilds, skipping unchanged seeds.
        let rerun = try nexus(["run", "--project", "demo"], in: dir)
        #expect(rerun.status == 0)
        #expect(rerun.stderr.contains("up to date"))
        let full = try nexus(["run", "--full", "--project", "demo"], in: dir)
        #expect(full.status == 0)
        #expect(full.stderr.contains("(unchanged)"))
        #expect(full.stderr.contains("identity resolution"))
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
        for cmd in ["run", "demo", "show", "explain", "generate"] {
            let h = try nexus([cmd, "--help"])
            #expect(h.status == 0)
            #expect(h.stdout.contains("USAGE"))
        }
    }
}
