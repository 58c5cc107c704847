import NexusCore
import NexusSQL
import Yams

/// What a source provides, per the dbt-nexus source contract.
public struct SourceConfig: Sendable, Hashable {
    public var name: String
    public var enabled: Bool
    public var events: Bool
    /// nil: no entities; empty: every entity type; otherwise only these entity types are read.
    public var entities: [String]?
    public var relationships: Bool

    public var eventsRelation: String { "\(name)_events" }
    public var identifiersRelation: String { "\(name)_entity_identifiers" }
    public var traitsRelation: String { "\(name)_entity_traits" }
    public var relationshipsRelation: String { "\(name)_relationship_declarations" }
}

/// Per-seed settings.
public struct SeedConfig: Sendable, Hashable {
    public var columnTypes: [String: ColumnType]
}

/// How nexus pushes outputs to Customer.io (`customerio:` in nexus.yml).
public struct CustomerIOConfig: Sendable, Hashable {
    public var region: String = "us"
    /// Base URL override (tests point it at a local server); default from the region.
    public var endpoint: String?
    /// The environment variable holding the API key (never the key itself).
    public var apiKeyEnv: String = "CUSTOMERIO_API_KEY"
    public var requestsPerSecond: Double = 10
    /// gzip request bodies (`Content-Encoding: gzip`, as the SDK's `gzip=True`): several
    /// times fewer bytes on the wire. Off by default, like the SDK.
    public var gzip = false
    /// Output models to sync; empty: every model shaped for Customer.io.
    public var outputs: [String] = []

    /// The Pipelines API base URL.
    public var baseURL: String {
        endpoint ?? (region == "eu" ? "https://cdp-eu.customer.io" : "https://cdp.customer.io")
    }

    /// The Track API (for merging people, which the Pipelines API cannot): its base URL
    /// (override for tests), and the environment variables holding its site id and API key.
    public var trackEndpoint: String?
    public var siteIDEnv = "CUSTOMERIO_SITE_ID"
    public var trackAPIKeyEnv = "CUSTOMERIO_TRACK_API_KEY"

    public var trackBaseURL: String {
        trackEndpoint ?? (region == "eu" ? "https://track-eu.customer.io" : "https://track.customer.io")
    }
}

/// `nexus.yml`, validated.
public struct ProjectConfig: Sendable {
    public var name: String
    public var warehouse: WarehouseConfig
    /// Other warehouses the project can run against, by name (`targets:`; `--target NAME`),
    /// as dbt's profile outputs: `warehouse:` is the one used without `--target`.
    public var targets: [String: WarehouseConfig] = [:]
    public var sources: [SourceConfig]
    public var entityTypes: [String]
    public var vars: [String: TemplateValue]
    public var seeds: [String: SeedConfig]
    public var customerIO: CustomerIOConfig
    /// Indexes on nexus's own tables besides the ones it always builds (`indexes:`), by table.
    public var indexes: [String: [IndexSpec]] = [:]
    /// Which engine runs the nexus steps (`engine:`): `native` (Swift, over compact in-memory
    /// columns; the default) or `sql` (every step as SQL inside the warehouse).
    public var engine: String?
    /// An entity with more identifiers than this is reported as a likely over-merge
    /// (`over_merge: {max_identifiers: N}`; 0 turns the warning off).
    public var overMergeMaxIdentifiers = 100
    /// Thresholds, gate and blocklist for noisy identifiers (`edge_quality:`).
    public var edgeQuality = EdgeQualityRules()
    /// Incremental identity resolution (`incremental: true`): entity ids stay put, each run
    /// resolves against the last build's mapping and appends its changes to
    /// `nexus_resolution_log`.
    public var incremental = false

    static let topKeys = ["name", "warehouse", "targets", "sources", "entity_types", "vars", "seeds", "customerio", "indexes", "engine", "over_merge", "edge_quality", "incremental"]

