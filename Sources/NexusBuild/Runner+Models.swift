import Foundation
import NexusCore
import NexusEngine
import NexusProject
import NexusSQL
import NexusWarehouse

/// One finished step of a run.

// Models: rendering a model's SQL and building it as a table or a view.
extension Runner {
    /// Renders a model's SQL, with `ref()` resolved by `resolve`.
    public static func render(_ model: Model, project: Project, dialect: any SQLDialect, resolve: @escaping (String) -> String,
                              catalog: @escaping (String) throws -> [ColumnInfo]? = { _ in nil }) throws -> String {
        let renderer = TemplateRenderer(functions: TemplateFunctions.functions(project: project, dialect: dialect, resolve: resolve, catalog: catalog))
        return try renderer.render(model.template)
    }

    func buildModel(_ model: Model) throws {
        let t0 = now()
        for w in model.warnings { warn(w) }
        let sql = try Runner.render(model, project: project, dialect: warehouse.dialect, resolve: { [unowned self] in
            self.warehouse.dialect.quote(self.physical($0))
        }, catalog: { [unowned self] in try self.warehouse.columns(of: self.physical($0)) })
        let body = warehouse.dialect.adapt(Runner.stripTrailingSemicolons(sql))
        var rows: Int? = nil
        var materialized = model.materialized
        var note: String? = nil
        // A view must open in every client of the warehouse; one that needs nexus's own
        // functions is stored as a table instead.
        let needs = warehouse.nexusOnlyFunctions(calledBy: body)
        if materialized == .view, !needs.isEmpty {
            materialized = .table
            note = "stored as a table, not a view: it calls \(needs.joined(separator: ", ")), which only nexus adds to SQLite"
        }
        do {
            switch materialized {
            case .view:
                try warehouse.execute("CREATE VIEW \(warehouse.dialect.quote(stage(model.name))) AS \(body)")
                let project = self.project, d = warehouse.dialect, w = warehouse
                stagedViews.append((model.name, {
                    d.adapt(Runner.stripTrailingSemicolons(try Runner.render(model, project: project, dialect: d, resolve: { d.quote($0) },
                                                                             catalog: { try w.columns(of: $0) })))
                }))
            case .table:
                rows = try warehouse.createTable(stage(model.name), as: body)
                try buildIndexes(model.indexes, on: model.name, table: stage(model.name), owner: "config(indexes=…)",
                                 at: SourceLocation(file: model.file, model: model.name))
                try analyzeStaged(model.name)
            }
        } catch let e as NexusError where e.code == "index" {
            throw e
        } catch let e as NexusError {
            if e.code == "contract" { throw e.adding(model: model.name, file: model.file) }
            throw NexusError("sql", "model failed: \(e.message)", at: SourceLocation(file: model.file, model: model.name))
        }
        markStaged(model.name)
        record(StepResult(kind: materialized == .view ? "view" : "model", name: model.name, rows: rows, seconds: now() - t0, note: note))
    }

    static func stripTrailingSemicolons(_ sql: String) -> String {
        var s = Substring(sql)
        while let last = s.last, last == ";" || last == " " || last == "\n" || last == "\t" || last == "\r" { s = s.dropLast() }
        return String(s)
    }
}
