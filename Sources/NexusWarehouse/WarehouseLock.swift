import Foundation
import NexusCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A lock held on a warehouse for the length of a build or a sync, so that two nexus
/// processes on one warehouse (a scheduled run and a person) wait for each other instead of
/// dropping each other's staging tables or sending one change twice.
///
/// On the embedded warehouse it is an advisory `flock` on a file beside the warehouse file:
/// the kernel releases it when its process ends however it ends, so a killed run's lock is
/// reclaimed by the next run at once (which then drops the killed run's staging tables).
public final class WarehouseLock {
    /// What a lock is for.
    public enum Purpose: String, Sendable {
        /// A build: exclusive; it replaces the published tables.
        case build
        /// Reading the published build (sync, export): shared with other readers; waits for a
        /// build to publish, so that it never reads one half-published.
        case read
        /// A sync's writes to its own state: exclusive among syncs.
        case sync
    }

    let releaseAction: () -> Void

    /// A lock that `release` gives back (each warehouse has its own kind of lock).
    public init(release: @escaping () -> Void) { releaseAction = release }

    deinit { release() }

    private var released = false

    /// Gives the lock back (also done when the lock is freed, or the process ends).
    public func release() {
        guard !released else { return }
        released = true
        releaseAction()
    }

    /// Takes the lock for `purpose` on the file at `path` (created when missing), waiting up to
    /// `timeout` seconds; `warehouse` names the warehouse in the error when it stays busy.
    public static func file(_ purpose: Purpose, file path: String, warehouse: String, timeout: Double,
                               command: String = ProcessInfo.processInfo.arguments.dropFirst().first ?? "nexus") throws -> WarehouseLock {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw NexusError("lock", "cannot open the lock file \(path) of warehouse \(warehouse): \(String(cString: strerror(errno))); check that its folder is writable")
        }
        let operation = (purpose == .read ? LOCK_SH : LOCK_EX) | LOCK_NB
        let deadline = Date().addingTimeInterval(max(0, timeout))
        var pause = 0.02
        while flock(fd, operation) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else {
                let reason = String(cString: strerror(errno))
                close(fd)
                throw NexusError("lock", "cannot lock warehouse \(warehouse) (\(path)): \(reason)")
            }
            if Date() >= deadline {
                let holder = holderDescription(fd)
                close(fd)
                throw NexusError("lock", "warehouse \(warehouse) is busy: \(holder) holds it; waited \(formatSeconds(timeout)) (warehouse.lock_timeout in nexus.yml sets how long a run waits)")
            }
            usleep(UInt32(pause * 1_000_000))
            pause = min(pause * 2, 0.25)
        }
        if purpose != .read {
            // Who holds it, for the message of whoever waits: host, process, start time, command.
            let text = "nexus \(command) (host \(hostName()), process \(getpid()), started \(Timestamp.format(Timestamp.now() / 1_000_000 * 1_000_000)) UTC)\n"
            _ = ftruncate(fd, 0)
            _ = text.withCString { pwrite(fd, $0, strlen($0), 0) }
        }
        let exclusive = purpose != .read
        return WarehouseLock {
            // The holder's line goes with it: whoever waits next sees who holds it then.
            if exclusive { _ = ftruncate(fd, 0) }
            _ = flock(fd, LOCK_UN)
            close(fd)
        }
    }

    /// This machine's name, for messages that say who holds a lock.
    static func hostName() -> String {
        var host = [CChar](repeating: 0, count: 256)
        gethostname(&host, host.count)
        return String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func holderDescription(_ fd: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 512)
        let n = pread(fd, &buffer, buffer.count, 0)
        let text = n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : ""
        return text.isEmpty ? "another nexus process (a sync or an export reading it)" : text
    }

    static func formatSeconds(_ s: Double) -> String {
        s == s.rounded() ? "\(Int(s)) s" : String(format: "%.1f s", s)
    }
}
