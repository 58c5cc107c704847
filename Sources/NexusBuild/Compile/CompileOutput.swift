import Foundation
import NexusCore

/// The folder `nexus compile` writes: one `.sql` file per step with statements in it, in
/// order (`NN_<step>.sql`), and a README saying how to run them.
///
/// Files are written into a sibling folder and moved into place at the end, so a compile that
/// fails leaves the previous compile's folder as it was.
final class CompileOutput {
    struct File { var title: String; var statements: Int; var temp: String }

    static let marker = "# nexus compile"

    let directory: String
    let work: String
    private(set) var files: [File] = []
    private var handle: FileHandle?
    private var count = 0
    private var total = 0

    init(directory: String) throws {
        let fm = FileManager.default
        self.directory = directory
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: directory, isDirectory: &isDir) {
            guard isDir.boolValue else { throw NexusError("compile", "--out \(directory) is a file, not a folder") }
            let entries = try fm.contentsOfDirectory(atPath: directory).filter { !$0.hasPrefix(".") }
            let readme = (directory as NSString).appendingPathComponent("README.md")
            let ours = (try? String(contentsOfFile: readme, encoding: .utf8))?.hasPrefix(CompileOutput.marker) ?? false
            if !entries.isEmpty, !ours {
                throw NexusError("compile", "--out \(directory) holds files nexus compile did not write (\(entries.sorted().prefix(3).joined(separator: ", "))): give an empty or new folder")
            }
        }
        work = directory.hasSuffix("/") ? String(directory.dropLast()) + ".compiling" : directory + ".compiling"
        try? fm.removeItem(atPath: work)
        do {
            try fm.createDirectory(atPath: work, withIntermediateDirectories: true)
        } catch {
            throw NexusError("compile", "cannot create \(work): \(error.localizedDescription)")
        }
    }

    /// Appends one statement to the current step's file.
    func add(_ statement: String) throws {
        if handle == nil {
            let path = (work as NSString).appendingPathComponent(".part\(files.count)")
            FileManager.default.createFile(atPath: path, contents: nil)
            guard let h = FileHandle(forWritingAtPath: path) else { throw NexusError("compile", "cannot write \(path)") }
            handle = h
        }
        handle!.write(Data((statement + ";\n\n").utf8))
        count += 1
        total += 1
    }

    /// Ends the current step's file under `title`; a step that sent no statement has none.
    func cut(_ title: String) throws {
        guard let h = handle else { return }
        try h.close()
        handle = nil
        files.append(File(title: title, statements: count, temp: (work as NSString).appendingPathComponent(".part\(files.count)")))
        count = 0
    }

    var statements: Int { total }

    static func slug(_ title: String) -> String {
        var out = ""
        for c in title.lowercased().unicodeScalars {
            if (c >= "a" && c <= "z") || (c >= "0" && c <= "9") { out.unicodeScalars.append(c) } else if !out.hasSuffix("_") { out += "_" }
        }
        while out.hasSuffix("_") { out.removeLast() }
        return String(out.prefix(60))
    }

    /// The files' final names, in order.
    var names: [String] {
        let width = max(2, String(files.count).count)
        return files.enumerated().map { i, f in
            let n = String(i + 1)
            return String(repeating: "0", count: width - n.count) + n + "_" + CompileOutput.slug(f.title) + ".sql"
        }
    }

    /// Writes each file with its header, the README, and moves the folder into place.
    func finish(header: (Int, File) -> String, readme: ([(name: String, file: File)]) -> String) throws {
        if handle != nil { try cut("statements") }
        let fm = FileManager.default
        for (i, (name, f)) in zip(names, files).enumerated() {
            let path = (work as NSString).appendingPathComponent(name)
            fm.createFile(atPath: path, contents: Data(header(i, f).utf8))
            guard let out = FileHandle(forWritingAtPath: path), let input = FileHandle(forReadingAtPath: f.temp) else {
                throw NexusError("compile", "cannot write \(path)")
            }
            out.seekToEndOfFile()
            while case let chunk = input.readData(ofLength: 1 << 20), !chunk.isEmpty { out.write(chunk) }
            try out.close(); try input.close()
            try fm.removeItem(atPath: f.temp)
        }
        try readme(Array(zip(names, files)).map { (name: $0.0, file: $0.1) })
            .write(toFile: (work as NSString).appendingPathComponent("README.md"), atomically: true, encoding: .utf8)
        if fm.fileExists(atPath: directory) { try fm.removeItem(atPath: directory) }
        try fm.moveItem(atPath: work, toPath: directory)
    }

    /// Removes the half-written folder after a failure.
    func discard() {
        try? handle?.close()
        try? FileManager.default.removeItem(atPath: work)
    }
}
