import Foundation
import NexusCore
import NexusProject
import NexusWarehouse

/// The one place where nexus.yml's `warehouse:` becomes a warehouse (and with it, its dialect).
public enum Warehouses {
    /// Opens (connects to) the project's warehouse.
    public static func open(_ project: Project) throws -> any Warehouse {
        let c = project.config.warehouse
        switch c.type {
        case "postgres":
            var s = PostgresWarehouse.Settings(host: c.host, port: c.port, database: c.database, user: c.user, schema: c.schema,
                                               passwordEnv: c.passwordEnv, sslmode: c.sslmode)
            s.passwordFile = c.passwordFile.map { resolve($0, in: project) }
            s.statementTimeout = c.statementTimeout
            return try PostgresWarehouse(s)
        default:
            return try SQLiteWarehouse(path: resolve(c.path, in: project))
        }
    }

    /// A path from nexus.yml: absolute, or relative to the project folder.
    static func resolve(_ path: String, in project: Project) -> String {
        path.hasPrefix("/") ? path : (project.root as NSString).appendingPathComponent(path)
    }
}
