import Foundation
import Testing
import NexusBuild
import NexusCore
import NexusProject
import NexusSQL
import NexusScaffold
import NexusTesting
import NexusWarehouse

/// `nexus compile`: the SQL of a run, written to files, run by hand on a fresh warehouse,
/// gives the tables a run gives, on SQLite, PostgreSQL (with psql) and the Snowflake stand-in.
struct CompileTests {
    /// A copy of `base`'s project files (no warehouse) in a new folder.
    static func copy(_ base: String, _ suffix: String) throws -> String {
        let dir = base + suffix
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for item in ["nexus.yml", "models", "seeds"] where FileManager.default.fileExists(atPath: base + "/" + item) {
            try FileManager.default.copyItem(atPath: base + "/" + item, toPath: dir + "/" + item)
        }
        return dir
    }

    static func compile(_ root: String, into out: String, rounds: Int = 16) throws -> CompiledRun {
        let project = try Project.load(root: root)
        return try Runner.compile(project: project, warehouse: try Runner.openWarehouse(project), into: out, rounds: rounds,
                                  reporter: SilentReporter(), processedAt: 0)
    }

    /// Runs every statement of the compiled files on the project's warehouse, in order, as
    /// `nexus sql` does.
    static func runByHand(_ root: String, _ compiled: CompiledRun, replacing: [String: String] = [:]) throws {
        let w = try Runner.openWarehouse(try Project.load(root: root))
        for file in compiled.files {
            let text = try replacing[file] ?? String(contentsOfFile: compiled.directory + "/" + file, encoding: .utf8)
            for s in SQLScript.statements(text) {
                do { try w.execute(s.text) } catch let e as NexusError { throw NexusError("test", "\(file), line \(s.line): \(e.message)") }
            }
        }
    }

    /// Every nexus table and model of a project, as `PostgresParityTests.build` reads them.
    static func rows(_ root: String) throws -> [String: [[String?]]] {
        let project = try Project.load(root: root)
        let w = try Runner.openWarehouse(project)
        var out: [String: [[String?]]] = [:]
        for name in project.nexusRelations + project.models.map(\.name) {
            out[name] = try w.query("SELECT * FROM \(w.dialect.quote(name))").rows
                .map { $0.map { PostgresParityTests.canonical($0.string) } }.sorted { DifferentialTests.rowOrder($0, $1) }
        }
        return out
    }

