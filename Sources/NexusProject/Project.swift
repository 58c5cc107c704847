import Foundation
import NexusCore
import NexusSQL

/// A SQL model: one `.sql` file under `models/`, named after the file.
public struct Model: Sendable {
    public enum Materialization: String, Sendable { case table, view }
    public var name: String
    /// Path relative to the project folder, for messages.
    public var file: String
    public var template: Template
    public var materialized: Materialization
    public var tags: [String]
    /// Indexes to build on the model's table (`config(indexes=[{'columns': […], 'unique': false}])`).
    public var indexes: [IndexSpec] = []
    /// Names this model refers to with `ref(…)`, in order of first appearance.
    public var refs: [String]
    public var warnings: [String]
}

/// A CSV seed: one `.csv` file under `seeds/`, loaded as a table named after the file.
public struct Seed: Sendable {
    public var name: String
    public var file: String
    public var absolutePath: String
    public var config: SeedConfig
}

/// A project folder: `nexus.yml`, `seeds/**/*.csv`, `models/**/*.sql`, loaded and validated.
public struct Project: Sendable {
    public var root: String
    public var config: ProjectConfig
    public var seeds: [Seed]
    public var models: [Model]

    /// Relations nexus builds itself, for a set of entity types; with `incremental`, also the
    /// resolution log (which a run appends to instead of replacing).
    public static func nexusRelations(entityTypes: [String], incremental: Bool = false) -> [String] {
        ["nexus_events", "nexus_entity_identifiers", "nexus_entity_traits", "nexus_relationship_declarations"]
            + entityTypes.map { "nexus_resolved_\($0)_identifiers" }
            + ["nexus_resolved_entity_traits", "nexus_entities", "nexus_entity_participants", "nexus_relationships", "nexus_edge_quality"]
            + (incremental ? [resolutionLog] : [])
    }

    /// The append-only change stream of incremental resolution.
    public static let resolutionLog = "nexus_resolution_log"

    public var nexusRelations: [String] { Project.nexusRelations(entityTypes: config.entityTypes, incremental: config.incremental) }

    /// The built-in template functions; callers add macros of later stages to this list.
    public static let builtinFunctions = ["ref", "var", "config", "nexus.create_nexus_id"] + macroRefs.keys.sorted()

    /// Macros that read other relations: a model calling one depends on them as if it had
    /// written `ref()` for each: fixed nexus tables, and models named by `*_model`
    /// arguments (with their defaults; `none` reads no model).
    public static let macroRefs: [String: (tables: [String], models: [String: String])] = [
        "nexus.customer_io_identify": (["nexus_entities"], [:]),
        "nexus.customer_io_track": (["nexus_events", "nexus_entity_participants", "nexus_entities"],
                                    ["persons_model": "customer_io_persons", "properties_model": ""]),
        "nexus.customer_io_objects": (["nexus_entities"], [:]),
        "nexus.customer_io_relationships": (["nexus_relationships", "nexus_entities"], ["persons_model": "customer_io_persons"]),
    ]

    /// The relations a macro call reads, from `macroRefs` and the call's arguments.
    public static func macroReads(_ call: TemplateCall) -> [String] {
        guard let m = macroRefs[call.name] else { return [] }
        var out = m.tables
        for (param, fallback) in m.models.sorted(by: { $0.key < $1.key }) {
            if let arg = call.kwargs.first(where: { $0.0 == param }) {
                if case .literal(.string(let s)) = arg.1, !s.isEmpty { out.append(s) }
            } else if !fallback.isEmpty {
                out.append(fallback)
            }
        }
        return out
    }

