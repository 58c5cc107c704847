import Foundation
import NexusCore
import NexusEngine
import NexusProject
import NexusWarehouse

/// What `nexus compile` wrote.
public struct CompiledRun: Sendable {
    /// The folder, and its `.sql` files in the order to run them.
    public var directory: String
    public var files: [String]
    public var statements: Int
    /// Identity resolution's rounds as written out, and the rounds the data needed.
    public var roundsWritten: Int
    public var roundsNeeded: Int
}

// `nexus compile`: a run that writes down its SQL and publishes nothing.
extension Runner {
    /// Writes the SQL a full run of `project` sends to `warehouse` into `directory`, one file
    /// per step, runnable by hand in order with the warehouse's own client.
    ///
    /// The compile is a run that builds into staging and then, instead of publishing, writes
    /// the publish down and drops its staging: the published build is untouched (the build
    /// lock is held as by a run), and what the run learned from the data (each model's
    /// columns, the trait names, the edge-quality rows, the seeds' rows) is in the text.
    /// Every node is built, as with `nexus run --full`, and the nexus step is the SQL engine's,
    /// whatever `engine:` says (the native engine writes the same rows; it has no SQL to show).
    /// Identity resolution is written out for `rounds` rounds (even; more when the data needs
    /// more), then a check that fails the script if the last round still changed a label.
    public static func compile(project: Project, warehouse: any Warehouse, into directory: String, rounds: Int = 16,
                               reporter: any RunReporter, processedAt: Int64? = nil) throws -> CompiledRun {
        let lock = try warehouse.lock(.build, timeout: project.config.warehouse.lockTimeout)
        defer { lock.release() }
        // The compile writes staging into the warehouse and drops it again: the last build's
        // record stays good (as around a sync's writes).
        return try BuildState.preservingBuild(warehouse) {
            try compile(project: project, recording: warehouse, into: directory, rounds: rounds, reporter: reporter, processedAt: processedAt)
        }
    }

    static func compile(project: Project, recording warehouse: any Warehouse, into directory: String, rounds: Int,
                        reporter: any RunReporter, processedAt: Int64?) throws -> CompiledRun {
        let output = try CompileOutput(directory: directory)
        let recorder = RecordingWarehouse(warehouse, sink: output.add)
        let engine = SQLEngine(fixedRounds: rounds)
        let steps = CompileReporter(reporter, output)
        let runner = Runner(project: project, warehouse: recorder, reporter: steps, processedAt: processedAt, engine: engine)
        runner.loadsEverySeed = true
        recorder.stagedName = { Runner.stagePrefix + $0 }
        runner.checkpoint = { try? output.cut($0) }
        do {
            // A killed run's staging is not this run's SQL.
            recorder.recording = false
            try runner.dropStaged()
            recorder.recording = true
            try recorder.installCompatibilityFunctions()
            try output.cut("warehouse functions")
            try runner.build(previous: [:], publish: false)
            recorder.dry = true
            try runner.swap()
            try output.cut("publish")
            recorder.dry = false
            recorder.recording = false
            try runner.dropStaged()
        } catch {
            recorder.dry = false
            recorder.recording = false
            try? warehouse.withoutStatementTimeout { try runner.dropStaged() }
            output.discard()
            throw error
        }
        let needed = engine.lastResolution?.rounds ?? 0, written = engine.lastResolution?.roundsSent ?? 0
        let header = CompileOutput.Header(project: project.config.name, warehouse: project.config.warehouse.type,
                                          processedAt: Timestamp.format(runner.processedAt), roundsWritten: written, roundsNeeded: needed,
                                          requested: rounds)
        let total = output.files.count
        try output.finish(header: { i, f in header.fileHeader(index: i, of: total, title: f.title) }, readme: header.readme)
        return CompiledRun(directory: directory, files: output.names, statements: output.statements, roundsWritten: written, roundsNeeded: needed)
    }
}

/// Ends a compiled file at each step a run reports, and passes the report on.
final class CompileReporter: RunReporter {
    let inner: any RunReporter
    let output: CompileOutput
    init(_ inner: any RunReporter, _ output: CompileOutput) { self.inner = inner; self.output = output }

