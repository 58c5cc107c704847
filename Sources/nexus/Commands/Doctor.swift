import ArgumentParser
import Foundation
import NexusBuild
import NexusCore
import NexusOutputs
import NexusProject
import NexusSQL
import NexusScaffold
import NexusWarehouse

extension Nexus {
    struct Doctor: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the Customer.io outputs: rows surviving each step, duplicates, missing traits, unsynced people and objects, sync order.")
        @Option(help: "Also say why this trait is or is not in the identify outputs.")
        var trait: String?
        @OptionGroup var options: ProjectOption

        func run() throws {
            try Nexus.guarded {
                let (project, w) = try options.open()
                try w.useReadCache()
                let findings = try NexusBuild.Doctor(project: project, warehouse: w).run(trait: trait)
                for f in findings { print("\(f.severity == .warning ? "warning" : "info   ")  \(f.model): \(f.message)") }
                let warnings = findings.filter { $0.severity == .warning }.count
                print("\(warnings) warning(s)")
            }
        }
    }
}
