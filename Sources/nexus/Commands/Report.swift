import ArgumentParser
import Foundation
import NexusBuild
import NexusCore

extension Nexus {
    struct Report: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write one self-contained HTML page about the last build: its steps, entity sizes, the largest entities with their pictures, edge-quality offenders, trait coverage, the Customer.io outputs and the last syncs.")
        @Option(help: "Where to write the page (default: nexus-report.html in the project folder).")
        var out: String?
        @OptionGroup var options: ProjectOption

        func run() throws {
            try Nexus.guarded {
                let (project, w) = try options.open()
                let page = try RunReport.gather(project: project, warehouse: w).html()
                let path = out ?? (options.root as NSString).appendingPathComponent("nexus-report.html")
                do {
                    try page.write(toFile: path, atomically: true, encoding: .utf8)
                } catch {
                    throw NexusError("report", "cannot write \(path): \(error.localizedDescription)")
                }
                print("wrote \(path)")
            }
        }
    }
}
