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
    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write a synthetic clinic project of any size (deterministic), for benchmarks.")
        @Option(help: "Number of persons.")
        var persons: Int = 10_000
        @Option(help: "Where to write the project.")
        var out: String
        @Option(help: "Random seed.")
        var seed: UInt64 = 42
        @Flag(help: "Also write Customer.io outputs and a customerio: section (for sync benchmarks).")
        var customerio = false
        @Flag(help: "Also write the user's four Customer.io example models as written (and the journey model they read).")
        var seedOutputs = false
        @Option(help: "Shape: anonymous visitors per person who never identify (more entities).")
        var visitors: Double = 0
        @Option(help: "Shape: further appointments per person at other locations (more relationship declarations).")
        var extraDeclarations: Int = 0
        @Flag(help: "Shape: trait values unique to each row (more distinct values).")
        var uniqueTraitValues = false
        @Flag(name: .customLong("nexus-ids"), help: "Shape: ids as create_nexus_id makes them (evt_ + 32 hex digits), not short counters.")
        var nexusIDs = false

        func run() throws {
            try Nexus.guarded {
                let root = URL(fileURLWithPath: out).standardizedFileURL.path
                let stats = try {
                    var clinic = SyntheticClinic(persons: persons, seed: seed, customerIO: customerio, seedOutputs: seedOutputs)
                    clinic.shape.visitors = visitors
                    clinic.shape.extraDeclarations = extraDeclarations
                    clinic.shape.uniqueTraitValues = uniqueTraitValues
                    clinic.shape.nexusIDs = nexusIDs
                    return clinic
                }().write(to: root)
                print("wrote \(root): \(stats.events) events, \(stats.identifiers) identifier rows, \(stats.traits) trait rows, \(stats.declarations) relationship declarations")
            }
        }
    }
}