    @Test func theDemoCompiledAndRunByHandGivesARunsTables() throws {
        let base = NSTemporaryDirectory() + "nexus-compile-" + UUID().uuidString
        try DemoProject.write(to: base)
        let fresh = try CompileTests.copy(base, "-fresh"), out = base + "-sql"
        defer { for d in [base, fresh, out] { try? FileManager.default.removeItem(atPath: d) } }
        let run = try PostgresParityTests.build(base)

        let compiled = try CompileTests.compile(fresh, into: out)
        // The compile published nothing and left no staging: only nexus's bookkeeping is there.
        let w = try Runner.openWarehouse(try Project.load(root: fresh))
        let left = try w.relations().map(\.name).filter { !$0.hasPrefix("_nexus_") && !$0.hasPrefix("sqlite_") }
        #expect(left.isEmpty, "\(left)")

        // Files in run order: seeds, models, the core relations, resolution in parts, the
        // engine's tables, the models after them, the publish.
        let names = compiled.files
        #expect(names.first?.hasPrefix("01_seed_") == true && names.last?.hasSuffix("_publish.sql") == true)
        #expect(names == names.sorted())
        let rounds = try #require(names.first { $0.hasSuffix("_rounds.sql") })
        let check = try #require(names.first { $0.hasSuffix("_convergence_check.sql") })
        #expect(names.firstIndex(of: check) == names.firstIndex(of: rounds)! + 1)
        #expect(compiled.roundsWritten == 16 && compiled.roundsNeeded > 2 && compiled.roundsNeeded <= 16)
        let roundText = try String(contentsOfFile: out + "/" + rounds, encoding: .utf8)
        #expect(SQLScript.statements(roundText).filter { $0.text.hasPrefix("UPDATE") }.count == 16)
        let readme = try String(contentsOfFile: out + "/README.md", encoding: .utf8)
        #expect(readme.hasPrefix("# nexus compile") && names.allSatisfy { readme.contains($0) })
        // Nothing of nexus's bookkeeping, and every value written as a literal.
        for name in names {
            let text = try String(contentsOfFile: out + "/" + name, encoding: .utf8)
            #expect(!text.contains("_nexus_state") && !text.contains("_nexus_seed_state"), "\(name)")
            #expect(!SQLScript.statements(text).contains { s in SQLLexer.tokens(s.text).contains { $0.kind == .punct && $0.text == "?" } }, "\(name) has a placeholder")
        }

        // Run by hand on the fresh warehouse: the same rows as the run, in every relation.
        try CompileTests.runByHand(fresh, compiled)
        let byHand = try CompileTests.rows(fresh)
        for (name, expected) in run.rows where name != "(warnings)" {
            #expect(byHand[name] == expected, "\(name): \(byHand[name]?.count ?? -1) rows by hand, \(expected.count) from the run")
        }
        #expect(try w.relations().filter { $0.name.hasPrefix(Runner.stagePrefix) }.isEmpty, "the files drop their own staging")

        // Same inputs, same files, byte for byte (the folder is replaced: it is compile's own).
        let before = try Dictionary(uniqueKeysWithValues: names.map { ($0, try Data(contentsOf: URL(fileURLWithPath: out + "/" + $0))) })
        let again = try CompileTests.compile(try CompileTests.copy(base, "-fresh2"), into: out)
        defer { try? FileManager.default.removeItem(atPath: base + "-fresh2") }
        #expect(again.files == names)
        for name in names { #expect(try Data(contentsOf: URL(fileURLWithPath: out + "/" + name)) == before[name], "\(name) differs") }
    }

    /// Over a published build, a compile leaves it as it was (its build record included: the
    /// next run is up to date), and its publish step replaces the relations there now.
    @Test func aCompileLeavesThePublishedBuildAlone() throws {
        let root = NSTemporaryDirectory() + "nexus-compile-pub-" + UUID().uuidString, out = root + "-sql"
        _ = try SyntheticClinic(persons: 60, seed: 3).write(to: root)
        defer { for d in [root, out] { try? FileManager.default.removeItem(atPath: d) } }
        let project = try Project.load(root: root)
        let w = try Runner.openWarehouse(project)
        try Runner(project: project, warehouse: w, reporter: SilentReporter(), processedAt: 0).run()
        let before = try CompileTests.rows(root)
        let compiled = try CompileTests.compile(root, into: out)
        #expect(try CompileTests.rows(root) == before)
        #expect(try w.relations().filter { $0.name.hasPrefix(Runner.stagePrefix) }.isEmpty)
        #expect(try !Runner(project: project, warehouse: w, reporter: SilentReporter(), processedAt: 0).run(), "the build record still matches")
        let publish = try String(contentsOfFile: out + "/" + compiled.files.last!, encoding: .utf8)
        #expect(publish.contains("DROP TABLE \"nexus_entities\"") && publish.contains("ALTER TABLE \"__nexus_stage__nexus_entities\" RENAME TO \"nexus_entities\""))
        // Run by hand over the build: the same rows again.
        try CompileTests.runByHand(root, compiled)
        #expect(try CompileTests.rows(root) == before)
    }

    /// Too few rounds by hand: the convergence check stops the script before anything is
    /// published. A small bound is raised to what the data needs (and kept even).
    @Test func theConvergenceCheckStopsAnUnfinishedResolution() throws {
        let f = Fixture()
        let out = f.root + "-sql"
        // A chain of 40 identifiers, each event linking two neighbours: many rounds.
        for i in 0..<39 { f.event("c\(i)", day: 1 + i % 20, [("email", "p\(i)@x.org"), ("email", "p\(i + 1)@x.org")]) }
        try f.write()
        let fresh = try CompileTests.copy(f.root, "-fresh")
        defer { for d in [f.root, fresh, out] { try? FileManager.default.removeItem(atPath: d) } }
        let compiled = try CompileTests.compile(f.root, into: out, rounds: 2)
        #expect(compiled.roundsWritten >= compiled.roundsNeeded - 1 && compiled.roundsWritten % 2 == 0 && compiled.roundsWritten > 2)
        let rounds = compiled.files.first { $0.hasSuffix("_rounds.sql") }!
        let text = try String(contentsOfFile: out + "/" + rounds, encoding: .utf8)
        let statements = SQLScript.statements(text)
        // The first two rounds only (five statements each).
        let short = statements.prefix(10).map { $0.text + ";\n" }.joined()
        #expect(throws: NexusError.self) { try CompileTests.runByHand(fresh, compiled, replacing: [rounds: short]) }
        let w = try Runner.openWarehouse(try Project.load(root: fresh))
        #expect(try w.relationKind("nexus_entities") == nil, "nothing published")
        // Running the rounds file again finishes the job.
        try CompileTests.runByHand(try CompileTests.copy(f.root, "-again"), compiled)
        defer { try? FileManager.default.removeItem(atPath: f.root + "-again") }
        try Runner(project: try Project.load(root: f.root), warehouse: try Runner.openWarehouse(try Project.load(root: f.root)),
                   reporter: SilentReporter(), processedAt: 0).run()
        #expect(try CompileTests.rows(f.root + "-again") == CompileTests.rows(f.root))
    }

    /// A failing compile keeps the previous compile's folder and leaves no staging; a folder
    /// compile did not write is refused.
    @Test func aFailingCompileKeepsWhatWasThere() throws {
        let root = NSTemporaryDirectory() + "nexus-compile-bad-" + UUID().uuidString, out = root + "-sql"
        _ = try SyntheticClinic(persons: 30, seed: 5).write(to: root)
        try FileManager.default.createDirectory(atPath: root + "/models", withIntermediateDirectories: true)
        defer { for d in [root, out] { try? FileManager.default.removeItem(atPath: d) } }
        let first = try CompileTests.compile(root, into: out)
        try "select * from {{ ref('nexus_entities') }} join no_such_table using (entity_id)".write(toFile: root + "/models/zz_broken.sql", atomically: true, encoding: .utf8)
        #expect(throws: NexusError.self) { try CompileTests.compile(root, into: out) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasSuffix(".sql") }.sorted() == first.files)
        #expect(!FileManager.default.fileExists(atPath: out + ".compiling"))
        let w = try Runner.openWarehouse(try Project.load(root: root))
        #expect(try w.relations().filter { $0.name.hasPrefix(Runner.stagePrefix) }.isEmpty)

        let foreign = root + "-foreign"
        try FileManager.default.createDirectory(atPath: foreign, withIntermediateDirectories: true)
        try "keep me".write(toFile: foreign + "/notes.txt", atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: foreign) }
        try FileManager.default.removeItem(atPath: root + "/models/zz_broken.sql")
        let e = try #require(throws: NexusError.self) { try CompileTests.compile(root, into: foreign) }
        #expect(e.message.contains("notes.txt"))
        #expect(try String(contentsOfFile: foreign + "/notes.txt", encoding: .utf8) == "keep me")
    }

