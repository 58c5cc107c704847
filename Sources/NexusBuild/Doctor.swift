import NexusCore
import NexusOutputs
import NexusProject
import NexusSQL
import NexusWarehouse

/// The seed's Troubleshooting section as checks with numbers, over a built project.
public struct Doctor {
    /// One finding: `warning` when something is likely wrong, `info` for numbers that explain.
    public struct Finding: Sendable, Equatable {
        public enum Severity: String, Sendable { case info, warning }
        public var severity: Severity
        public var model: String
        public var message: String
    }

    let project: Project
    let warehouse: any Warehouse
    /// A relation of more rows than this, scanned once per row of another, is a slow plan.
    let scanThreshold: Int

    public init(project: Project, warehouse: any Warehouse, scanThreshold: Int = 100_000) {
        self.project = project; self.warehouse = warehouse; self.scanThreshold = scanThreshold
    }

    struct Output { var name: String; var shape: SyncShape; var columns: [String]; var model: Model }

    /// Entities with more identifiers than `over_merge.max_identifiers` (the five largest of
    /// each type), each with the identifiers whose removal would split it (its bridges),
    /// opened at its smallest identifier.
    func overMerged() throws -> [Finding] {
        let limit = project.config.overMergeMaxIdentifiers
        guard limit > 0 else { return [] }
        var findings: [Finding] = []
        for t in project.config.entityTypes {
            let sizes = EntitySizes(warehouse: warehouse, table: "nexus_resolved_\(t)_identifiers", idColumn: "\(t)_id")
            guard try warehouse.relationKind(sizes.table) != nil else { continue }
            for entity in try sizes.largest(5, above: limit) {
                guard let (type, value) = try sizes.anyIdentifier(of: entity.id) else { continue }
                let x = try Explainer(warehouse: warehouse).explain(type: type, value: value, entityType: t)
                // The noisiest bridges first (most partners in nexus_edge_quality), then by name.
                let partners = try edgeQualityPartners(entityType: t)
                let bridges = x.bridges.sorted { (partners[$0] ?? 0, $1) > (partners[$1] ?? 0, $0) }
                let shown = bridges.prefix(5).joined(separator: ", ") + (bridges.count > 5 ? " and \(bridges.count - 5) more" : "")
                let why = bridges.isEmpty ? "no single identifier holds it together (removing any one leaves it whole)"
                    : "bridges (removing one would split it): \(shown)"
                findings.append(Finding(severity: .warning, model: "nexus_entities",
                                        message: "\(t) \(entity.id) has \(entity.identifiers) identifiers, more than over_merge.max_identifiers (\(limit)); \(why); `nexus explain \(type) '\(value)'` draws it"))
            }
        }
        return findings
    }

    /// Partners of the identifiers of `entityType` in `nexus_edge_quality`, keyed as the
    /// explainer names identifiers (`type value`).
    func edgeQualityPartners(entityType: String) throws -> [String: Int] {
        guard try warehouse.relationKind("nexus_edge_quality") != nil else { return [:] }
        var out: [String: Int] = [:]
        for r in try warehouse.query("SELECT identifier_type, identifier_value, partners FROM \(id: "nexus_edge_quality") WHERE entity_type = \(entityType)" as SQL).rows {
            out["\(r[0].string ?? "") \(r[1].string ?? "")"] = Int(r[2].string ?? "") ?? 0
        }
        return out
    }

    /// Identifiers above `edge_quality.error` (a warning, with the five worst) or above
    /// `warning` only (a number), from `nexus_edge_quality`.
    func edgeQuality() throws -> [Finding] {
        guard try warehouse.relationKind("nexus_edge_quality") != nil else { return [] }
        let rules = project.config.edgeQuality
        let total = try warehouse.integer("SELECT count(*) FROM \(id: "nexus_edge_quality")" as SQL)
        guard total > 0 else { return [] }
        let above = try warehouse.query("""
            SELECT entity_type, identifier_type, identifier_value, partners, sources, filtered FROM \(id: "nexus_edge_quality")
            WHERE partners > \(rules.error) ORDER BY partners DESC
            """ as SQL).rows
        guard !above.isEmpty else {
            return [Finding(severity: .info, model: "nexus_edge_quality", message: "\(total) identifier(s) share edge_ids with more than \(rules.warning) distinct identifiers (edge_quality.warning), none with more than \(rules.error)")]
        }
        let worst = above.prefix(5).map { r in
            "\(r[0].string ?? "") \(r[1].string ?? "") '\(r[2].string ?? "")' (\(r[3].string ?? "") partners; \(r[4].string ?? ""))"
        }.joined(separator: "; ")
        let filtered = above.filter { ["1", "t", "true"].contains($0[5].string ?? "") }.count
        let state = filtered == above.count ? "all cut before resolution (on_error: filter)"
            : "resolved with their edges (on_error: \(rules.onError.rawValue)); list placeholders under edge_quality.ignore or set on_error: filter"
        return [Finding(severity: filtered == above.count ? .info : .warning, model: "nexus_edge_quality",
                        message: "\(above.count) identifier(s) share edge_ids with more than \(rules.error) distinct identifiers (edge_quality.error), \(state): \(worst)")]
    }

