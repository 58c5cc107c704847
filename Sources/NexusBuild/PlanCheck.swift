import NexusCore
import NexusProject
import NexusSQL
import NexusWarehouse

/// Finds models whose query plan scans a large relation once per row of another (SQLite
/// has no hash join: without an index on the join key such a model reads the relation
/// rows × rows times), and names the index that would let SQLite search it instead.
struct PlanCheck {
    let project: Project
    let warehouse: SQLiteWarehouse
    /// A relation of more rows than this, scanned inside a loop, is worth a warning.
    let threshold: Int

    /// One step of `EXPLAIN QUERY PLAN`.
    struct Step { var id: Int; var parent: Int; var detail: String }

    func findings() throws -> [Doctor.Finding] {
        var out: [Doctor.Finding] = []
        let d = warehouse.dialect
        var rowsCache: [String: Int] = [:]
        func rows(_ table: String) throws -> Int {
            if let n = rowsCache[table] { return n }
            // The planner's own row count when ANALYZE left one, else a count.
            let stat = try warehouse.query("SELECT stat FROM sqlite_stat1 WHERE tbl = \(table) LIMIT 1" as SQL).rows.first?[0].string
            let n = try stat.flatMap { Int($0.split(separator: " ").first ?? "") } ?? warehouse.integer("SELECT count(*) FROM \(d.quote(table))")
            rowsCache[table] = n
            return n
        }
        let tables = Set(try warehouse.relations().filter { $0.kind == .table }.map(\.name))
        for model in project.models {
            guard try warehouse.relationKind(model.name) != nil else { continue }
            // A model that no longer renders or plans (the project changed since the build) is
            // left to `nexus run` to report.
            let sql: String, plan: [Step]
            do {
                sql = d.adapt(Runner.stripTrailingSemicolons(try Runner.render(model, project: project, dialect: d, resolve: { d.quote($0) },
                                                                               catalog: { try warehouse.columns(of: $0) })))
                plan = try warehouse.query("EXPLAIN QUERY PLAN \(sql)").rows.map {
                    Step(id: Int($0[0].description) ?? 0, parent: Int($0[1].description) ?? 0, detail: $0[3].string ?? "")
                }
            } catch { continue }
            let tokens = SQLLexer.significantTokens(sql)
            let aliases = PlanCheck.aliases(in: tokens, tables: tables)
            for step in PlanCheck.nestedScans(plan) {
                let words = step.detail.split(separator: " ")
                guard words.count >= 2 else { continue }
                let name = String(words[1])
                guard let table = aliases[name] ?? (tables.contains(name) ? name : nil) else { continue }
                let n = try rows(table)
                guard n > threshold else { continue }
                let columns = Set(try warehouse.columns(of: table)?.map(\.name) ?? [])
                // The columns compared through this alias; else (a CTE renamed it) any of the
                // table's columns compared under any name.
                var keys = PlanCheck.comparedColumns(of: name, in: tokens).filter(columns.contains)
                if keys.isEmpty { keys = PlanCheck.comparedColumns(of: nil, in: tokens).filter(columns.contains) }
                keys = Array(keys.prefix(3))
                let index = keys.isEmpty ? nil : "\(table)(" + keys.joined(separator: ") or (") + ")"
                let how: String
                if let index, project.nexusRelations.contains(table) {
                    how = "; an index on \(index) would let SQLite search it instead (nexus.yml: indexes: {\(table): [{columns: [\(keys[0])]}]})"
                } else if let index, project.models.contains(where: { $0.name == table }) {
                    how = "; an index on \(index) would let SQLite search it instead (in \(table)'s config: indexes=[{'columns': ['\(keys[0])']}])"
                } else if let index {
                    how = "; an index on \(index) would let SQLite search it instead"
                } else {
                    how = "; an index on the column it is joined on would let SQLite search it instead"
                }
                out.append(Doctor.Finding(severity: .warning, model: model.name,
                                          message: "its query plan scans \(table) (\(n) rows) once for every row of an outer loop (\(step.detail))\(how)"))
            }
        }
        return out
    }

    /// The scans that run once per row of something else: a scan after another loop among
    /// its siblings (the inner side of a nested-loop join), or anywhere under a correlated
    /// subquery.
    static func nestedScans(_ plan: [Step]) -> [Step] {
        var children: [Int: [Step]] = [:]
        for s in plan { children[s.parent, default: []].append(s) }
        func isLoop(_ s: Step) -> Bool { s.detail.hasPrefix("SCAN ") || s.detail.hasPrefix("SEARCH ") }
        var out: [Step] = []
        func walk(_ parent: Int, inLoop: Bool) {
            var loopsBefore = false
            for s in (children[parent] ?? []).sorted(by: { $0.id < $1.id }) {
                let nested = inLoop || loopsBefore
                if s.detail.hasPrefix("SCAN "), nested, !s.detail.contains("CONSTANT ROW") { out.append(s) }
                walk(s.id, inLoop: nested || s.detail.hasPrefix("CORRELATED "))
                if isLoop(s) { loopsBefore = true }
            }
        }
        walk(0, inLoop: false)
        return out
    }

    /// Alias → relation for the relations the SQL's tokens name (`nexus_entities e`, `"x" AS y`).
    static func aliases(in t: [SQLLexer.Token], tables: Set<String>) -> [String: String] {
        var out: [String: String] = [:]
        for (k, tok) in t.enumerated() {
            guard let rel = tok.name, tables.contains(rel) else { continue }
            var j = k + 1
            if j < t.count, t[j].word == "as" { j += 1 }
            if j < t.count, let alias = t[j].name, t[j].kind == .quoted || !keywords.contains(alias.lowercased()) { out[alias] = rel }
        }
        return out
    }

    static let keywords: Set<String> = ["where", "on", "join", "inner", "left", "right", "full", "cross", "natural", "using", "group",
                                        "order", "limit", "union", "except", "intersect", "window", "having", "as", "outer", "set", "values"]

    /// Columns of `alias` (of any qualifier when nil) compared with something (`alias.col = …`,
    /// `… < alias.col`), in order of appearance, in the SQL's tokens.
    static func comparedColumns(of alias: String?, in t: [SQLLexer.Token]) -> [String] {
        let comparisons: Set<String> = ["=", "<", ">"]
        var out: [String] = []
        for k in 0..<max(0, t.count - 2) {
            guard let a = t[k].name, alias == nil || a == alias, t[k + 1].kind == .punct, t[k + 1].text == ".",
                  let column = t[k + 2].name else { continue }
            let before = k > 0 && comparisons.contains(t[k - 1].text)
            let after = k + 3 < t.count && comparisons.contains(t[k + 3].text)
            if (before || after), !out.contains(column) { out.append(column) }
        }
        return out
    }
}
