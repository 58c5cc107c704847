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
    struct CustomerIO: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "customerio", abstract: "Customer.io: the Reverse ETL setup of the project's outputs.",
            subcommands: [Queries.self])

        struct Queries: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "For each Customer.io output: its sync type, Reverse ETL query, column mapping, and the initial sync order.")
            @OptionGroup var options: ProjectOption
            @Option(help: "Write the queries for this warehouse (sqlite, postgres, snowflake); default: the project's.")
            var dialect: String?

            func run() throws {
                try Nexus.guarded {
                    let (project, w) = try options.open()
                    try w.useReadCache()
                    var outputs: [(name: String, shape: SyncShape, columns: [String])] = []
                    for m in project.models {
                        guard let cols = try w.columns(of: m.name)?.map(\.name), let shape = SyncShape(columns: cols) else { continue }
                        outputs.append((m.name, shape, cols))
                    }
                    guard !outputs.isEmpty else {
                        throw NexusError("customerio", "no model of this project is shaped for Customer.io (userId / anonymousId, event, groupId + objectTypeId); run `nexus run` first")
                    }
                    outputs.sort { ($0.shape.order, $0.name) < ($1.shape.order, $1.name) }
                    let wanted = self.dialect ?? w.dialect.name
                    guard let dialect = Dialects.named(wanted) else {
                        throw NexusError("customerio", "unknown dialect '\(wanted)' (\(Dialects.all.map(\.name).joined(separator: ", ")))")
                    }
                    if dialect is SQLiteDialect {
                        print("note: Customer.io's Reverse ETL cannot read an embedded SQLite file; the queries below run where the")
                        print("      tables live. Push from here with `nexus sync customerio` (or `nexus export`).\n")
                    }
                    for o in outputs {
                        print("== \(o.name): \(o.shape.syncType) sync")
                        print(ReverseETLQuery.sql(relation: o.name, dialect: dialect).split(separator: "\n").map { "   " + $0 }.joined(separator: "\n"))
                        print("   mapping:")
                        for m in o.shape.mapping(columns: o.columns) { print("     \(m.field.padding(toLength: 24, withPad: " ", startingAt: 0)) <- \(m.column)") }
                        let mapped = Set(o.shape.mapping(columns: o.columns).map(\.column))
                        let rest = o.columns.filter { !mapped.contains($0) }
                        if !rest.isEmpty { print("     other columns become \(o.shape.otherColumns): \(rest.joined(separator: ", "))") }
                        print("")
                    }
                    print("initial sync order: " + outputs.map { "\($0.name) (\($0.shape.rawValue))" }.joined(separator: " → "))
                    print("after the first load, syncs can run in parallel; events may run any time after persons.")
                }
            }
        }
    }
}
