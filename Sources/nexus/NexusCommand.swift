import ArgumentParser
import Foundation
import NexusBuild
import NexusCore
import NexusOutputs
import NexusProject
import NexusSQL
import NexusScaffold
import NexusWarehouse

@main
struct Nexus: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nexus",
        abstract: "Turn raw customer data into one identity graph, and shape it for Customer.io.",
        version: "nexus \(SyncPayload.libraryVersion) (SQLite \(SQLiteWarehouse.sqliteVersion))",
        subcommands: [Run.self, Demo.self, Show.self, Explain.self, Generate.self, Export.self, CustomerIO.self, Doctor.self, Sync.self])

    /// How to call this binary again from the current folder: `nexus` when that is what PATH
    /// finds, else its path (after `swift run nexus demo`, `.build/debug/nexus`), so that the
    /// hints nexus prints work as printed.
    static var invocation: String {
        let me = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
        let real = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? me
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(dir)).appendingPathComponent("nexus").resolvingSymlinksInPath().path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate == real ? "nexus" : real }
        }
        // SwiftPM's short links to its build folders read better than the triple-named path.
        for short in [".build/debug/nexus", ".build/release/nexus"]
        where URL(fileURLWithPath: short).resolvingSymlinksInPath().path == real {
            return short
        }
        let cwd = FileManager.default.currentDirectoryPath + "/"
        return real.hasPrefix(cwd) ? String(real.dropFirst(cwd.count)) : real
    }

    /// Runs a command body, rendering a NexusError once, on one line, with a non-zero exit.
    static func guarded(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let e as NexusError {
            FileHandle.standardError.write(Data("error: \(e.description)\n".utf8))
            throw ExitCode(1)
        }
    }
}

struct ProjectOption: ParsableArguments {
    @Option(name: .long, help: "The project folder (holding nexus.yml).")
    var project: String = "."

    /// The project and its warehouse, for commands that read a built project.
    func open() throws -> (Project, SQLiteWarehouse) {
        let project = try Project.load(root: root)
        return (project, try NexusBuild.Runner.openWarehouse(project))
    }

    var root: String {
        let url = URL(fileURLWithPath: project, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
        return url.standardizedFileURL.path
    }
}

extension Nexus {
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Build seeds, models and the nexus tables into the project's warehouse.")
        @OptionGroup var options: ProjectOption
        @Flag(help: "Rebuild even when nothing changed since the last successful build.")
        var full = false

        func run() throws {
            try Nexus.guarded { try Nexus.build(root: options.root, force: full) }
        }
    }

    static func build(root: String, force: Bool = false) throws {
        let started = Date()
        let project = try Project.load(root: root)
        let warehouse = try NexusBuild.Runner.openWarehouse(project)
        let reporter = StderrReporter()
        FileHandle.standardError.write(Data("nexus: building \(project.config.name) into \(warehouse.path)\n".utf8))
        let runner = NexusBuild.Runner(project: project, warehouse: warehouse, reporter: reporter)
        try runner.run(force: force)
        var table: [[String]] = []
        for name in project.nexusRelations {
            table.append([name, runner.relationRows[name].map(TextTable.group) ?? "?"])
        }
        print(TextTable.render(header: ["nexus table", "rows"], rows: table, rightAligned: [1]))
        let secs = Date().timeIntervalSince(started)
        print("built in \(String(format: "%.2f", secs)) s; \(reporter.warnings) warning(s)")
    }

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
                let r = try w.query("SELECT * FROM \(w.dialect.quote(relation)) LIMIT \(max(0, limit))")
                let total = try w.query("SELECT count(*) FROM \(w.dialect.quote(relation))").rows.first?.first?.description ?? "?"
                print(TextTable.render(header: r.columns, rows: r.rows.map { $0.map { $0.isNull ? "NULL" : $0.description } }))
                print("\(r.rows.count) of \(total) rows")
            }
        }
    }

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

extension Nexus {
    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write relations to CSV or JSON Lines (timestamps ISO-8601 UTC, JSON columns as JSON).")
        @Argument(help: "The relations to export.")
        var models: [String]
        @Option(help: "csv or jsonl.")
        var format: Exporter.Format = .csv
        @Option(help: "The folder to write into.")
        var out: String
        @OptionGroup var options: ProjectOption

        func run() throws {
            try Nexus.guarded {
                let (_, w) = try options.open()
                for m in models {
                    let r = try Exporter(warehouse: w).export(m, format: format, to: out)
                    print("\(r.path): \(TextTable.group(r.rows)) rows")
                }
            }
        }
    }

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
                    let dialect: any SQLDialect
                    switch self.dialect ?? w.dialect.name {
                    case "sqlite": dialect = SQLiteDialect()
                    case "postgres": dialect = PostgresDialect()
                    case "snowflake": dialect = SnowflakeDialect()
                    case let other: throw NexusError("customerio", "unknown dialect '\(other)' (sqlite, postgres, snowflake)")
                    }
                    if dialect.name == "sqlite" {
                        print("note: Customer.io's Reverse ETL cannot read an embedded SQLite file; the queries below run where the")
                        print("      tables live. Push from here with `nexus export` (and, later, `nexus sync customerio`).\n")
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

extension Nexus {
    struct Doctor: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the Customer.io outputs: rows surviving each step, duplicates, missing traits, unsynced people and objects, sync order.")
        @Option(help: "Also say why this trait is or is not in the identify outputs.")
        var trait: String?
        @OptionGroup var options: ProjectOption

        func run() throws {
            try Nexus.guarded {
                let (project, w) = try options.open()
                try w.useReadCache()
                let findings = try NexusBuild.Doctor(project: project, warehouse: w).run(trait: trait)
                for f in findings { print("\(f.severity == .warning ? "warning" : "info   ")  \(f.model): \(f.message)") }
                let warnings = findings.filter { $0.severity == .warning }.count
                print("\(warnings) warning(s)")
            }
        }
    }
}

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
                    if dryRun {
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
                    let s = try BuildState.preservingBuild(warehouse: w.path) {
                        try sender.send(outputs, planner: planner, full: full, mode: mode) { print($0) }
                    }
                    print("sent \(s.sent), deleted \(s.deleted), unchanged \(s.unchanged), failed \(s.failed), rejected \(s.skipped); \(s.requests) request(s), \(TextTable.group(s.bytes)) bytes, \(String(format: "%.2f", s.seconds)) s (run \(runID))")
                    if s.failed > 0 { throw ExitCode(2) }
                }
            }
        }
    }
}

extension SyncPlanner.Mode: ExpressibleByArgument {}

final class StderrReporter: RunReporter {
    var warnings = 0
    func step(_ r: StepResult) {
        let rows = r.rows.map { "\(TextTable.group($0)) rows" } ?? ""
        let note = r.note.map { "  (\($0))" } ?? ""
        let line = "  \(r.kind.padding(toLength: 7, withPad: " ", startingAt: 0)) \(r.name.padding(toLength: 38, withPad: " ", startingAt: 0)) \(rows.leftPadded(16))  \(String(format: "%7.2f s", r.seconds))\(note)\n"
        FileHandle.standardError.write(Data(line.utf8))
    }
    func warning(_ message: String) {
        warnings += 1
        FileHandle.standardError.write(Data("warning: \(message)\n".utf8))
    }
}

extension Exporter.Format: ExpressibleByArgument {}