    /// Loads the project in `root`, checking everything that can be checked before touching a warehouse.
    /// - Parameter target: one of nexus.yml's `targets:` to use as the warehouse instead of
    ///   `warehouse:`.
    public static func load(root: String, target: String? = nil, extraFunctions: [String] = []) throws -> Project {
        let fm = FileManager.default
        let ymlPath = (root as NSString).appendingPathComponent("nexus.yml")
        guard fm.fileExists(atPath: ymlPath) else {
            var isDir: ObjCBool = false
            if !fm.fileExists(atPath: root, isDirectory: &isDir) || !isDir.boolValue {
                throw NexusError("config", "project folder does not exist", at: SourceLocation(file: root))
            }
            throw NexusError("config", "no nexus.yml in the project folder (run `nexus demo` for an example project)", at: SourceLocation(file: ymlPath))
        }
        let text: String
        do { text = try String(contentsOfFile: ymlPath, encoding: .utf8) } catch {
            throw NexusError("config", "cannot read nexus.yml: \(error.localizedDescription)", at: SourceLocation(file: ymlPath))
        }
        var config = try ProjectConfig.parse(text, file: "nexus.yml")
        if let target {
            guard let w = config.targets[target] else {
                let known = config.targets.keys.sorted()
                throw NexusError("config", "--target \(target): nexus.yml has no such target (\(known.isEmpty ? "it has no targets: section" : "targets: " + known.joined(separator: ", ")))",
                                 at: SourceLocation(file: ymlPath))
            }
            config.warehouse = w
        }
        let reserved = Set(nexusRelations(entityTypes: config.entityTypes, incremental: true))

        var seeds: [Seed] = []
        for rel in try files(in: root, folder: "seeds", ext: "csv") {
            let name = ((rel as NSString).lastPathComponent as NSString).deletingPathExtension
            if let other = seeds.first(where: { $0.name == name }) {
                throw NexusError("project", "two seeds are named '\(name)': \(other.file) and \(rel)", at: SourceLocation(file: rel))
            }
            seeds.append(Seed(name: name, file: rel, absolutePath: (root as NSString).appendingPathComponent(rel),
                              config: config.seeds[name] ?? SeedConfig(columnTypes: [:])))
        }
        for key in config.seeds.keys where !seeds.contains(where: { $0.name == key }) {
            throw NexusError("config", "'seeds' configures '\(key)', but there is no seeds/**/\(key).csv", at: SourceLocation(file: "nexus.yml"))
        }

        let known = Set(builtinFunctions + extraFunctions)
        var models: [Model] = []
        for rel in try files(in: root, folder: "models", ext: "sql") {
            let name = ((rel as NSString).lastPathComponent as NSString).deletingPathExtension
            if let other = models.first(where: { $0.name == name }) {
                throw NexusError("project", "two models are named '\(name)': \(other.file) and \(rel)", at: SourceLocation(file: rel))
            }
            if let seed = seeds.first(where: { $0.name == name }) {
                throw NexusError("project", "model \(rel) and seed \(seed.file) are both named '\(name)'", at: SourceLocation(file: rel))
            }
            if reserved.contains(name) {
                throw NexusError("project", "'\(name)' is a table nexus builds itself; rename the model", at: SourceLocation(file: rel))
            }
            let sql: String
            do { sql = try String(contentsOfFile: (root as NSString).appendingPathComponent(rel), encoding: .utf8) } catch {
                throw NexusError("project", "cannot read the file as UTF-8 text", at: SourceLocation(file: rel))
            }
            let template = try TemplateParser.parse(sql, file: rel)
            models.append(try analyse(name: name, file: rel, template: template, known: known, vars: config.vars))
        }

        let names = Set(models.map(\.name)).union(seeds.map(\.name)).union(reserved)
        for m in models {
            for call in m.template.calls where call.name == "ref" {
                if case .literal(.string(let target)) = call.args.first, !names.contains(target) {
                    throw NexusError("project", "ref('\(target)') names no model, seed or nexus table", at: call.location)
                }
            }
            for call in m.template.calls {
                for target in macroReads(call) where !names.contains(target) {
                    throw NexusError("project", "\(call.name) reads '\(target)', which names no model, seed or nexus table (set its *_model argument, or none)", at: call.location)
                }
            }
        }
        return Project(root: root, config: config, seeds: seeds, models: models)
    }

