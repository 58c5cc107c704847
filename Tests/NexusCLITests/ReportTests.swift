import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
import NexusTesting

/// `nexus report`: one self-contained page about the last build, read the way a browser
/// would (as markup), with every part the issue names, the same bytes every time.
struct ReportTests {
    /// The page's elements, parsed as XML (the report is well-formed by design).
    final class Outline: NSObject, XMLParserDelegate {
        var elements: [(name: String, attributes: [String: String])] = []
        var text: [String: String] = [:]
        var stack: [String] = []
        var sectionText: [String: String] = [:]
        var section: String?
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
            elements.append((name, attributes))
            if name == "section" { section = attributes["id"] }
        }
        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            if name == "section" { section = nil }
        }
        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if let section { sectionText[section, default: ""] += string + " " }
        }
        static func parse(_ page: String) -> Outline? {
            let o = Outline()
            let p = XMLParser(data: Data(page.utf8))
            p.delegate = o
            return p.parse() ? o : nil
        }
        func ids(_ element: String) -> [String] { elements.filter { $0.name == element }.compactMap { $0.attributes["id"] } }
    }

    @Test func theReportShowsTheLastBuildInOneSelfContainedPage() throws {
        let t = CLITests()
        let dir = try t.tempDir()
        #expect(try t.nexus(["demo", "demo"], in: dir).status == 0)
        let server = try FakeCustomerIO()
        let yml = dir + "/demo/nexus.yml"
        let base = try String(contentsOfFile: yml, encoding: .utf8)
        // Low thresholds, so that the demo has edge-quality offenders to show.
        try (base + "customerio:\n  endpoint: \(server.url)\n  requests_per_second: 50\nedge_quality: {warning: 1, error: 2, critical: 2}\n")
            .write(toFile: yml, atomically: true, encoding: .utf8)
        let run = try t.nexus(["run", "--project", "demo"], in: dir)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try t.nexus(["sync", "customerio", "--project", "demo"], in: dir, env: ["CUSTOMERIO_API_KEY": FakeCustomerIO.key]).status == 0)
        let out = try t.nexus(["report", "--project", "demo", "--out", "report.html"], in: dir)
        #expect(out.status == 0 && out.stdout.contains("report.html"), "\(out.stderr)")
        let page = try String(contentsOfFile: dir + "/report.html", encoding: .utf8)
        let outline = try #require(Outline.parse(page), "the page is well-formed markup")

        // Every part, in one page: no scripts, nothing fetched.
        #expect(outline.ids("section") == ["steps", "sizes", "largest", "edge-quality", "traits", "outputs", "syncs"])
        #expect(!outline.elements.contains { ["script", "link", "img", "iframe", "object"].contains($0.name) })
        let references = outline.elements.flatMap { e in ["href", "src", "xlink:href"].compactMap { e.attributes[$0] } }
        #expect(references.allSatisfy { $0.hasPrefix("#") }, "\(references.filter { !$0.hasPrefix("#") })")
        // The build's steps with rows and seconds, the edge-quality check among them.
        let steps = outline.sectionText["steps"] ?? ""
        #expect(steps.contains("identity resolution") && steps.contains("edge quality") && steps.contains("nexus_entities"))
        // A histogram per entity type.
        #expect(outline.elements.filter { $0.name == "svg" && ($0.attributes["aria-label"] ?? "").hasSuffix("entities by identifiers") }.count == 2)
        // The largest entities link to their pictures, each a laid-out graph.
        let links = outline.elements.filter { $0.name == "a" }.compactMap { $0.attributes["href"] }.filter { $0.hasPrefix("#entity-") }
        let figures = Set(outline.ids("figure"))
        #expect(!links.isEmpty && links.allSatisfy { figures.contains(String($0.dropFirst())) })
        #expect(page.components(separatedBy: "<svg").count - 1 == 2 + links.count)
        // Edge-quality offenders, trait coverage, outputs with rows, the sync just made.
        #expect((outline.sectionText["edge-quality"] ?? "").contains("CRITICAL"))
        #expect((outline.sectionText["traits"] ?? "").contains("%"))
        let outputs = outline.sectionText["outputs"] ?? ""
        #expect(outputs.contains("customer_io_persons") && outputs.contains("Identify") && outputs.contains("Group (with userId: relationships)"))
        let syncs = outline.sectionText["syncs"] ?? ""
        #expect(!syncs.contains("No sync recorded") && syncs.contains("finished_at"))

        // The same warehouse, the same bytes; a run with nothing to do keeps the build's log.
        #expect(try t.nexus(["report", "--project", "demo", "--out", "again.html"], in: dir).status == 0)
        #expect(try String(contentsOfFile: dir + "/again.html", encoding: .utf8) == page)
        #expect(try t.nexus(["run", "--project", "demo"], in: dir).stderr.contains("up to date"))
        #expect(try t.nexus(["report", "--project", "demo", "--out", "third.html"], in: dir).status == 0)
        #expect(try String(contentsOfFile: dir + "/third.html", encoding: .utf8) == page)

        // Without Graphviz, the pictures are the graphs in its language, and the page says so.
        let plain = try t.nexus(["report", "--project", "demo", "--out", "plain.html"], in: dir, env: ["PATH": "/nonexistent"])
        #expect(plain.status == 0, "\(plain.stderr)")
        let text = try String(contentsOfFile: dir + "/plain.html", encoding: .utf8)
        #expect(text.contains("apt-get install graphviz") && text.contains("graph &quot;person per_") && Outline.parse(text) != nil)
    }

    @Test func aReportBeforeAnyBuildSaysWhatToDo() throws {
        let t = CLITests()
        let dir = try t.tempDir()
        try "name: empty\n".write(toFile: dir + "/nexus.yml", atomically: true, encoding: .utf8)
        let r = try t.nexus(["report", "--project", dir])
        #expect(r.status != 0 && r.stderr.contains("run `nexus run` first"), "\(r.stderr)")
    }
}