    func step(_ result: StepResult) {
        let title: String
        switch result.kind {
        case "engine": title = result.name.hasPrefix("identity resolution") ? "identity resolution" : result.name
        case "nexus": title = result.name == "indexes" ? "nexus indexes" : result.name
        case "check": title = result.name
        default: title = "\(result.kind) \(result.name)"
        }
        try? output.cut(title)
        inner.step(result)
    }

    func warning(_ message: String) { inner.warning(message) }
}

extension CompileOutput {
    /// The words at the top of each file and in the README.
    struct Header {
        var project: String
        var warehouse: String
        var processedAt: String
        var roundsWritten: Int
        var roundsNeeded: Int
        var requested: Int

        func fileHeader(index: Int, of total: Int, title: String) -> String {
            var text = "-- nexus compile: project \(project), warehouse \(warehouse); step \(index + 1) of \(total): \(title)\n"
            text += "-- Run the files of this folder in order (README.md says how).\n"
            if title.hasSuffix(" rounds") {
                text += "-- Identity resolution's rounds, written out: each round lowers labels (the smallest node of each\n"
                text += "-- component) across links and by a pointer jump, and records the labels it changed; a round after\n"
                text += "-- the last change changes nothing. \(roundsWritten) rounds here; this data needed \(roundsNeeded) (the last of them changed\n"
                text += "-- nothing). An even count ends where the first round began, so this file can be run again as it is.\n"
            }
            if title.hasSuffix("convergence check") {
                text += "-- Fails when the last round still changed a label (a chain longer than the rounds written out):\n"
                text += "-- then run the rounds file again and this check after it.\(warehouse == "sqlite" ? " On SQLite the failure reads \"malformed JSON\"." : "")\n"
            }
            return text + "\n"
        }

        func readme(_ files: [(name: String, file: CompileOutput.File)]) -> String {
            var text = "\(CompileOutput.marker): \(project) (\(warehouse))\n\n"
            text += "The SQL `nexus run --full` sends to this warehouse, one file per step, in the order to run them.\n\n"
            text += "## Running it by hand\n\n"
            switch warehouse {
            case "postgres":
                text += "With psql, on the same database, with `search_path` set to the same schema, stopping at the first error:\n\n"
                text += "    for f in [0-9]*.sql; do psql -v ON_ERROR_STOP=1 -f \"$f\" || break; done\n\n"
            case "snowflake":
                text += "With SnowSQL, on the same database and schema (and role and warehouse), stopping at the first error:\n\n"
                text += "    for f in [0-9]*.sql; do snowsql -o exit_on_error=true -f \"$f\" || break; done\n\n"
            default:
                text += "With nexus (nexus's SQL functions, such as md5 and to_timestamp_ntz, live in its SQLite connections, not in the `sqlite3` shell):\n\n"
                text += "    nexus sql --project PROJECT [0-9]*.sql\n\n"
            }
            text += "`nexus sql` runs them on any of nexus's warehouses.\n\n"
            text += "## Files\n\n| file | statements |\n|---|---:|\n"
            for f in files { text += "| \(f.name) | \(f.file.statements) |\n" }
            text += """

                ## What to know

                - This is a run against the warehouse as it was when compiled: nexus built everything into
                  staging (`__nexus_stage__…`) and dropped it again instead of publishing; the published build
                  was not touched. What the run learned from the data is in the text: each model's columns (and
                  so which source columns the core relations convert), the trait names (the columns of
                  `nexus_entities`), the edge-quality rows and the seeds' rows (as INSERTs).
                - The nexus step is the SQL engine's (`engine: sql`), whatever nexus.yml says: the native engine
                  writes the same rows in Swift and has no SQL to show.
                - Identity resolution runs \(roundsWritten) rounds (`--rounds \(requested)`, even; the data compiled needed \(roundsNeeded)),
                  then a convergence check that fails the script if the last round still changed a label.
                - `_processed_at` is \(processedAt) (`SOURCE_DATE_EPOCH` sets another: same inputs, same files).
                - The publish step replaces the relations as they were at compile time; nexus's own bookkeeping
                  (`_nexus_state`, `_nexus_seed_state`, `_nexus_lock`) is not written, so after a run by hand the
                  next `nexus run` builds everything again.

                """
            return text
        }
    }
}
