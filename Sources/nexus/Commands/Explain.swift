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
    struct Explain: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the entity an identifier belongs to and why each of its identifiers is part of it.")
        @Argument(help: "Identifier type, e.g. email.")
        var type: String
        @Argument(help: "Identifier value, exactly as resolved.")
        var value: String
        @Option(name: .customLong("entity-type"), help: "Entity type.")
        var entityType: String = "person"
        @OptionGroup var options: ProjectOption

        func run() throws {
            try Nexus.guarded {
                let (_, w) = try options.open()
                let x = try Explainer(warehouse: w).explain(type: type, value: value, entityType: entityType)
                print("\(x.entityType) \(x.entityID): \(x.links.count) identifier(s)")
                for link in x.links {
                    if link.path.isEmpty {
                        print("\n  \(link.identifier)\(link.identifier == "\(type) \(value)" ? "   (asked about)" : "   (no link found)")")
                        continue
                    }
                    print("\n  \(link.identifier)   \(link.path.count) hop(s)")
                    for hop in link.path {
                        let what = [hop.eventName, hop.occurredAt].compactMap { $0 }.joined(separator: " at ")
                        print("    from \(hop.from)  via edge \(hop.edgeID)  (event \(hop.eventID)\(what.isEmpty ? "" : ": " + what))")
                    }
                }
            }
        }
    }
}
