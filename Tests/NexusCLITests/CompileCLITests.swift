import Foundation
import Testing
import NexusTesting

/// `nexus compile`, `nexus sql` and `--target`, as a user types them.
struct CompileCLITests {
    let cli = CLITests()

    @Test func compileThenSQLBuildsATargetFromTheFiles() throws {
        let dir = try cli.tempDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try cli.nexus(["demo", "demo"], in: dir).status == 0)
        // A second warehouse for the same project, named under targets:.
        let yml = dir + "/demo/nexus.yml"
        try (try String(contentsOfFile: yml, encoding: .utf8) + "\ntargets:\n  scratch:\n    type: sqlite\n    path: scratch.sqlite\n")
            .write(toFile: yml, atomically: true, encoding: .utf8)

        let compiled = try cli.nexus(["compile", "--project", "demo", "--target", "scratch", "--out", "sql"], in: dir)
        #expect(compiled.status == 0, "\(compiled.stderr)")
        #expect(compiled.stdout.contains("files,") && compiled.stdout.contains("rounds written out"), "\(compiled.stdout)")
        #expect(compiled.stderr.contains("scratch.sqlite") && compiled.stderr.contains("nothing is published"), "\(compiled.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir + "/sql").filter { $0.hasSuffix(".sql") }.sorted()
        #expect(files.count > 20 && FileManager.default.fileExists(atPath: dir + "/sql/README.md"))
        // The target holds nothing published yet; `nexus show` there says so.
        #expect(try cli.nexus(["show", "nexus_entities", "--project", "demo", "--target", "scratch"], in: dir).status != 0)

        let ran = try cli.nexus(["sql", "--project", "demo", "--target", "scratch"] + files.map { "sql/" + $0 }, in: dir)
        #expect(ran.status == 0, "\(ran.stderr)")
        #expect(ran.stdout.contains("converged"), "the convergence check's row is printed")
        let byHand = try cli.nexus(["show", "nexus_entities", "--project", "demo", "--target", "scratch", "--limit", "1000"], in: dir)
        let built = try cli.nexus(["show", "nexus_entities", "--project", "demo", "--limit", "1000"], in: dir)
        #expect(byHand.status == 0 && byHand.stdout == built.stdout, "the files build what the run built")

        // Mistakes: an unknown target, an --out that is a file, a failing statement.
        let unknown = try cli.nexus(["compile", "--project", "demo", "--target", "prod", "--out", "x"], in: dir)
        #expect(unknown.status == 1 && unknown.stderr.contains("--target prod: nexus.yml has no such target (targets: scratch)"), "\(unknown.stderr)")
        try "x".write(toFile: dir + "/afile", atomically: true, encoding: .utf8)
        let file = try cli.nexus(["compile", "--project", "demo", "--out", "afile"], in: dir)
        #expect(file.status == 1 && file.stderr.contains("is a file, not a folder"), "\(file.stderr)")
        try "SELECT 1;\n\n-- a comment; with a semicolon\nSELECT 'a;b';\nSELECT * FROM no_such_table;\n".write(toFile: dir + "/bad.sql", atomically: true, encoding: .utf8)
        let bad = try cli.nexus(["sql", "--project", "demo", "bad.sql"], in: dir)
        #expect(bad.status == 1 && bad.stderr.contains("bad.sql, line 5:") && bad.stderr.contains("no_such_table"), "\(bad.stderr)")
        #expect(bad.stdout.contains("a;b"))
    }
}
