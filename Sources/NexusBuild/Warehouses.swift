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
        case "snowflake":
            return try openSnowflake(c, project)
        default:
            return try SQLiteWarehouse(path: resolve(c.path, in: project))
        }
    }

    /// A Snowflake warehouse: the key read from its file (the passphrase from the environment),
    /// `host` as https, or http on a loopback address only (a local stand-in).
    static func openSnowflake(_ c: WarehouseConfig, _ project: Project) throws -> any Warehouse {
        let keyPath = resolve(c.privateKeyPath, in: project)
        guard let pem = FileManager.default.contents(atPath: keyPath) else {
            throw NexusError("warehouse", "cannot read the Snowflake private key file \(keyPath) (warehouse.private_key_path)", at: SourceLocation(file: "nexus.yml"))
        }
        var passphrase: String?
        if let env = c.privateKeyPassphraseEnv {
            guard let v = ProcessInfo.processInfo.environment[env], !v.isEmpty else {
                throw NexusError("warehouse", "the environment variable \(env) (warehouse.private_key_passphrase_env) is not set", at: SourceLocation(file: "nexus.yml"))
            }
            passphrase = v
        }
        let key = try SnowflakeKey(pem: pem, passphrase: passphrase, path: keyPath)
        var base = c.host.contains("://") ? c.host : "https://" + c.host
        while base.hasSuffix("/") { base.removeLast() }
        if base.hasPrefix("http://") {
            let host = URL(string: base)?.host ?? ""
            guard ["127.0.0.1", "localhost", "::1", "[::1]"].contains(host) else {
                throw NexusError("warehouse", "warehouse.host \(c.host) is plain http: only a loopback address may be (a local stand-in); Snowflake itself is https", at: SourceLocation(file: "nexus.yml"))
            }
        }
        var s = SnowflakeClient.Settings(account: c.account, user: c.user, role: c.role, warehouse: c.computeWarehouse,
                                         database: c.database, schema: c.schema, baseURL: base)
        s.statementTimeout = Int(c.statementTimeout.rounded(.up))
        return SnowflakeWarehouse(client: SnowflakeClient(settings: s, key: key))
    }

    /// A path from nexus.yml: absolute, or relative to the project folder.
    static func resolve(_ path: String, in project: Project) -> String {
        path.hasPrefix("/") ? path : (project.root as NSString).appendingPathComponent(path)
    }
}
