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
    struct Sync: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Push outputs to a destination.", subcommands: [CustomerIO.self])

        struct CustomerIO: ParsableCommand {
            static let configuration = CommandConfiguration(
                commandName: "customerio",
                abstract: "Send new and changed rows of the Customer.io outputs through the Data Pipelines API (persons, objects, relationships, events).",
                discussion: "The API key is read from the environment variable named by customerio.api_key_env in nexus.yml (default CUSTOMERIO_API_KEY), never from the command line.")
            @OptionGroup var options: ProjectOption
            @Option(help: "Only these kinds: persons, objects, relationships, events (comma-separated).")
            var only: String?
            @Flag(help: "Print the plan (counts and sample payloads); send nothing, change nothing.")
            var dryRun = false
            @Flag(help: "Resend every row, not only new and changed ones.")
            var full = false
            @Option(help: "upsert, or mirror: also delete objects and relationships that left the outputs (never people).")
            var mode: SyncPlanner.Mode = .upsert

            func run() throws {
                try Nexus.guarded {
                    let (project, w) = try options.open()
                    // One sync at a time (each reads and writes the sync log), reading a
                    // published build: a run that is publishing is waited for.
                    let timeout = project.config.warehouse.lockTimeout
                    let syncLock = dryRun ? nil : try w.lock(.sync, timeout: timeout)
                    let readLock = try w.lock(.read, timeout: timeout)
                    defer { readLock.release(); syncLock?.release() }
                    try w.useReadCache()
                    let cfg = project.config.customerIO
                    var names = cfg.outputs
                    if names.isEmpty {
                        for m in project.models {
                            if let cols = try w.columns(of: m.name)?.map(\.name), SyncShape(columns: cols) != nil { names.append(m.name) }
                        }
                    }
                    guard !names.isEmpty else { throw NexusError("sync", "no Customer.io outputs: list them under customerio.outputs in nexus.yml, or build models shaped for Customer.io") }
                    var shapes: Set<SyncShape>? = nil
                    if let only {
                        shapes = try Set(only.split(separator: ",").map { word -> SyncShape in
                            switch word.trimmingCharacters(in: .whitespaces) {
                            case "persons": return .identify
                            case "objects": return .objects
                            case "relationships": return .relationships
                            case "events": return .track
                            default: throw NexusError("sync", "--only takes persons, objects, relationships, events; not '\(word)'")
                            }
                        })
                    }
                    let planner = SyncPlanner(warehouse: w)
                    // People nexus found to be one since the last sync: merged first.
                    let persons = try planner.outputs(names, shapes: shapes).filter { $0.shape == .identify }.map(\.name)
                    let merging = PersonMerges(warehouse: w)
                    let due = try merging.pending(personOutputs: persons)
                    if dryRun {
                        for m in due.merges { print("merge (Track API): \(m.key) (entity \(m.entity))") }
                        let plan = try planner.plan(outputs: names, shapes: shapes, full: full, mode: mode)
                        for o in plan.outputs {
                            let counts = SyncPlan.Operation.allCases.map { "\($0.rawValue) \(TextTable.group(o.count($0)))" }.joined(separator: ", ")
                            print("\(o.name) (\(o.shape.rawValue)): \(counts)")
                            for item in o.samples where item.json != nil { print("  sample \(item.operation.rawValue): \(item.json!)") }
                            for item in o.samples where item.operation == .rejected { print("  rejected \(item.key): \(item.error ?? "")") }
                        }
                        for p in try UserIDCheck(warehouse: w).problems(in: plan.outputs.map(\.name)) { print("warning: \(p.output): \(p.message)") }
                        print("dry run: nothing sent, no state changed")
                        return
                    }
                    let outputs = try planner.outputs(names, shapes: shapes)
                    guard let key = ProcessInfo.processInfo.environment[cfg.apiKeyEnv], !key.isEmpty else {
                        throw NexusError("sync", "the API key is not set: export \(cfg.apiKeyEnv)=… (the variable customerio.api_key_env names)")
                    }
                    let runID = "run_" + NexusID.md5Hex("\(Date().timeIntervalSince1970)-\(ProcessInfo.processInfo.processIdentifier)").prefix(12)
                    var settings = SyncSender.Settings(baseURL: cfg.baseURL, apiKey: key, requestsPerSecond: cfg.requestsPerSecond)
                    settings.gzip = cfg.gzip
                    let sender = SyncSender(settings: settings, warehouse: w, runID: String(runID))
                    var track: SyncSender.TrackSettings?
                    if !due.merges.isEmpty {
                        let env = ProcessInfo.processInfo.environment
                        guard let site = env[cfg.siteIDEnv], !site.isEmpty, let trackKey = env[cfg.trackAPIKeyEnv], !trackKey.isEmpty else {
                            throw NexusError("sync", "\(due.merges.count) person merge(s) to send through Customer.io's Track API, whose credentials are not set: export \(cfg.siteIDEnv)=… and \(cfg.trackAPIKeyEnv)=… (customerio.site_id_env, customerio.track_api_key_env); nothing was sent")
                        }
                        track = SyncSender.TrackSettings(baseURL: cfg.trackBaseURL, siteID: site, apiKey: trackKey)
                    }
                    let send = { () throws -> SyncSender.Summary in
                        if let track {
                            let failed = try sender.sendMerges(due.merges, track: track, personOutputs: persons)
                            print("merges: \(due.merges.count - failed) sent, \(failed) failed")
                            if failed == 0 { try merging.advance(through: due.throughRun) }
                        } else {
                            try merging.advance(through: due.throughRun)
                        }
                        return try sender.send(outputs, planner: planner, full: full, mode: mode) { print($0) }
                    }
                    // The sync's own writes must not make the last build look stale.
                    let s = try BuildState.preservingBuild(w, send)
                    print("sent \(s.sent), deleted \(s.deleted), unchanged \(s.unchanged), failed \(s.failed), rejected \(s.skipped), merged \(s.merged); \(s.requests) request(s), \(TextTable.group(s.bytes)) bytes, \(String(format: "%.2f", s.seconds)) s (run \(runID))")
                    if s.failed > 0 { throw ExitCode(2) }
                }
            }
        }
    }
}

extension SyncPlanner.Mode: ExpressibleByArgument {}
