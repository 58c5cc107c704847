import Foundation
import Testing
import NexusTesting
#if canImport(Glibc)
import Glibc
#endif

/// The CLI on the Snowflake stand-in: an interrupted run cancels what it started in Snowflake.
struct SnowflakeCLITests {
    /// nexus started in the background; its standard error to read once it has ended.
    static func start(_ args: [String]) throws -> (Process, Pipe) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLITests.binary)
        p.arguments = args
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        return (p, err)
    }

    @Test func ctrlCCancelsTheRunningStatementAndKeepsTheLastBuild() throws {
        let cli = CLITests()
        let server = try FakeSnowflake()
        let dir = try cli.tempDir()
        try FileManager.default.createDirectory(atPath: dir + "/models", withIntermediateDirectories: true)
        try ("name: slow\n" + server.warehouseYAML()).write(toFile: dir + "/nexus.yml", atomically: true, encoding: .utf8)
        try "select 1 as x".write(toFile: dir + "/models/m.sql", atomically: true, encoding: .utf8)
        let first = try cli.nexus(["run", "--project", dir])
        #expect(first.status == 0, "\(first.stderr)")
        // Now a model that takes 30 s in the warehouse; Ctrl-C while it runs.
        try "select system$wait(30) as x".write(toFile: dir + "/models/m.sql", atomically: true, encoding: .utf8)
        let (p, err) = try SnowflakeCLITests.start(["run", "--project", dir])
        var waited = 0
        while try server.stats().waiting == 0 && waited < 1200 { Thread.sleep(forTimeInterval: 0.05); waited += 1 }
        #expect(try server.stats().waiting == 1)
        // The stand-in counts the statement as it starts; nexus has its handle once the submit
        // is answered, a moment later.
        Thread.sleep(forTimeInterval: 0.5)
        kill(p.processIdentifier, SIGINT)
        p.waitUntilExit()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(p.terminationStatus == 130, "\(stderr)")
        #expect(stderr.contains("interrupted: cancelled 1 statement(s) running in Snowflake"), "\(stderr)")
        #expect(try server.stats().cancels == 1)
        // The last build is as it was; the next run drops the interrupted run's staging.
        let show = try cli.nexus(["show", "m", "--project", dir])
        #expect(show.status == 0 && show.stdout.contains("1 of 1 rows"), "\(show.stdout) \(show.stderr)")
        try "select 2 as x".write(toFile: dir + "/models/m.sql", atomically: true, encoding: .utf8)
        #expect(try cli.nexus(["run", "--project", dir]).status == 0)
        #expect(try cli.nexus(["show", "m", "--project", dir]).stdout.contains("2"))
    }

    /// Two nexus processes on one Snowflake schema: the second waits for the first's lease
    /// (both succeed); one that may not wait long says who holds the warehouse.
    @Test func runsOnOneSchemaWaitForEachOther() throws {
        let cli = CLITests()
        let server = try FakeSnowflake()
        func project(lockTimeout: Int) throws -> String {
            let dir = try cli.tempDir()
            try FileManager.default.createDirectory(atPath: dir + "/models", withIntermediateDirectories: true)
            try ("name: busy\n" + server.warehouseYAML().replacingOccurrences(of: "  host:", with: "  lock_timeout: \(lockTimeout)\n  host:"))
                .write(toFile: dir + "/nexus.yml", atomically: true, encoding: .utf8)
            try "select system$wait(4) as x".write(toFile: dir + "/models/m.sql", atomically: true, encoding: .utf8)
            return dir
        }
        let patient = try project(lockTimeout: 120), hasty = try project(lockTimeout: 1)
        func start(_ dir: String) throws -> (Process, Pipe) { try SnowflakeCLITests.start(["run", "--project", dir]) }
        let (first, firstErr) = try start(patient)
        var waited = 0
        while try server.stats().waiting == 0 && waited < 1200 { Thread.sleep(forTimeInterval: 0.05); waited += 1 }
        let (second, secondErr) = try start(patient)
        let busy = try cli.nexus(["run", "--project", hasty])
        #expect(busy.status != 0 && busy.stderr.contains("is busy: nexus run (host ") && busy.stderr.contains("lock_timeout"), "\(busy.stderr)")
        first.waitUntilExit(); second.waitUntilExit()
        let e1 = String(decoding: firstErr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let e2 = String(decoding: secondErr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(first.terminationStatus == 0 && second.terminationStatus == 0, "\(e1)\n\(e2)")
        #expect(try cli.nexus(["show", "m", "--project", patient]).stdout.contains("waited"))
    }
}
