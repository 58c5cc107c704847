import NexusCore
import Yams

/// Where the project's warehouse is: a SQLite file (`path`), or a PostgreSQL server (`host`
/// … `sslmode`; the password only through `password_env` or `password_file`).
public struct WarehouseConfig: Sendable, Hashable {
    public var type: String
    public var path: String
    public var host = "localhost"
    public var port = 5432
    public var database = ""
    public var user = ""
    public var schema = "public"
    public var passwordEnv: String?
    public var passwordFile: String?
    public var sslmode = "prefer"
    /// Seconds before the server cancels one statement (0: no limit).
    public var statementTimeout: Double = 0
    /// How long a run or a sync waits for another nexus process on the same warehouse, in
    /// seconds (`lock_timeout`); then it stops with a line naming the holder.
    public var lockTimeout: Double = 600
    /// Snowflake: the account identifier (`myorg-myaccount`), role, virtual warehouse, the
    /// key-pair login's private key file and the environment variable holding its passphrase;
    /// `host` defaults to `<account>.snowflakecomputing.com` (https; plain http only on loopback).
    public var account = ""
    public var role: String?
    public var computeWarehouse: String?
    public var privateKeyPath = ""
    public var privateKeyPassphraseEnv: String?

    public init(type: String, path: String) { self.type = type; self.path = path }
}

extension ProjectConfig.Reader {
    /// A warehouse mapping (`warehouse:`, or one of `targets:`), validated.
    func warehouse(_ w: Node, context: String) throws -> WarehouseConfig {
        var warehouse = WarehouseConfig(type: "sqlite", path: "warehouse.sqlite")
        guard case .mapping(let wm) = w else { throw error("'\(context)' must be a mapping", w) }
        if let t = wm["type"] {
            guard let s = t.string, ["sqlite", "postgres", "snowflake"].contains(s) else {
                throw error("warehouse type '\(t.string ?? "?")' is not supported (supported: sqlite, postgres, snowflake)", t)
            }
            warehouse.type = s
        }
        if let p = wm["password"] {
            throw error("a password never goes in nexus.yml: name the environment variable that holds it (password_env) or a file (password_file)", p)
        }
        func text(_ key: String) throws -> String? {
            guard let n = wm[key] else { return nil }
            guard let s = n.string, !s.isEmpty else { throw error("'\(key)' must be a non-empty string", n) }
            return s
        }
        func seconds(_ key: String) throws -> Double? {
            guard let n = wm[key] else { return nil }
            guard let s = n.string, let v = Double(s), v >= 0, v.isFinite else { throw error("'\(key)' must be a number of seconds (0 or more)", n) }
            return v
        }
        if wm["private_key"] != nil || wm["private_key_passphrase"] != nil {
            throw error("a private key or its passphrase never goes in nexus.yml: name the key's file (private_key_path) and the environment variable holding its passphrase (private_key_passphrase_env)", w)
        }
        if warehouse.type == "sqlite" {
            try checkKeys(wm, allowed: ["type", "path", "lock_timeout"], context: "\(context) (type sqlite)")
            if let s = try text("path") { warehouse.path = s }
        } else if warehouse.type == "snowflake" {
            try checkKeys(wm, allowed: ["type", "account", "user", "role", "warehouse", "database", "schema", "private_key_path",
                                          "private_key_passphrase_env", "host", "lock_timeout", "statement_timeout"],
                            context: "\(context) (type snowflake)")
            for key in ["account", "user", "database", "private_key_path"] where wm[key] == nil {
                throw error("a snowflake warehouse needs '\(key)'", w)
            }
            warehouse.account = try text("account")!
            warehouse.user = try text("user")!
            warehouse.database = try text("database")!
            warehouse.privateKeyPath = try text("private_key_path")!
            warehouse.schema = try text("schema") ?? "PUBLIC"
            warehouse.role = try text("role")
            warehouse.computeWarehouse = try text("warehouse")
            warehouse.privateKeyPassphraseEnv = try text("private_key_passphrase_env")
            warehouse.host = try text("host") ?? "\(warehouse.account).snowflakecomputing.com"
            if let v = try seconds("statement_timeout") { warehouse.statementTimeout = v }
        } else {
            try checkKeys(wm, allowed: ["type", "host", "port", "database", "user", "schema", "password_env", "password_file", "sslmode", "lock_timeout", "statement_timeout"],
                            context: "\(context) (type postgres)")
            for key in ["database", "user"] where wm[key] == nil {
                throw error("a postgres warehouse needs '\(key)'", w)
            }
            warehouse.database = try text("database")!
            warehouse.user = try text("user")!
            if let s = try text("host") { warehouse.host = s }
            if let s = try text("schema") { warehouse.schema = s }
            if let n = wm["port"] {
                guard let s = n.string, let v = Int(s), (1...65535).contains(v) else { throw error("'port' must be a port number (1-65535)", n) }
                warehouse.port = v
            }
            warehouse.passwordEnv = try text("password_env")
            warehouse.passwordFile = try text("password_file")
            if warehouse.passwordEnv != nil, warehouse.passwordFile != nil {
                throw error("give the password one way: password_env or password_file, not both", w)
            }
            if let n = wm["sslmode"] {
                let modes = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]
                guard let s = n.string, modes.contains(s) else { throw error("'sslmode' is one of \(modes.joined(separator: ", "))", n) }
                warehouse.sslmode = s
            }
            if let v = try seconds("statement_timeout") { warehouse.statementTimeout = v }
        }
        if let v = try seconds("lock_timeout") { warehouse.lockTimeout = v }
        return warehouse
    }
}