    /// On PostgreSQL the files run with psql itself, stopping at the first error.
    @Test func onPostgresTheFilesRunWithPsql() throws {
        let base = NSTemporaryDirectory() + "nexus-compile-pg-" + UUID().uuidString
        try DemoProject.write(to: base)
        let pg = try CompileTests.copy(base, "-pg"), out = base + "-sql"
        defer { for d in [base, pg, out] { try? FileManager.default.removeItem(atPath: d) } }
        let schema = try PostgresParityTests.usePostgres(pg, engine: nil)
        let run = try PostgresParityTests.build(base)
        let compiled = try CompileTests.compile(pg, into: out)
        let w = try Runner.openWarehouse(try Project.load(root: pg))
        #expect(try w.relations().map(\.name).filter { !$0.hasPrefix("_nexus_") }.isEmpty)

        let server = try PostgresServer.shared()
        let candidates = ["/usr/bin/psql"] + ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []).map { "/usr/lib/postgresql/\($0)/bin/psql" }
        let psql = try #require(candidates.first { FileManager.default.isExecutableFile(atPath: $0) }, "psql is installed with PostgreSQL")
        let env = ProcessInfo.processInfo.environment.merging([
            "PGPASSWORD": try String(contentsOfFile: server.passwordFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines),
            "PGOPTIONS": "-c search_path=\(schema)",
        ]) { $1 }
        for file in compiled.files {
            let r = try runCommand(psql, ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", server.host, "-p", String(server.port), "-U", server.user,
                                          "-d", server.database, "-f", compiled.directory + "/" + file], environment: env)
            #expect(r.status == 0, "\(file): \(r.stderr)")
            if r.status != 0 { return }
        }
        let byHand = try CompileTests.rows(pg)
        for (name, expected) in run.rows where name != "(warnings)" {
            #expect(byHand[name] == expected, "\(name): \(byHand[name]?.count ?? -1) rows by hand, \(expected.count) from the SQLite run")
        }
    }

    /// On Snowflake (the stand-in) the files, each statement sent as it is (as SnowSQL sends
    /// them), give the SQLite run's rows; the publish swaps nothing in a fresh schema.
    @Test func onSnowflakeTheFilesGiveTheSameTables() throws {
        let server = try FakeSnowflake()
        let base = NSTemporaryDirectory() + "nexus-compile-sf-" + UUID().uuidString, out = base + "-sql"
        try DemoProject.write(to: base)
        let snow = try SnowflakeParityTests.copy(base, onto: server)
        defer { for d in [base, snow, out] { try? FileManager.default.removeItem(atPath: d) } }
        let run = try PostgresParityTests.build(base)
        let compiled = try CompileTests.compile(snow, into: out)
        let w = try Runner.openWarehouse(try Project.load(root: snow))
        #expect(try w.relations().map(\.name).filter { !$0.hasPrefix("_nexus_") }.isEmpty, "nothing published, no staging")
        let text = try compiled.files.map { try String(contentsOfFile: out + "/" + $0, encoding: .utf8) }.joined()
        #expect(text.contains("CREATE OR REPLACE TABLE") && !text.contains("CREATE INDEX") && !text.contains("ANALYZE"), "Snowflake's own statements")
        try CompileTests.runByHand(snow, compiled)
        var byHand = try CompileTests.rows(snow)
        byHand["(warnings)"] = run.rows["(warnings)"]
        let relaxed = SnowflakeParityTests.expectSameRows(run.rows, byHand)
        #expect(relaxed > 0, "JSON timestamps compared without milliseconds (fakesnow): \(relaxed)")
    }
}