    /// Parses and validates the text of `nexus.yml`.
    public static func parse(_ text: String, file: String) throws -> ProjectConfig {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch let e as YamlError {
            throw yamlError(e, file: file)
        } catch {
            throw NexusError("config", "malformed YAML: \(error)", at: SourceLocation(file: file))
        }
        guard let root = node, case .mapping(let top) = root else {
            throw NexusError("config", "nexus.yml must be a mapping with at least 'name'", at: SourceLocation(file: file, line: 1))
        }
        let r = Reader(file: file)
        try r.checkKeys(top, allowed: topKeys, context: "nexus.yml")
        guard let nameNode = top["name"], let name = nameNode.string, !name.isEmpty else {
            throw NexusError("config", "'name' is required", at: SourceLocation(file: file, line: 1))
        }
        var warehouse = WarehouseConfig(type: "sqlite", path: "warehouse.sqlite")
        if let w = top["warehouse"] { warehouse = try r.warehouse(w, context: "warehouse") }
        var targets: [String: WarehouseConfig] = [:]
        if let t = top["targets"] {
            guard case .mapping(let tm) = t else { throw r.error("'targets' is a mapping of names to warehouses: {prod: {type: snowflake, …}}", t) }
            for (k, v) in tm {
                guard let name = k.string, !name.isEmpty else { throw r.error("a target's name must be a non-empty string", k) }
                targets[name] = try r.warehouse(v, context: "targets.\(name)")
            }
        }
        var entityTypes = ["person", "group"]
        if let et = top["entity_types"] {
            guard case .sequence(let seq) = et else { throw r.error("'entity_types' must be a list of names", et) }
            entityTypes = try seq.map { n in
                guard let s = n.string, isName(s) else { throw r.error("entity type names are lowercase words ([a-z0-9_])", n) }
                return s
            }
            if Set(entityTypes).count != entityTypes.count { throw r.error("'entity_types' lists a type twice", et) }
        }
        var sources: [SourceConfig] = []
        if let s = top["sources"] {
            guard case .mapping(let sm) = s else { throw r.error("'sources' must be a mapping of source name to settings", s) }
            for (k, v) in sm {
                guard let sname = k.string, isName(sname) else { throw r.error("source names are lowercase words ([a-z0-9_])", k) }
                guard case .mapping(let vm) = v else { throw r.error("source '\(sname)' must be a mapping {enabled, events, entities, relationships}", v) }
                try r.checkKeys(vm, allowed: ["enabled", "events", "entities", "relationships"], context: "source '\(sname)'")
                var src = SourceConfig(name: sname, enabled: true, events: false, entities: nil, relationships: false)
                if let e = vm["enabled"] { src.enabled = try r.bool(e, "enabled") }
                if let e = vm["events"] { src.events = try r.bool(e, "events") }
                if let e = vm["relationships"] { src.relationships = try r.bool(e, "relationships") }
                if let e = vm["entities"] {
                    if case .sequence(let seq) = e {
                        let list = try seq.map { n -> String in
                            guard let t = n.string, entityTypes.contains(t) else {
                                throw r.error("source '\(sname)' lists entity type '\(n.string ?? "?")', which is not in entity_types (\(entityTypes.joined(separator: ", ")))", n)
                            }
                            return t
                        }
                        src.entities = list.isEmpty ? nil : list
                    } else {
                        src.entities = try r.bool(e, "entities") ? [] : nil
                    }
                }
                sources.append(src)
            }
            sources.sort { $0.name < $1.name }
        }
        var vars: [String: TemplateValue] = [:]
        if let v = top["vars"] {
            guard case .mapping(let vm) = v else { throw r.error("'vars' must be a mapping", v) }
            for (k, val) in vm {
                guard let key = k.string else { throw r.error("var names must be strings", k) }
                vars[key] = r.value(val)
            }
        }
        var seeds: [String: SeedConfig] = [:]
        if let s = top["seeds"] {
            guard case .mapping(let sm) = s else { throw r.error("'seeds' must be a mapping of seed name to settings", s) }
            for (k, v) in sm {
                guard let seed = k.string else { throw r.error("seed names must be strings", k) }
                guard case .mapping(let vm) = v else { throw r.error("seed '\(seed)' settings must be a mapping", v) }
                try r.checkKeys(vm, allowed: ["column_types"], context: "seed '\(seed)'")
                var types: [String: ColumnType] = [:]
                if let ct = vm["column_types"] {
                    guard case .mapping(let cm) = ct else { throw r.error("'column_types' must map column names to types", ct) }
                    for (ck, cv) in cm {
                        guard let col = ck.string, let tname = cv.string, let t = ColumnType(rawValue: tname.lowercased()) else {
                            throw r.error("column type must be one of \(ColumnType.allCases.map(\.rawValue).joined(separator: ", "))", cv)
                        }
                        types[col] = t
                    }
                }
                seeds[seed] = SeedConfig(columnTypes: types)
            }
        }
        var cio = CustomerIOConfig()
        if let c = top["customerio"] {
            guard case .mapping(let cm) = c else { throw r.error("'customerio' must be a mapping", c) }
            try r.checkKeys(cm, allowed: ["region", "endpoint", "api_key_env", "requests_per_second", "gzip", "outputs",
                                          "track_endpoint", "site_id_env", "track_api_key_env"], context: "customerio")
            if let v = cm["region"] {
                guard let s = v.string, s == "us" || s == "eu" else { throw r.error("region must be us or eu", v) }
                cio.region = s
            }
            if let v = cm["endpoint"] {
                guard let s = v.string, s.hasPrefix("http://") || s.hasPrefix("https://") else { throw r.error("endpoint must be an http(s) URL", v) }
                cio.endpoint = s.hasSuffix("/") ? String(s.dropLast()) : s
            }
            if let v = cm["track_endpoint"] {
                guard let s = v.string, s.hasPrefix("http://") || s.hasPrefix("https://") else { throw r.error("track_endpoint must be an http(s) URL", v) }
                cio.trackEndpoint = s.hasSuffix("/") ? String(s.dropLast()) : s
            }
            for (key, path) in [("api_key_env", \CustomerIOConfig.apiKeyEnv), ("site_id_env", \.siteIDEnv), ("track_api_key_env", \.trackAPIKeyEnv)] {
                guard let v = cm[key] else { continue }
                guard let s = v.string, !s.isEmpty, s.utf8.allSatisfy({ ($0 >= 65 && $0 <= 90) || ($0 >= 48 && $0 <= 57) || $0 == 95 }) else {
                    throw r.error("\(key) names an environment variable (A-Z, 0-9, _); the secret itself never goes in nexus.yml", v)
                }
                cio[keyPath: path] = s
            }
            if let v = cm["requests_per_second"] {
                guard let x = v.float ?? v.int.map(Double.init), x > 0 else { throw r.error("requests_per_second must be a positive number", v) }
                cio.requestsPerSecond = x
            }
            if let v = cm["gzip"] { cio.gzip = try r.bool(v, "gzip") }
            if let v = cm["outputs"] {
                guard case .sequence(let seq) = v else { throw r.error("outputs must be a list of model names", v) }
                cio.outputs = try seq.map { n in guard let s = n.string else { throw r.error("outputs must be a list of model names", n) }; return s }
            }
        }
        var indexes: [String: [IndexSpec]] = [:]
        if let ix = top["indexes"] {
            let shape = "'indexes' maps a nexus table to a list of {columns: [col, …], unique: true|false}"
            guard case .mapping(let im) = ix else { throw r.error(shape, ix) }
            for (k, v) in im {
                guard let table = k.string else { throw r.error(shape, k) }
                guard table.hasPrefix("nexus_") else {
                    throw r.error("'indexes' is for nexus's own tables; '\(table)' takes its indexes in its model's config(indexes=[…])", k)
                }
                guard case .sequence(let seq) = v else { throw r.error(shape, v) }
                indexes[table] = try seq.map { entry in
                    guard case .mapping(let em) = entry else { throw r.error(shape, entry) }
                    try r.checkKeys(em, allowed: ["columns", "unique"], context: "an index of '\(table)'")
                    guard let c = em["columns"], case .sequence(let cols) = c, !cols.isEmpty else { throw r.error(shape, entry) }
                    let columns = try cols.map { n in guard let s = n.string, !s.isEmpty else { throw r.error(shape, n) }; return s }
                    return IndexSpec(columns: columns, unique: try em["unique"].map { try r.bool($0, "unique") } ?? false)
                }
            }
        }
        var config = ProjectConfig(name: name, warehouse: warehouse, sources: sources, entityTypes: entityTypes, vars: vars, seeds: seeds,
                                   customerIO: cio, indexes: indexes)
        config.targets = targets
        if let e = top["engine"] {
            guard let s = e.string, ["native", "sql"].contains(s) else { throw r.error("'engine' is native or sql", e) }
            config.engine = s
        }
        if let om = top["over_merge"] {
            let shape = "'over_merge' is {max_identifiers: N} (a whole number; 0 turns the warning off)"
            guard case .mapping(let m) = om else { throw r.error(shape, om) }
            try r.checkKeys(m, allowed: ["max_identifiers"], context: "over_merge")
            if let v = m["max_identifiers"] {
                guard let n = v.int, n >= 0 else { throw r.error(shape, v) }
                config.overMergeMaxIdentifiers = n
            }
        }
        if let eq = top["edge_quality"] { config.edgeQuality = try r.edgeQuality(eq) }
        if let inc = top["incremental"] {
            config.incremental = try r.bool(inc, "incremental")
            // A filter judges every identifier against the whole history: cutting an edge an
            // earlier run used would split an entity, which incremental resolution never does.
            if config.incremental, config.edgeQuality.onError == .filter {
                throw r.error("incremental: true cannot take edge_quality.on_error: filter (cutting edges after an entity was formed would split it); use warn or fail, or the ignore list", inc)
            }
        }
        return config
    }

