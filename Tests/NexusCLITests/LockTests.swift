import Foundation
import Testing
import NexusTesting

/// Two nexus processes on one warehouse wait for each other (a scheduled run and a person).
struct LockTests {
    let cli = CLITests()

    func generated(_ persons: Int) throws -> String {
        let dir = try cli.tempDir() + "/clinic"
        let g = try cli.nexus(["generate", "--persons", "\(persons)", "--out", dir])
        #expect(g.status == 0, "\(g.stderr)")
        return dir
    }

    func start(_ args: [String]) throws -> (Process, Pipe) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLITests.binary)
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        env["SOURCE_DATE_EPOCH"] = "1800000000"
        p.environment = env
        let err = Pipe()
        p.standardOutput = FileHandle.nullDevice
        p.standardError = err
        try p.run()
        return (p, err)
    }

    func finish(_ run: (Process, Pipe)) -> (status: Int32, stderr: String) {
        let e = run.1.fileHandleForReading.readDataToEndOfFile()
        run.0.waitUntilExit()
        return (run.0.terminationStatus, String(decoding: e, as: UTF8.self))
    }

    /// Before the lock, two `run --full` a moment apart both failed: each run's start dropped
    /// the staging tables it took for a killed run's leftovers, which were the other run's.
    @Test func twoRunsAtOnceBothBuild() throws {
        let dir = try generated(3000)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try cli.nexus(["run", "--project", dir]).status == 0)
        let before = try cli.nexus(["export", "nexus_entities", "nexus_entity_participants", "--out", dir + "/before", "--project", dir])
        #expect(before.status == 0, "\(before.stderr)")
        let a = try start(["run", "--full", "--project", dir]), b = try start(["run", "--full", "--project", dir])
        let ra = finish(a), rb = finish(b)
        #expect(ra.status == 0, "\(ra.stderr)")
        #expect(rb.status == 0, "\(rb.stderr)")
        let after = try cli.nexus(["export", "nexus_entities", "nexus_entity_participants", "--out", dir + "/after", "--project", dir])
        #expect(after.status == 0, "\(after.stderr)")
        for f in ["nexus_entities.csv", "nexus_entity_participants.csv"] {
            let x = FileManager.default.contents(atPath: "\(dir)/before/\(f)"), y = FileManager.default.contents(atPath: "\(dir)/after/\(f)")
            #expect(x != nil && x == y, "\(f) differs after two runs at once")
        }
        let leftovers = try runCommand("/usr/bin/sqlite3", [dir + "/warehouse.sqlite", "SELECT count(*) FROM sqlite_schema WHERE name LIKE '\\_\\_nexus\\_stage%' ESCAPE '\\'"])
        #expect(leftovers.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "\(leftovers.stdout)")
    }

    /// A run that cannot get the warehouse within `lock_timeout` stops with one line naming
    /// the holder, and changes nothing; a killed holder's lock is free at once.
    @Test func aBusyWarehouseNamesItsHolder() throws {
        let dir = try generated(20000)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try start(["run", "--project", dir])
        // Wait until the first run holds the lock (its line is in the lock file).
        let lockFile = dir + "/warehouse.sqlite.nexus-lock"
        let deadline = Date().addingTimeInterval(60)
        while (try? String(contentsOfFile: lockFile, encoding: .utf8))?.isEmpty ?? true, Date() < deadline { usleep(20_000) }
        let yml = dir + "/nexus.yml"
        let base = try String(contentsOfFile: yml, encoding: .utf8)
        try base.replacingOccurrences(of: "  path: warehouse.sqlite\n", with: "  path: warehouse.sqlite\n  lock_timeout: 0.2\n")
            .write(toFile: yml, atomically: true, encoding: .utf8)
        let second = try cli.nexus(["run", "--full", "--project", dir])
        #expect(second.status != 0)
        #expect(second.stderr.split(separator: "\n").count == 1, "\(second.stderr)")
        #expect(second.stderr.contains("is busy: nexus run (host "), "\(second.stderr)")
        #expect(second.stderr.contains("process \(first.0.processIdentifier)"), "\(second.stderr)")
        #expect(second.stderr.contains("lock_timeout"), "\(second.stderr)")
        // Killed mid-build: the next run gets the lock, clears the staging, and builds.
        first.0.terminate()
        _ = finish(first)
        let third = try cli.nexus(["run", "--project", dir])
        #expect(third.status == 0, "\(third.stderr)")
        let show = try cli.nexus(["show", "nexus_entities", "--limit", "1", "--project", dir])
        #expect(show.status == 0 && show.stdout.contains("entity_id"), "\(show.stderr)")
    }
}
