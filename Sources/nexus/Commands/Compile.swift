import ArgumentParser
import Foundation
import NexusBuild
import NexusCore
import NexusProject

extension Nexus {
    struct Compile: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the SQL a full run sends to the warehouse, one file per step, to run by hand.",
            discussion: """
                The compile builds into staging and publishes nothing: the published build is untouched, and \
                what the run learned from the data (model columns, trait names, seed rows) is in the text. \
                Identity resolution is written out for a fixed number of rounds, then a convergence check. \
                The folder's README.md says how to run the files with the warehouse's own client.
                """)
        @OptionGroup var options: ProjectOption
        @Option(help: "The folder to write (new, empty, or written by an earlier compile).")
        var out: String
        @Option(help: "Identity resolution rounds to write out (rounded up to even; more when the data needs more).")
        var rounds = 16

        func validate() throws {
            guard rounds >= 1, rounds <= 1000 else { throw ValidationError("--rounds is between 1 and 1000") }
        }

        func run() throws {
            try Nexus.guarded {
                let project = try options.load()
                let warehouse = try Warehouses.open(project)
                let dir = URL(fileURLWithPath: out, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).standardizedFileURL.path
                FileHandle.standardError.write(Data("nexus: compiling \(project.config.name) against \(warehouse.location) (a run into staging; nothing is published)\n".utf8))
                let compiled = try Runner.compile(project: project, warehouse: warehouse, into: dir, rounds: rounds, reporter: StderrReporter())
                print("wrote \(compiled.files.count) files, \(compiled.statements) statements, to \(compiled.directory)")
                print("identity resolution: \(compiled.roundsWritten) rounds written out (this data needed \(compiled.roundsNeeded)), then a convergence check")
                print("run them in order: see \(compiled.directory)/README.md")
            }
        }
    }
}
