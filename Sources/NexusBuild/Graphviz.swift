import Foundation
import NexusCore

/// Lays out a DOT graph with Graphviz's `dot` program, when it is installed: nexus writes the
/// graph itself (`--format dot` works everywhere) and leaves the layout to the tool made for it.
public enum Graphviz {
    /// The `dot` program on PATH, or nil.
    public static func program() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/dot" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// The graph as SVG.
    public static func svg(_ dot: String, for what: String) throws -> String {
        guard let program = program() else {
            throw NexusError(what, "this format needs Graphviz's `dot` program to lay the graph out, and it is not installed (Debian: apt-get install graphviz); --format dot writes the graph for it")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: program)
        p.arguments = ["-Tsvg"]
        let input = Pipe(), output = Pipe(), errors = Pipe()
        p.standardInput = input; p.standardOutput = output; p.standardError = errors
        try p.run()
        // Written from another thread: a large graph's SVG could fill the output pipe while
        // the input is still being written.
        let data = Data(dot.utf8)
        let writer = Thread { input.fileHandleForWriting.write(data); try? input.fileHandleForWriting.close() }
        writer.start()
        let svg = output.fileHandleForReading.readDataToEndOfFile()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw NexusError(what, "Graphviz's dot failed: \(String(decoding: message, as: UTF8.self).split(separator: "\n").first ?? "")")
        }
        return String(decoding: svg, as: UTF8.self)
    }
}
