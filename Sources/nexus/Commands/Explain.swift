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
        @Option(help: "text (the links as a tree), dot (Graphviz's language), svg or html (laid out by Graphviz's dot).")
        var format: Format = .text
        @OptionGroup var options: ProjectOption

        enum Format: String, ExpressibleByArgument, CaseIterable { case text, dot, svg, html }

        func run() throws {
            try Nexus.guarded {
                let (_, w) = try options.open()
                let x = try Explainer(warehouse: w).explain(type: type, value: value, entityType: entityType)
                switch format {
                case .text: print(x.tree())
                case .dot: print(x.dot())
                case .svg: print(try Graphviz.svg(x.dot(), for: "explain"), terminator: "")
                case .html: print(x.html(svg: try Graphviz.svg(x.dot(), for: "explain")), terminator: "")
                }
            }
        }
    }
}
