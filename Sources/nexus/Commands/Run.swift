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
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Build seeds, models and the nexus tables into the project's warehouse.")
        @OptionGroup var options: ProjectOption
        @Flag(help: "Rebuild even when nothing changed since the last successful build.")
        var full = false

        func run() throws {
            try Nexus.guarded { try Nexus.build(root: options.root, target: options.target, force: full) }
        }
    }

    static func build(root: String, target: String? = nil, force: Bool = false) throws {
        let started = Date()
        let project = try Project.load(root: root, target: target)
        let warehouse = try NexusBuild.Runner.openWarehouse(project)
        let reporter = StderrReporter()
        let runner = NexusBuild.Runner(project: project, warehouse: warehouse, reporter: reporter)
        runner.started = { FileHandle.standardError.write(Data("nexus: building \(project.config.name) into \(warehouse.location)\n".utf8)) }
        try runner.run(force: force)
        var table: [[String]] = []
        for name in project.nexusRelations {
            table.append([name, runner.relationRows[name].map(TextTable.group) ?? "?"])
        }
        print(TextTable.render(header: ["nexus table", "rows"], rows: table, rightAligned: [1]))
        let secs = Date().timeIntervalSince(started)
        print("built in \(String(format: "%.2f", secs)) s; \(reporter.warnings) warning(s)")
    }
}