    static func analyse(name: String, file: String, template: Template, known: Set<String>, vars: [String: TemplateValue]) throws -> Model {
        var refs: [String] = []
        var materialized = Model.Materialization.table
        var tags: [String] = []
        var indexes: [IndexSpec] = []
        var warnings: [String] = []
        var sawConfig = false
        // Bare names (`{{ this }}`, `{{ target.name }}`) are dbt context nexus does not have.
        func checkNames(_ e: TemplateExpr, _ at: SourceLocation) throws {
            switch e {
            case .name(let parts):
                throw NexusError("template", "unknown name '\(parts.joined(separator: "."))': templates take literals and calls such as ref('m') and var('x')", at: at)
            case .call(let c): try c.args.forEach { try checkNames($0, c.location) }; try c.kwargs.forEach { try checkNames($0.1, c.location) }
            case .list(let l): try l.forEach { try checkNames($0, at) }
            case .dict(let d): try d.forEach { try checkNames($0.1, at) }
            case .literal: break
            }
        }
        for segment in template.segments { if case .expression(let e, let at) = segment { try checkNames(e, at) } }
        for call in template.calls {
            guard known.contains(call.name) else {
                throw NexusError("template", "unknown function or macro '\(call.name)' (known: \(known.sorted().joined(separator: ", ")))", at: call.location)
            }
            for r in macroReads(call) where !refs.contains(r) { refs.append(r) }
            switch call.name {
            case "ref":
                guard call.args.count == 1, call.kwargs.isEmpty, case .literal(.string(let target)) = call.args[0] else {
                    throw NexusError("template", "ref takes one model name as a string literal, e.g. ref('orders')", at: call.location)
                }
                if !refs.contains(target) { refs.append(target) }
            case "var":
                guard (1...2).contains(call.args.count), case .literal(.string(let key)) = call.args[0] else {
                    throw NexusError("template", "var takes a name as a string literal and an optional default", at: call.location)
                }
                if call.args.count == 1, vars[key] == nil {
                    throw NexusError("template", "var('\(key)') is not set in nexus.yml vars and has no default", at: call.location)
                }
            case "config":
                if sawConfig { throw NexusError("template", "config() is given twice", at: call.location) }
                sawConfig = true
                guard call.args.isEmpty else { throw NexusError("template", "config takes keyword arguments only", at: call.location) }
                for (key, expr) in call.kwargs {
                    switch key {
                    case "materialized":
                        guard case .literal(.string(let m)) = expr else { throw NexusError("template", "materialized must be 'table' or 'view'", at: call.location) }
                        if let mat = Model.Materialization(rawValue: m) { materialized = mat }
                        else if m == "incremental" || m == "ephemeral" {
                            warnings.append("\(file): materialized='\(m)' is built as a table")
                        } else {
                            throw NexusError("template", "materialized must be 'table' or 'view', not '\(m)'", at: call.location)
                        }
                    case "tags":
                        if case .list(let l) = expr {
                            for e in l { if case .literal(.string(let t)) = e { tags.append(t) } else { throw NexusError("template", "tags must be a list of strings", at: call.location) } }
                        } else if case .literal(.string(let t)) = expr { tags = [t] }
                        else { throw NexusError("template", "tags must be a list of strings", at: call.location) }
                    case "indexes":
                        indexes = try parseIndexes(expr, at: call.location)
                    default:
                        warnings.append("\(file): config key '\(key)' is a dbt setting nexus ignores")
                    }
                }
            default: break
            }
        }
        if materialized == .view, !indexes.isEmpty {
            warnings.append("\(file): indexes apply to tables; the view '\(name)' is built without them")
        }
        return Model(name: name, file: file, template: template, materialized: materialized, tags: tags,
                     indexes: materialized == .view ? [] : indexes, refs: refs, warnings: warnings)
    }

    /// dbt-postgres's `indexes=[{'columns': ['a', 'b'], 'unique': false}]` (its `type` key is
    /// accepted: SQLite has one kind of index).
    static func parseIndexes(_ expr: TemplateExpr, at location: SourceLocation) throws -> [IndexSpec] {
        let shape = "indexes must be a list of {'columns': ['col', …], 'unique': true|false}"
        guard case .list(let entries) = expr else { throw NexusError("template", shape, at: location) }
        return try entries.map { entry in
            guard case .dict(let pairs) = entry else { throw NexusError("template", shape, at: location) }
            var spec = IndexSpec(columns: [])
            for (key, value) in pairs {
                switch (key, value) {
                case ("columns", .list(let cols)):
                    spec.columns = try cols.map {
                        guard case .literal(.string(let c)) = $0, !c.isEmpty else { throw NexusError("template", shape, at: location) }
                        return c
                    }
                case ("unique", .literal(.bool(let u))): spec.unique = u
                case ("type", .literal(.string)): break
                default: throw NexusError("template", "\(shape); '\(key)' is not one of its keys or has the wrong kind of value", at: location)
                }
            }
            guard !spec.columns.isEmpty else { throw NexusError("template", "an index needs at least one column: \(shape)", at: location) }
            return spec
        }
    }

    /// Files under `root/folder` with extension `ext`, as paths relative to root, sorted.
    static func files(in root: String, folder: String, ext: String) throws -> [String] {
        let base = (root as NSString).appendingPathComponent(folder)
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: base, isDirectory: &isDir), isDir.boolValue else { return [] }
        guard let e = FileManager.default.enumerator(atPath: base) else { return [] }
        var out: [String] = []
        while let p = e.nextObject() as? String {
            if (p as NSString).pathExtension.lowercased() == ext, !(p as NSString).lastPathComponent.hasPrefix(".") {
                out.append(folder + "/" + p)
            }
        }
        return out.sorted()
    }
}
