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
    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write relations to CSV or JSON Lines (timestamps ISO-8601 UTC, JSON columns as JSON).")
        @Argument(help: "The relations to export.")
        var models: [String]
        @Option(help: "csv or jsonl.")
        var format: Exporter.Format = .csv
        @Option(help: "The folder to write into.")
        var out: String
        @OptionGroup var options: ProjectOption

        func run() throws {
            try Nexus.guarded {
                let (project, w) = try options.open()
                // The relations of one export come from one build.
                let lock = try w.lock(.read, timeout: project.config.warehouse.lockTimeout)
                defer { lock.release() }
                for m in models {
                    let r = try Exporter(warehouse: w).export(m, format: format, to: out)
                    print("\(r.path): \(TextTable.group(r.rows)) rows")
                }
            }
        }
    }
}

extension Exporter.Format: ExpressibleByArgument {}