    /// Runs every check. `trait` asks in addition why one trait is not in the identify outputs.
    public func run(trait: String? = nil) throws -> [Finding] {
        // Query plans are read the SQLite way (EXPLAIN QUERY PLAN); a server plans with hash
        // joins and its own statistics, and is not checked here.
        var findings = try (warehouse as? SQLiteWarehouse).map { try PlanCheck(project: project, warehouse: $0, threshold: scanThreshold).findings() } ?? []
        findings += try edgeQuality()
        findings += try overMerged()
        var outputs: [Output] = []
        for m in project.models {
            guard let cols = try warehouse.columns(of: m.name)?.map(\.name), let shape = SyncShape(columns: cols) else { continue }
            outputs.append(Output(name: m.name, shape: shape, columns: cols, model: m))
        }
        if outputs.isEmpty {
            return findings + [Finding(severity: .warning, model: "-", message: "no model is shaped for Customer.io (or the project was not built: run `nexus run`)")]
        }
        let d = warehouse.dialect
        let count: (String) throws -> Int = warehouse.integer(_:)
        let persons = outputs.filter { $0.shape == .identify }
        for o in outputs {
            let rows: Int
            do { rows = try count("SELECT count(*) FROM \(d.quote(o.name))") } catch let e as NexusError {
                findings.append(Finding(severity: .warning, model: o.name, message: "the output cannot be read: \(e.message)"))
                continue
            }
            if rows == 0 { findings.append(Finding(severity: .warning, model: o.name, message: "the output is empty")) }
            switch o.shape {
            case .identify:
                findings += try identify(o, rows: rows, trait: trait, count: count)
            case .track, .relationships:
                guard o.columns.contains("userId") else { break }
                if persons.isEmpty {
                    findings.append(Finding(severity: .warning, model: o.name, message: "no persons (Identify) output: Customer.io needs the people before their \(o.shape == .track ? "events" : "relationships")"))
                    break
                }
                let known = persons.filter { $0.columns.contains("userId") }.map { "SELECT \(d.quote("userId")) FROM \(d.quote($0.name))" }.joined(separator: " UNION ")
                let orphans = try count("SELECT count(*) FROM \(d.quote(o.name)) WHERE \(d.quote("userId")) IS NOT NULL AND \(d.quote("userId")) NOT IN (\(known))")
                let what = o.shape == .track ? "events" : "relationships"
                findings.append(Finding(severity: orphans > 0 ? .warning : .info, model: o.name,
                                        message: "\(orphans) of \(rows) \(what) have a userId that is not in the persons output (\(persons.map(\.name).joined(separator: ", ")))"))
                if o.shape == .track { findings += try trackSource(o, count: count) }
                if o.shape == .relationships {
                    let objects = outputs.filter { $0.shape == .objects }
                    if objects.isEmpty {
                        findings.append(Finding(severity: .warning, model: o.name, message: "no objects (Group) output: relationships should be synced after their objects"))
                    } else {
                        let known = objects.map { "SELECT \(d.quote("groupId")), \(d.quote("objectTypeId")) FROM \(d.quote($0.name))" }.joined(separator: " UNION ")
                        let missing = try count("SELECT count(*) FROM \(d.quote(o.name)) r WHERE NOT EXISTS (SELECT 1 FROM (\(known)) k WHERE k.\(d.quote("groupId")) = r.\(d.quote("groupId")) AND k.\(d.quote("objectTypeId")) = r.\(d.quote("objectTypeId")))")
                        findings.append(Finding(severity: missing > 0 ? .warning : .info, model: o.name,
                                                message: "\(missing) of \(rows) relationships point at an object that no objects output syncs (\(objects.map(\.name).joined(separator: ", ")))"))
                    }
                }
            case .objects:
                break
            }
        }
        for p in try UserIDCheck(warehouse: warehouse).problems(in: outputs.map(\.name)) {
            findings.append(Finding(severity: .warning, model: p.output, message: p.message))
        }
        let order = outputs.sorted { ($0.shape.order, $0.name) < ($1.shape.order, $1.name) }
        findings.append(Finding(severity: .info, model: "-", message: "first sync order: " + order.map { "\($0.name) (\($0.shape.rawValue))" }.joined(separator: " → ")))
        return findings
    }

