import Foundation
import NexusCore
import NexusEngine
import NexusProject
import NexusWarehouse

// Incremental resolution (`incremental: true`): what the runner gives the engine, checks
// before, and keeps after.
extension Runner {
    static let resolutionState = "resolution"

    /// The engine's incremental resolution for this run, or nil for a project without it.
    func incrementalResolution() throws -> IncrementalResolution? {
        guard project.config.incremental else { return nil }
        let previous = try warehouse.readState(Runner.resolutionState).flatMap {
            try? JSONDecoder().decode(IncrementalResolution.State.self, from: Data($0.utf8))
        }
        let w = warehouse
        var inc = IncrementalResolution(contract: !fullRun, runID: Timestamp.format(processedAt), previous: previous) { type, body in
            let table = "nexus_resolved_\(type)_identifiers"
            guard try w.relationKind(table) == .table else { return }
            let cols = IncrementalResolution.mappingColumns(type).map { w.dialect.quote($0) }.joined(separator: ", ")
            try w.scanPipelined("SELECT \(cols) FROM \(w.dialect.quote(table))", body)
        }
        inc.report = { [unowned self] outcome in
            self.resolutionOutcome = outcome
            self.record(StepResult(kind: "check", name: "incremental resolution", rows: outcome.logRows, seconds: 0, note: outcome.summary))
        }
        return inc
    }

    /// Every source's events, identifiers and traits must carry `_ingested_at`: the
    /// watermark is on ingestion time.
    func checkIngestedAt() throws {
        guard project.config.incremental else { return }
        var missing: [String] = []
        for kind in [SourceContract.Kind.events, .identifiers, .traits] {
            for input in sourceInputs(kind) {
                let columns = try warehouse.columns(of: input.physicalName) ?? []
                if !columns.contains(where: { $0.name.lowercased() == "_ingested_at" }) {
                    missing.append(input.relation + (input.file.map { " (\($0))" } ?? ""))
                }
            }
        }
        guard missing.isEmpty else {
            throw NexusError("contract", "incremental: true needs an _ingested_at column on every source's events, identifiers and traits (the watermark is on ingestion time); it is missing in: \(missing.joined(separator: ", "))",
                             at: SourceLocation(file: "nexus.yml"))
        }
    }

    /// In the publish: the run's log rows join the published log (created by the first
    /// incremental run), and the resolution state is kept for the next run.
    func publishResolution() throws {
        let d = warehouse.dialect, log = Project.resolutionLog
        if staged.contains(log) {
            if try warehouse.relationKind(log) == .table {
                try warehouse.execute("INSERT INTO \(d.quote(log)) SELECT * FROM \(d.quote(stage(log)))")
                try warehouse.execute("DROP TABLE \(d.quote(stage(log)))")
            } else {
                try warehouse.renameTable(stage(log), to: log)
            }
            // The summary counts the log's rows, not only this run's.
            relationRows[log] = try warehouse.integer("SELECT count(*) FROM \(d.quote(log))")
        }
        if let outcome = resolutionOutcome {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys  // the same bytes every time
            let state = String(decoding: try encoder.encode(outcome.state), as: UTF8.self)
            try warehouse.writeStates([(Runner.resolutionState, state)])
        }
    }
}
