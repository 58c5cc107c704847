import Testing
import NexusCore
import NexusProject

/// `warehouse:` in nexus.yml: SQLite by default, PostgreSQL with its settings; a password
/// never in the file; each mistake named at its line.
struct WarehouseConfigTests {
    static func parse(_ warehouse: String) throws -> WarehouseConfig {
        try ProjectConfig.parse("name: x\nwarehouse:\n\(warehouse)\n", file: "nexus.yml").warehouse
    }

    static func error(_ warehouse: String) -> String {
        do { _ = try parse(warehouse); return "parsed" } catch { return "\(error)" }
    }

    @Test func sqliteIsTheDefault() throws {
        let c = try ProjectConfig.parse("name: x\n", file: "nexus.yml").warehouse
        #expect(c.type == "sqlite" && c.path == "warehouse.sqlite" && c.lockTimeout == 600)
        #expect(try WarehouseConfigTests.parse("  path: data/w.sqlite\n  lock_timeout: 5").path == "data/w.sqlite")
    }

    @Test func postgresSettings() throws {
        let c = try WarehouseConfigTests.parse("""
              type: postgres
              host: db.internal
              port: 6543
              database: analytics
              user: nexus
              schema: identity
              password_env: NEXUS_PG_PASSWORD
              sslmode: require
              statement_timeout: 300
              lock_timeout: 60
            """)
        #expect(c.type == "postgres" && c.host == "db.internal" && c.port == 6543 && c.database == "analytics" && c.user == "nexus")
        #expect(c.schema == "identity" && c.passwordEnv == "NEXUS_PG_PASSWORD" && c.passwordFile == nil && c.sslmode == "require")
        #expect(c.statementTimeout == 300 && c.lockTimeout == 60)
        let d = try WarehouseConfigTests.parse("  type: postgres\n  database: a\n  user: b")
        #expect(d.host == "localhost" && d.port == 5432 && d.schema == "public" && d.sslmode == "prefer")
    }

    @Test func mistakesAreNamedAtTheirLine() {
        let pg = "  type: postgres\n  database: a\n  user: b\n"
        let cases: [(String, String)] = [
            ("  type: postgres\n  user: b", "needs 'database'"),
            (pg + "  password: hunter2", "a password never goes in nexus.yml"),
            (pg + "  password_env: A\n  password_file: /run/secrets/pg", "password_env or password_file, not both"),
            (pg + "  sslmode: maybe", "'sslmode' is one of disable"),
            (pg + "  port: 99999", "'port' must be a port number"),
            (pg + "  path: w.sqlite", "path"),
            ("  type: oracle", "not supported (supported: sqlite, postgres, snowflake)"),
            ("  type: snowflake\n  user: u\n  database: d\n  private_key_path: k.p8", "a snowflake warehouse needs 'account'"),
            ("  type: snowflake\n  account: a\n  user: u\n  database: d\n  private_key_path: k.p8\n  private_key: MIIEv", "a private key or its passphrase never goes in nexus.yml"),
            ("  type: snowflake\n  account: a\n  user: u\n  database: d\n  private_key_path: k.p8\n  password_env: X", "unknown key 'password_env' in warehouse (type snowflake)"),
            ("  type: sqlite\n  host: x", "host"),
        ]
        for (yml, want) in cases {
            let e = WarehouseConfigTests.error(yml)
            #expect(e.contains(want) && e.contains("nexus.yml:"), "\(yml) → \(e)")
            #expect(!e.contains("hunter2") && !e.contains("MIIEv"), "a secret is never repeated")
        }
    }

    /// `targets:` names other warehouses, each validated as `warehouse:` is, with its own
    /// name in the message.
    @Test func targetsNameOtherWarehouses() throws {
        let c = try ProjectConfig.parse("""
            name: x
            targets:
              prod:
                type: postgres
                database: analytics
                user: nexus
              scratch:
                path: scratch.sqlite
            """, file: "nexus.yml")
        #expect(c.warehouse.type == "sqlite" && c.warehouse.path == "warehouse.sqlite")
        #expect(c.targets["prod"]?.type == "postgres" && c.targets["prod"]?.database == "analytics")
        #expect(c.targets["scratch"]?.type == "sqlite" && c.targets["scratch"]?.path == "scratch.sqlite")
        func error(_ yml: String) -> String {
            do { _ = try ProjectConfig.parse(yml, file: "nexus.yml"); return "parsed" } catch { return "\(error)" }
        }
        #expect(error("name: x\ntargets:\n  prod:\n    type: postgres\n    user: u\n").contains("a postgres warehouse needs 'database'"))
        #expect(error("name: x\ntargets:\n  prod:\n    type: sqlite\n    host: h\n").contains("unknown key 'host' in targets.prod (type sqlite)"))
        #expect(error("name: x\ntargets:\n  prod:\n    type: postgres\n    password: hunter2\n").contains("a password never goes in nexus.yml"))
        #expect(error("name: x\ntargets: [a]\n").hasPrefix("nexus.yml:2:10: 'targets' is a mapping"))
    }
}