    static func isName(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 }
    }

    static func yamlError(_ e: YamlError, file: String) -> NexusError {
        switch e {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return NexusError("config", "malformed YAML: \(problem)", at: SourceLocation(file: file, line: mark.line, column: mark.column))
        default:
            return NexusError("config", "malformed YAML: \(e)", at: SourceLocation(file: file))
        }
    }

    struct Reader {
        let file: String
        func error(_ message: String, _ node: Node) -> NexusError {
            NexusError("config", message, at: SourceLocation(file: file, line: node.mark?.line, column: node.mark?.column))
        }
        func checkKeys(_ m: Node.Mapping, allowed: [String], context: String) throws {
            for k in m.keys {
                guard let s = k.string, allowed.contains(s) else {
                    throw error("unknown key '\(k.string ?? "?")' in \(context) (allowed: \(allowed.joined(separator: ", ")))", k)
                }
            }
        }
        /// `edge_quality: {warning, error, critical, on_error, ignore: {type: [values]}}`.
        func edgeQuality(_ node: Node) throws -> EdgeQualityRules {
            var rules = EdgeQualityRules()
            guard case .mapping(let m) = node else {
                throw error("'edge_quality' is a mapping: {warning: 10, error: 20, critical: 50, on_error: warn|fail|filter, ignore: {identifier_type: [values]}}", node)
            }
            try checkKeys(m, allowed: ["warning", "error", "critical", "on_error", "ignore"], context: "edge_quality")
            for (key, path) in [("warning", \EdgeQualityRules.warning), ("error", \.error), ("critical", \.critical)] {
                guard let v = m[key] else { continue }
                guard let n = v.int, n >= 1 else { throw error("edge_quality.\(key) is a whole number of distinct partners, at least 1", v) }
                rules[keyPath: path] = n
            }
            if !(rules.warning <= rules.error && rules.error <= rules.critical) {
                throw error("edge_quality thresholds must satisfy warning <= error <= critical (here \(rules.warning), \(rules.error), \(rules.critical))", node)
            }
            if let v = m["on_error"] {
                guard let s = v.string, let o = EdgeQualityRules.OnError(rawValue: s) else {
                    throw error("edge_quality.on_error is one of \(EdgeQualityRules.OnError.allCases.map(\.rawValue).joined(separator: ", "))", v)
                }
                rules.onError = o
            }
            if let v = m["ignore"] {
                let shape = "edge_quality.ignore maps identifier types to lists of values, e.g. {email: ['test@test.com']}"
                guard case .mapping(let im) = v else { throw error(shape, v) }
                for (k, list) in im {
                    guard let type = k.string, !type.isEmpty else { throw error(shape, k) }
                    guard case .sequence(let seq) = list else { throw error(shape, list) }
                    // The scalar's text as written: a phone of digits stays its digits.
                    rules.ignore[type, default: []] += try seq.map { n in
                        guard case .scalar(let sc) = n, !sc.string.isEmpty else { throw error(shape, n) }
                        return sc.string
                    }
                }
            }
            return rules
        }

        func bool(_ n: Node, _ what: String) throws -> Bool {
            guard let b = n.bool else { throw error("'\(what)' must be true or false", n) }
            return b
        }
        func value(_ n: Node) -> TemplateValue {
            switch n {
            case .scalar(let s):
                if s.style == .plain {
                    if let b = n.bool { return .bool(b) }
                    if let i = n.int { return .integer(i) }
                    if let d = n.float { return .double(d) }
                    if n.null != nil { return .none }
                }
                return .string(s.string)
            case .sequence(let seq): return .list(seq.map { value($0) })
            case .mapping(let m):
                var d: [String: TemplateValue] = [:]
                for (k, v) in m { d[k.string ?? ""] = value(v) }
                return .dict(d)
            case .alias: return .none
            }
        }
    }
}
