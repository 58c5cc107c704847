import Testing
import NexusCore
@testable import NexusProject

struct TemplateTests {
    @Test func parsesExpressionsCommentsAndText() throws {
        let t = try TemplateParser.parse("""
            {{ config(materialized='view', tags=['a', "b"]) }}
            {# a comment {{ not parsed }} #}
            select * from {{ ref('orders') }} where x = {{ var('limit', 10) }}
            """, file: "m.sql")
        let calls = t.calls.map(\.name)
        #expect(calls == ["config", "ref", "var"])
        let r = TemplateRenderer(functions: [
            "config": { _ in .string("") },
            "ref": { .string("\"\($0.args[0].string!)\"") },
            "var": { $0.args[1] },
        ])
        let out = try r.render(t)
        #expect(out.contains("select * from \"orders\" where x = 10"))
        #expect(!out.contains("comment"))
    }

    @Test func literalsOfEveryKind() throws {
        let t = try TemplateParser.parse("{{ f('s', 1, 2.5, true, None, [1, 'x'], {'k': false}, key=[]) }}", file: "m.sql")
        guard case .call(let c) = t.calls.first.map({ TemplateExpr.call($0) }) else { Issue.record("no call"); return }
        #expect(c.args.count == 7)
        #expect(c.kwargs.map(\.0) == ["key"])
        let values = try c.args.map { try TemplateRenderer(functions: [:]).evaluate($0) }
        #expect(values == [.string("s"), .integer(1), .double(2.5), .bool(true), .none, .list([.integer(1), .string("x")]), .dict(["k": .bool(false)])])
    }

    @Test func statementsAreRejectedWithTheirPosition() {
        let e = #expect(throws: NexusError.self) {
            _ = try TemplateParser.parse("select 1\n  {% if x %}", file: "models/a.sql")
        }
        #expect(e?.location?.file == "models/a.sql")
        #expect(e?.location?.line == 2)
        #expect(e?.location?.column == 3)
        #expect(e?.message.contains("if") == true)
    }

    @Test(arguments: [
        ("{{ ref('a' }}", 1, 12),
        ("x\n{{ 'unterminated }}", 2, 4),
        ("{{ }}", 1, 1),
        ("{{ ref('a') ", 1, 1),
        ("{# never closed", 1, 1),
    ])
    func malformedTemplatesNameLineAndColumn(source: String, line: Int, column: Int) {
        let e = #expect(throws: NexusError.self) { _ = try TemplateParser.parse(source, file: "m.sql") }
        #expect(e?.location?.line == line)
        #expect(e?.location?.column == column)
    }
}

struct ConfigTests {
    @Test func readsSourcesAndDefaults() throws {
        let c = try ProjectConfig.parse("""
            name: demo
            sources:
              clinic: {enabled: true, events: true, entities: [person, group], relationships: true}
              crm: {enabled: false, entities: true}
            vars: {a: 1, b: hello}
            """, file: "nexus.yml")
        #expect(c.warehouse.path == "warehouse.sqlite")
        #expect(c.entityTypes == ["person", "group"])
        #expect(c.sources.map(\.name) == ["clinic", "crm"])
        #expect(c.sources[0].entities == ["person", "group"])
        #expect(c.sources[1].entities == [])
        #expect(c.sources[1].enabled == false)
        #expect(c.vars["a"] == .integer(1))
        #expect(c.vars["b"] == .string("hello"))
    }

    @Test func unknownKeyNamesItsLine() {
        let e = #expect(throws: NexusError.self) {
            _ = try ProjectConfig.parse("name: demo\nsources:\n  clinic:\n    enabled: true\n    event: true\n", file: "nexus.yml")
        }
        #expect(e?.location?.line == 5)
        #expect(e?.message.contains("unknown key 'event'") == true)
    }

    @Test func malformedYAMLNamesItsLine() {
        let e = #expect(throws: NexusError.self) {
            _ = try ProjectConfig.parse("name: demo\nsources:\n  clinic: [\n", file: "nexus.yml")
        }
        #expect(e?.location?.file == "nexus.yml")
        #expect(e?.location?.line != nil)
        #expect(e?.message.contains("malformed YAML") == true)
    }

    @Test func unknownEntityTypeInSourceIsAnError() {
        #expect(throws: NexusError.self) {
            _ = try ProjectConfig.parse("name: d\nsources:\n  s: {entities: [company]}\n", file: "nexus.yml")
        }
    }
}
