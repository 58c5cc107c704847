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
    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print rows of a relation as a table.")
        @Argument(help: "The relation (table or view) to show.")
        var relation: String
        @Option(help: "Rows to show.")
        var limit: Int = 20
        @OptionGroup var options: ProjectOption

        func run() throws {
            try Nexus.guarded {
                let (_, w) = try options.open()
                guard try w.relationKind(relation) != nil else {
                    let names = try w.relations().map(\.name).filter { !$0.hasPrefix("_nexus") && !$0.hasPrefix("__nexus") }
                    throw NexusError("show", "no relation named '\(relation)' (there are: \(names.joined(separator: ", ")))")
                }
                let r = try w.query("SELECT * FROM \(id: relation) LIMIT \(max(0, limit))" as SQL)
                let total = try w.query("SELECT count(*) FROM \(id: relation)" as SQL).rows.first?.first?.description ?? "?"
                print(TextTable.render(header: r.columns, rows: r.rows.map { $0.map { $0.isNull ? "NULL" : $0.description } }))
                print("\(r.rows.count) of \(total) rows")
            }
        }
    }
}
