import Foundation
import NexusCore
import NexusSQL

#if canImport(Glibc)
import Glibc
#endif

/// The warehouse lock on Snowflake, which has no advisory locks: leases in a table of the
/// schema, `_nexus_lock` (name, holder, expires: Unix seconds).
///
/// A build or a sync takes its name (`build`, `sync`) with a MERGE: Snowflake runs MERGEs on
/// one table one at a time, so one holder wins the row, or takes it over once its lease has
/// run out. A reader (sync, export) adds a row of its own (`read:<holder>`) and backs off
/// while a build holds `build`; a build waits until no reader's lease is live. A thread
/// renews the lease every 20 seconds while it is held; release deletes the row. A killed
/// process's lease runs out after `leaseSeconds`: the next run waits that long at most.
extension SnowflakeWarehouse {
    static let lockTable = "_nexus_lock"
    static let leaseSeconds = 60

    public func lock(_ purpose: WarehouseLock.Purpose, timeout: Double) throws -> WarehouseLock {
        let table = dialect.quote(SnowflakeWarehouse.lockTable)
        try run("CREATE TABLE IF NOT EXISTS \(table) (name VARCHAR NOT NULL, holder VARCHAR NOT NULL, expires NUMBER(38,0) NOT NULL)")
        let holder = "nexus \(ProcessInfo.processInfo.arguments.dropFirst().first ?? "") (host \(WarehouseLock.hostName()), process \(getpid()), \(UUID().uuidString.prefix(8)))"
        let name = purpose == .read ? "read:" + holder : (purpose == .sync ? "sync" : "build")
        let deadline = Date().addingTimeInterval(max(0, timeout))
        var pause = 0.1
        @Sendable func now() -> Int64 { Int64(Date().timeIntervalSince1970) }
        func take() throws -> Bool {
            let expires = now() + Int64(SnowflakeWarehouse.leaseSeconds)
            // Literals, not bindings: the values are nexus's own, and a MERGE's placeholders are
            // numbered differently by different engines.
            try run("""
                MERGE INTO \(table) t USING (SELECT \(dialect.literal(name)) AS name, \(dialect.literal(holder)) AS holder, \(expires) AS expires) s
                ON t.name = s.name
                WHEN MATCHED AND t.expires < \(now()) THEN UPDATE SET holder = s.holder, expires = s.expires
                WHEN NOT MATCHED THEN INSERT (name, holder, expires) VALUES (s.name, s.holder, s.expires)
                """)
            let owner = try query("SELECT holder FROM \(id: SnowflakeWarehouse.lockTable) WHERE name = \(name)" as SQL).rows.first?.first?.string
            guard owner == holder else { return false }
            // A build waits for live readers; a reader backs off while a build holds the schema.
            let conflict: SQL = purpose == .read
                ? "SELECT holder FROM \(id: SnowflakeWarehouse.lockTable) WHERE name = 'build' AND expires >= \(now())"
                : purpose == .build ? "SELECT holder FROM \(id: SnowflakeWarehouse.lockTable) WHERE name LIKE 'read:%' AND expires >= \(now())" : "SELECT holder FROM \(id: SnowflakeWarehouse.lockTable) WHERE 1 = 0"
            if try !query(conflict).rows.isEmpty {
                if purpose == .read { try execute("DELETE FROM \(id: SnowflakeWarehouse.lockTable) WHERE name = \(name) AND holder = \(holder)" as SQL) }
                return false
            }
            return true
        }
        while try !take() {
            if Date() >= deadline {
                let who = try query("SELECT holder FROM \(id: SnowflakeWarehouse.lockTable) WHERE expires >= \(now()) AND holder <> \(holder) ORDER BY name" as SQL).rows.first?.first?.string ?? "another nexus process"
                if purpose != .read { try? execute("DELETE FROM \(id: SnowflakeWarehouse.lockTable) WHERE name = \(name) AND holder = \(holder)" as SQL) }
                throw NexusError("lock", "warehouse \(location) is busy: \(who) holds it; waited \(WarehouseLock.formatSeconds(timeout)) (warehouse.lock_timeout in nexus.yml sets how long a run waits; a killed run's lease runs out after \(SnowflakeWarehouse.leaseSeconds) s)")
            }
            Thread.sleep(forTimeInterval: pause)
            pause = min(pause * 2, 2)
        }
        // Renew the lease while held.
        let stop = DispatchSemaphore(value: 0)
        let renewer = Thread { [client] in
            while stop.wait(timeout: .now() + 20) == .timedOut {
                _ = try? client.run("UPDATE \(table) SET expires = ? WHERE name = ? AND holder = ?",
                                    bindings: [SQLValue.integer(now() + Int64(SnowflakeWarehouse.leaseSeconds)), .text(name), .text(holder)].map(SnowflakeWarehouse.binding))
            }
        }
        renewer.start()
        let release: @Sendable () -> Void = { [client] in
            stop.signal()
            _ = try? client.run("DELETE FROM \(table) WHERE name = ? AND holder = ?", bindings: [SQLValue.text(name), .text(holder)].map(SnowflakeWarehouse.binding))
        }
        let id = SnowflakeWarehouse.held.add(release)
        return WarehouseLock {
            if SnowflakeWarehouse.held.remove(id) { release() }
        }
    }

    /// Leases this process holds, so that an interrupted nexus gives them back before it exits
    /// (a process killed outright leaves its lease to run out).
    final class Leases: @unchecked Sendable {
        let lock = NSLock()
        var releases: [Int: @Sendable () -> Void] = [:]
        var next = 0
        func add(_ r: @escaping @Sendable () -> Void) -> Int { lock.lock(); defer { lock.unlock() }; next += 1; releases[next] = r; return next }
        func remove(_ id: Int) -> Bool { lock.lock(); defer { lock.unlock() }; return releases.removeValue(forKey: id) != nil }
        func takeAll() -> [@Sendable () -> Void] { lock.lock(); defer { lock.unlock() }; let all = Array(releases.values); releases = [:]; return all }
    }
    static let held = Leases()

    /// Gives back every lease this process holds (on an interrupt).
    public static func releaseLeases() { for r in held.takeAll() { r() } }
}
