import NexusCore
import NexusEngine
import NexusProject
import NexusOutputs
import NexusSQL
import NexusWarehouse

/// The functions models can call: `ref`, `var`, `config` and nexus's macros.
public enum TemplateFunctions {
    /// - Parameters:
    ///   - resolve: the quoted name to read a relation by.
    ///   - catalog: the columns of a relation (by project name), for macros that discover them.
    public static func functions(project: Project, dialect: any SQLDialect, resolve: @escaping (String) -> String,
                                 catalog: @escaping (String) throws -> [ColumnInfo]? = { _ in nil }) -> [String: TemplateFunction] {
        var f: [String: TemplateFunction] = [:]
        f["ref"] = { call in
            guard let name = call.args.first?.string else { throw call.error("takes a model name") }
            return .string(resolve(name))
        }
        f["var"] = { call in
            guard let name = call.args.first?.string else { throw call.error("takes a variable name") }
            if let v = project.config.vars[name] { return v }
            if call.args.count > 1 { return call.args[1] }
            throw call.error("'\(name)' is not set in nexus.yml vars and has no default")
        }
        f["config"] = { _ in .string("") }
        f["nexus.create_nexus_id"] = { call in
            let a = try call.bind([("kind", nil), ("columns", nil)])
            guard let kind = a["kind"]?.string else { throw call.error("kind must be a string such as 'event'") }
            let columns: [String]
            switch a["columns"]! {
            case .list(let l):
                columns = try l.map { v in
                    guard let s = v.string else { throw call.error("columns must be a list of SQL expressions as strings") }
                    return s
                }
            case .string(let s): columns = [s]
            default: throw call.error("columns must be a list of SQL expressions as strings")
            }
            guard !columns.isEmpty else { throw call.error("columns must not be empty") }
            return .string(dialect.nexusID(prefix: NexusID.prefix(for: kind), expressions: columns))
        }
        f["nexus.customer_io_identify"] = { call in
            let macro = try CustomerIOIdentify(call)
            guard let columns = try catalog("nexus_entities") else {
                throw call.error("nexus_entities does not exist yet")
            }
            return .string(try macro.sql(relation: resolve("nexus_entities"), columns: columns, dialect: dialect, call: call))
        }
        // The other three shapes read several relations; `relation` resolves any of them.
        let relation: (String) -> String = { resolve($0) }
        f["nexus.customer_io_track"] = { call in
            .string(try CustomerIOTrack(call).sql(relation: relation, catalog: catalog, dialect: dialect))
        }
        f["nexus.customer_io_objects"] = { call in
            let macro = try CustomerIOObjects(call)
            guard let columns = try catalog("nexus_entities") else { throw call.error("nexus_entities does not exist yet") }
            return .string(try macro.sql(relation: resolve("nexus_entities"), columns: columns, dialect: dialect))
        }
        f["nexus.customer_io_relationships"] = { call in
            .string(try CustomerIORelationships(call).sql(relation: relation, catalog: catalog, dialect: dialect))
        }
        return f
    }
}