    /// The evaluated arguments of a model's first call to `macro` (macro arguments are literals).
    func arguments(of macro: String, in model: Model) -> CallArguments? {
        guard let call = model.template.calls.first(where: { $0.name == macro }) else { return nil }
        let renderer = TemplateRenderer(functions: [:])
        guard let args = try? call.args.map(renderer.evaluate), let kwargs = try? call.kwargs.map({ ($0.0, try renderer.evaluate($0.1)) }) else { return nil }
        return CallArguments(call: call, args: args, kwargs: kwargs)
    }

    /// The identify macro's arguments in a model, when it calls it.
    func identifyCall(_ model: Model) -> CustomerIOIdentify? {
        arguments(of: "nexus.customer_io_identify", in: model).flatMap { try? CustomerIOIdentify($0) }
    }

    func identify(_ o: Output, rows: Int, trait: String?, count: (String) throws -> Int) throws -> [Finding] {
        guard let macro = identifyCall(o.model), let columns = try warehouse.columns(of: "nexus_entities") else {
            return [Finding(severity: .info, model: o.name, message: "\(rows) rows (not built by nexus.customer_io_identify: no funnel)")]
        }
        let d = warehouse.dialect
        var out: [Finding] = []
        let byLower = Dictionary(columns.map { ($0.name.lowercased(), $0.name) }, uniquingKeysWith: { a, _ in a })
        guard let user = byLower[macro.userIDColumn.lowercased()] else { return out }
        let anon = macro.anonymousIDColumn.flatMap { byLower[$0.lowercased()] }
        // How many rows survive each step.
        var conditions = ["entity_type = \(d.literal(macro.entityType))"]
        var steps = ["\(try count("SELECT count(*) FROM \"nexus_entities\" WHERE \(conditions[0])")) \(macro.entityType) entities"]
        conditions.append(anon.map { "(\(d.quote(user)) IS NOT NULL OR \(d.quote($0)) IS NOT NULL)" } ?? "\(d.quote(user)) IS NOT NULL")
        steps.append("\(try count("SELECT count(*) FROM \"nexus_entities\" WHERE \(conditions.joined(separator: " AND "))")) with \(user)\(anon.map { " or \($0)" } ?? "")")
        for f in macro.filters {
            conditions.append("(\(f))")
            do {
                steps.append("\(try count("SELECT count(*) FROM \"nexus_entities\" WHERE \(conditions.joined(separator: " AND "))")) after «\(f)»")
            } catch {
                conditions.removeLast()
                steps.append("«\(f)» refers to names outside the macro (not counted)")
            }
        }
        let where_ = conditions.joined(separator: " AND ")
        if let dedupe = byLower[macro.dedupeColumn.lowercased()] {
            let key = "lower(trim(\(d.quote(dedupe))))"
            let nulls = try count("SELECT count(*) FROM \"nexus_entities\" WHERE \(where_) AND \(key) IS NULL")
            let collapsed = try count("SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM \"nexus_entities\" WHERE \(where_) AND \(key) IS NOT NULL GROUP BY \(key) HAVING count(*) > 1) AS g")
            let groups = try count("SELECT count(*) FROM (SELECT 1 FROM \"nexus_entities\" WHERE \(where_) AND \(key) IS NOT NULL GROUP BY \(key) HAVING count(*) > 1) AS g")
            steps.append("\(rows) rows out")
            out.append(Finding(severity: rows == 0 ? .warning : .info, model: o.name, message: steps.joined(separator: " → ")))
            out.append(Finding(severity: collapsed > 0 ? .warning : .info, model: o.name,
                               message: "dedupe on lower(trim(\(dedupe))): \(groups) value(s) shared by several entities, \(collapsed) row(s) dropped as older duplicates; \(nulls) row(s) with a NULL \(dedupe) kept one each"))
        }
        // Why columns of nexus_entities are not traits of the output.
        let ignored = Set(macro.ignoreTraits.map { $0.lowercased() })
        func reason(_ name: String) -> String? {
            let k = name.lowercased()
            if CustomerIOIdentify.systemColumns.contains(k) { return "a system column" }
            if k == user.lowercased() { return "the user id column (sent as userId)" }
            if let anon, k == anon.lowercased() { return "the anonymous id column (sent as anonymousId)" }
            if ignored.contains(k) { return "in ignore_traits" }
            return nil
        }
        let left = columns.compactMap { c in reason(c.name).map { "\(c.name) (\($0))" } }
        out.append(Finding(severity: .info, model: o.name, message: "columns of nexus_entities not sent as traits: \(left.joined(separator: ", "))"))
        if let trait {
            // Trait names are asked for as sources spell them; nexus_entities holds them normalised.
            let k = String(trait.lowercased().map { $0 == " " ? "_" : $0 })
            let message: String
            if let r = reason(k) {
                message = "trait '\(trait)' is not sent: it is \(r)"
            } else if byLower[k] == nil {
                // The name is text to find, not a pattern: its `_` and `%` are escaped.
                let similar = try warehouse.query("SELECT DISTINCT trait_name FROM \"nexus_entity_traits\" WHERE lower(replace(trait_name, ' ', '_')) LIKE \("%" + likeEscaped(k) + "%") ESCAPE '\\' ORDER BY trait_name LIMIT 5" as SQL).rows.compactMap { $0[0].string }
                message = "trait '\(trait)' is absent: no source has it for any entity" + (similar.isEmpty ? "" : " (similar trait names in the sources: \(similar.joined(separator: ", ")))")
            } else {
                let set = try count("SELECT count(*) FROM nexus_entities WHERE entity_type = \(d.literal(macro.entityType)) AND \(d.quote(byLower[k]!)) IS NOT NULL")
                let renamed = macro.renameTraits.first { $0.key.lowercased() == k }?.value ?? (k == "_created_at" ? "created_at" : nil)
                message = "trait '\(trait)' is sent\(renamed.map { " as \"\($0)\"" } ?? ""); \(set) \(macro.entityType) entities have a value"
            }
            out.append(Finding(severity: .info, model: o.name, message: message))
        }
        return out
    }

    /// Track outputs built by the macro: the (event, person) pairs it leaves out because the
    /// person has no user id or is not in the persons output.
    func trackSource(_ o: Output, count: (String) throws -> Int) throws -> [Finding] {
        guard let call = arguments(of: "nexus.customer_io_track", in: o.model) else { return [] }
        let args = Dictionary(call.kwargs, uniquingKeysWith: { a, _ in a })
        let d = warehouse.dialect
        let userColumn = args["user_id_column"]?.string ?? "email"
        guard let columns = try warehouse.columns(of: "nexus_entities"),
              let user = columns.first(where: { $0.name.lowercased() == userColumn.lowercased() })?.name else { return [] }
        var personsModel: String? = "customer_io_persons"
        if let v = args["persons_model"] { personsModel = v.string }
        var conditions: [String] = []
        if let sources = args["sources"]?.list?.compactMap(\.string), !sources.isEmpty {
            conditions.append("e.source IN (\(sources.map { d.literal($0) }.joined(separator: ", ")))")
        }
        let base = """
            FROM (SELECT DISTINCT event_id, entity_id FROM "nexus_entity_participants" WHERE entity_type = 'person') pp
            JOIN "nexus_events" e ON e.event_id = pp.event_id
            JOIN "nexus_entities" p ON p.entity_id = pp.entity_id
            """
        let scope = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let and = conditions.isEmpty ? "WHERE" : "AND"
        let total = try count("SELECT count(*) \(base) \(scope)")
        let noUser = try count("SELECT count(*) \(base) \(scope) \(and) p.\(d.quote(user)) IS NULL")
        var message = "\(total) (event, person) pairs in scope; \(noUser) have no \(user)"
        if let personsModel, try warehouse.relationKind(personsModel) != nil {
            let outside = try count("SELECT count(*) \(base) \(scope) \(and) p.\(d.quote(user)) IS NOT NULL AND p.\(d.quote(user)) NOT IN (SELECT \(d.quote("userId")) FROM \(d.quote(personsModel)))")
            message += "; \(outside) belong to persons not in \(personsModel)"
        }
        return [Finding(severity: .info, model: o.name, message: message + " — these are not sent")]
    }
}
