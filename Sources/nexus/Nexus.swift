import ArgumentParser
import Foundation
import NexusBuild
import NexusCore
import NexusOutputs
import NexusProject
import NexusSQL
import NexusScaffold
import NexusWarehouse

@main
struct Nexus: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nexus",
        abstract: "Turn raw customer data into one identity graph, and shape it for Customer.io.",
        version: "nexus \(SyncPayload.libraryVersion) (SQLite \(SQLiteWarehouse.sqliteVersion))",
        subcommands: [Run.self, Compile.self, SQLFiles.self, Demo.self, Show.self, Explain.self, Report.self, Generate.self, Export.self, CustomerIO.self, Doctor.self, Sync.self])

    /// How to call this binary again from the current folder: `nexus` when that is what PATH
    /// finds, else its path (after `swift run nexus demo`, `.build/debug/nexus`), so that the
    /// hints nexus prints work as printed.
    static var invocation: String {
        let me = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
        let real = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? me
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(dir)).appendingPathComponent("nexus").resolvingSymlinksInPath().path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate == real ? "nexus" : real }
        }
        // SwiftPM's short links to its build folders read better than the triple-named path.
        for short in [".build/debug/nexus", ".build/release/nexus"]
        where URL(fileURLWithPath: short).resolvingSymlinksInPath().path == real {
            return short
        }
        let cwd = FileManager.default.currentDirectoryPath + "/"
        return real.hasPrefix(cwd) ? String(real.dropFirst(cwd.count)) : real
    }

    /// Runs a command body, rendering a NexusError once, on one line, with a non-zero exit.
    static func guarded(_ body: () throws -> Void) throws {
        Interrupts.install()
        do {
            try body()
        } catch let e as NexusError {
            FileHandle.standardError.write(Data("error: \(e.description)\n".utf8))
            throw ExitCode(1)
        }
    }
}

struct ProjectOption: ParsableArguments {
    @Option(name: .long, help: "The project folder (holding nexus.yml).")
    var project: String = "."

    @Option(name: .long, help: "A warehouse from nexus.yml's targets: to use instead of warehouse:.")
    var target: String?

    /// The project, with the warehouse `--target` names.
    func load() throws -> Project { try Project.load(root: root, target: target) }

    /// The project and its warehouse, for commands that read a built project.
    func open() throws -> (Project, any Warehouse) {
        let project = try load()
        return (project, try Warehouses.open(project))
    }

    /// The project and its warehouse, for the commands that only work on SQLite so far.
    var root: String {
        let url = URL(fileURLWithPath: project, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
        return url.standardizedFileURL.path
    }
}

/// Ctrl-C and SIGTERM: statements running in a Snowflake warehouse are cancelled there before
/// nexus exits (a local or PostgreSQL warehouse stops with the process or its connection).
/// What a killed run leaves (staging tables) the next run drops, as everywhere.
enum Interrupts {
    nonisolated(unsafe) static var sources: [DispatchSourceSignal] = []
    static let once: Void = {
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                let n = SnowflakeClient.cancelEverything()
                if n > 0 { FileHandle.standardError.write(Data("interrupted: cancelled \(n) statement(s) running in Snowflake\n".utf8)) }
                SnowflakeWarehouse.releaseLeases()
                exit(sig == SIGINT ? 130 : 143)
            }
            source.resume()
            sources.append(source)
        }
    }()
    static func install() { _ = once }
}
