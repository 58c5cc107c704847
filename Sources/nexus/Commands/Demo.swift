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
    struct Demo: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write the bundled demo project (a multi-location clinic) and run it.")
        @Argument(help: "Where to write the demo project.")
        var directory: String = "nexus-demo"

        func run() throws {
            try Nexus.guarded {
                let root = URL(fileURLWithPath: directory).standardizedFileURL.path
                try DemoProject.write(to: root)
                FileHandle.standardError.write(Data("nexus: wrote the demo project to \(root)\n".utf8))
                try Nexus.build(root: root)
                let me = Nexus.invocation
                print("next: \(me) show nexus_entities --project \(directory)   |   \(me) explain email chain.walker@example.com --project \(directory)")
            }
        }
    }
}
