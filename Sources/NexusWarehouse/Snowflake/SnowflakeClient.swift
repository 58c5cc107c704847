import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import NexusCore

/// Snowflake's SQL API v2 (`/api/v2/statements`), synchronously, for nexus's warehouse calls:
/// key-pair JWT login, every statement submitted asynchronously and polled, results read
/// partition by partition, a request id per statement so that a retried submit is not run
/// twice, retries with backoff on 429 and 503, cancel.
public final class SnowflakeClient: @unchecked Sendable {
    /// Where and as whom to connect.
    public struct Settings: Sendable {
        public var account: String
        public var user: String
        public var role: String?
        public var warehouse: String?
        public var database: String
        public var schema: String
        /// `https://<account>.snowflakecomputing.com` unless given (tests: a loopback stand-in).
        public var baseURL: String
        /// Seconds before Snowflake cancels a statement (0: the account's default).
        public var statementTimeout: Int = 0
        public var maxRetries = 6
        public var baseBackoff = 0.5
        public init(account: String, user: String, role: String?, warehouse: String?, database: String, schema: String, baseURL: String) {
            self.account = account; self.user = user; self.role = role; self.warehouse = warehouse
            self.database = database; self.schema = schema; self.baseURL = baseURL
        }
    }

    /// One column of a result: its name and Snowflake type (`fixed`, `real`, `text`, …).
    public struct Column: Sendable {
        public var name: String
        public var type: String
        public var scale: Int
    }

    /// A finished statement: its columns, its first partition's rows, and how to read the rest.
    public struct Result {
        public var columns: [Column]
        public var handle: String
        public var partitions: Int
        public var first: [[String?]]
    }

    public let settings: Settings
    let key: SnowflakeKey
    let session: URLSession
    var token: (jwt: String, until: Int)?
    let lock = NSLock()
    /// Statements running now, for `cancelAll` (an interrupted run cancels what it started).
    var running: Set<String> = []

    public init(settings: Settings, key: SnowflakeKey) {
        self.settings = settings
        self.key = key
        let config = URLSessionConfiguration.ephemeral
        config.timeoutIntervalForRequest = 120
        config.httpAdditionalHeaders = ["Accept-Encoding": "gzip"]
        session = URLSession(configuration: config)
        SnowflakeClient.registry.lock()
        SnowflakeClient.live.append(Weak(self))
        SnowflakeClient.registry.unlock()
    }

    final class Weak: @unchecked Sendable { weak var client: SnowflakeClient?; init(_ c: SnowflakeClient) { client = c } }
    nonisolated(unsafe) static var live: [Weak] = []
    static let registry = NSLock()

    /// Cancels every statement any client in this process is waiting for: an interrupted
    /// nexus (Ctrl-C, SIGTERM) stops its work in Snowflake too, instead of leaving it running
    /// (and billed) until the statement timeout. Returns how many statements it cancelled.
    @discardableResult
    public static func cancelEverything() -> Int {
        registry.lock()
        let clients = live.compactMap(\.client)
        live = live.filter { $0.client != nil }
        registry.unlock()
        return clients.map { $0.cancelAll() }.reduce(0, +)
    }

    /// Names the account and user in messages.
    var who: String { "user \(settings.user) on Snowflake account \(settings.account)" }

    func bearer() throws -> String {
        lock.lock(); defer { lock.unlock() }
        let now = Int(Date().timeIntervalSince1970)
        if let t = token, t.until > now + 60 { return t.jwt }
        let jwt = try key.jwt(account: settings.account, user: settings.user, now: now)
        token = (jwt, now + 3540)
        return jwt
    }

    /// One HTTP exchange: status and body (gzip undone). Connection failures throw.
    func send(_ method: String, _ path: String, body: Data? = nil) throws -> (Int, Data) {
        guard let url = URL(string: settings.baseURL + path) else {
            throw NexusError("warehouse", "'\(settings.baseURL)' is not a URL (warehouse.host)")
        }
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.httpBody = body
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        request.setValue("Bearer " + (try bearer()), forHTTPHeaderField: "Authorization")
        request.setValue("KEYPAIR_JWT", forHTTPHeaderField: "X-Snowflake-Authorization-Token-Type")
        request.setValue("nexus/0.1", forHTTPHeaderField: "User-Agent")
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var outcome: (Int, Data)?
        nonisolated(unsafe) var failure: (any Error)?
        session.dataTask(with: request) { data, response, error in
            if let error { failure = error } else { outcome = ((response as? HTTPURLResponse)?.statusCode ?? 0, data ?? Data()) }
            done.signal()
        }.resume()
        done.wait()
        if let failure {
            throw NexusError("warehouse", "cannot reach Snowflake at \(settings.baseURL) (account \(settings.account)): \(failure.localizedDescription); check the account identifier and warehouse.host")
        }
        var (status, data) = outcome!
        if data.starts(with: [0x1f, 0x8b]) { data = try Gzip.decompress(data) }
        return (status, data)
    }

    /// Submits one statement and waits for it; a failure is a `NexusError` with Snowflake's
    /// code, SQLSTATE and message.
    public func run(_ statement: String, bindings: [[String: Any]] = []) throws -> Result {
        let requestID = UUID().uuidString.lowercased()
        var body: [String: Any] = ["statement": statement, "database": settings.database, "schema": settings.schema,
                                   "parameters": ["TIMESTAMP_OUTPUT_FORMAT": "YYYY-MM-DD HH24:MI:SS.FF6", "QUOTED_IDENTIFIERS_IGNORE_CASE": false]]
        if let w = settings.warehouse { body["warehouse"] = w }
        if let r = settings.role { body["role"] = r }
        if settings.statementTimeout > 0 { body["timeout"] = settings.statementTimeout }
        if !bindings.isEmpty {
            var b: [String: Any] = [:]
            for (i, v) in bindings.enumerated() { b[String(i + 1)] = v }
            body["bindings"] = b
        }
        let data = try JSONSerialization.data(withJSONObject: body)
        var attempt = 0
        var (status, answer) = (0, Data())
        while true {
            let retry = attempt > 0 ? "&retry=true" : ""
            (status, answer) = try send("POST", "/api/v2/statements?requestId=\(requestID)&async=true\(retry)", body: data)
            if (status == 429 || status == 503 || status == 504) && attempt < settings.maxRetries {
                Thread.sleep(forTimeInterval: settings.baseBackoff * Double(1 << attempt))
                attempt += 1
                continue
            }
            break
        }
        var object = try json(answer, status: status, statement: statement)
        guard let handle = object["statementHandle"] as? String else { throw failure(status, object, statement) }
        lock.lock(); running.insert(handle); lock.unlock()
        defer { lock.lock(); running.remove(handle); lock.unlock() }
        var wait = 0.02
        while status == 202 {
            Thread.sleep(forTimeInterval: wait)
            wait = min(wait * 1.5, 1)
            (status, answer) = try send("GET", "/api/v2/statements/\(handle)")
            if status == 429 || status == 503 || status == 504 { status = 202; continue }
            object = try json(answer, status: status, statement: statement)
        }
        guard status == 200 else { throw failure(status, object, statement) }
        let meta = object["resultSetMetaData"] as? [String: Any] ?? [:]
        let columns = (meta["rowType"] as? [[String: Any]] ?? []).map {
            Column(name: $0["name"] as? String ?? "", type: ($0["type"] as? String ?? "text").lowercased(), scale: $0["scale"] as? Int ?? 0)
        }
        let partitions = (meta["partitionInfo"] as? [Any])?.count ?? 1
        return Result(columns: columns, handle: handle, partitions: max(partitions, 1), first: rows(object["data"]))
    }

    /// The rows of partition `index` (> 0) of a finished statement.
    public func partition(_ handle: String, _ index: Int) throws -> [[String?]] {
        var attempt = 0
        while true {
            let (status, answer) = try send("GET", "/api/v2/statements/\(handle)?partition=\(index)")
            if (status == 429 || status == 503 || status == 504) && attempt < settings.maxRetries {
                Thread.sleep(forTimeInterval: settings.baseBackoff * Double(1 << attempt))
                attempt += 1
                continue
            }
            let object = try json(answer, status: status, statement: "(partition \(index))")
            guard status == 200 else { throw failure(status, object, "(partition \(index))") }
            return rows(object["data"])
        }
    }

    /// Cancels every statement this client is waiting for; returns how many.
    @discardableResult
    public func cancelAll() -> Int {
        lock.lock(); let handles = running; lock.unlock()
        for h in handles { _ = try? send("POST", "/api/v2/statements/\(h)/cancel") }
        return handles.count
    }

    func rows(_ data: Any?) -> [[String?]] {
        (data as? [[Any]] ?? []).map { $0.map { $0 as? String } }
    }

    func json(_ data: Data, status: Int, statement: String) throws -> [String: Any] {
        if data.isEmpty { return [:] }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw NexusError("warehouse", "Snowflake answered HTTP \(status) with a body that is not JSON (\(who); is warehouse.host a Snowflake account URL?)")
        }
        return object
    }

    /// Snowflake's error as one line naming what to check.
    func failure(_ status: Int, _ object: [String: Any], _ statement: String) -> NexusError {
        let code = object["code"] as? String ?? "", message = (object["message"] as? String ?? "HTTP \(status)").replacingOccurrences(of: "\n", with: " ")
        let state = object["sqlState"] as? String
        switch status {
        case 401, 403:
            return NexusError("warehouse", "Snowflake refused the key-pair login of \(who): \(message) (check that the user's RSA_PUBLIC_KEY is the public half of private_key_path, and the account identifier)")
        case 404 where code != "333333":
            return NexusError("warehouse", "Snowflake account \(settings.account) was not found at \(settings.baseURL) (HTTP 404): check warehouse.account (organisation-account, e.g. myorg-myaccount) and warehouse.host")
        default:
            var hint = ""
            let role = settings.role.map { " \($0)" } ?? "", warehouse = settings.warehouse.map { " \($0)" } ?? ""
            switch code {
            case "390189": hint = " (check warehouse.role\(role): \(who) must be granted it)"
            case "000606", "000605": hint = " (check warehouse.warehouse\(warehouse) for \(who): it must exist, the role must be granted USAGE on it, and it must be running or able to resume)"
            case "000630", "000604":
                hint = " (\(who): the statement ran longer than \(settings.statementTimeout > 0 ? "warehouse.statement_timeout (\(settings.statementTimeout) s)" : "the warehouse's STATEMENT_TIMEOUT_IN_SECONDS"), or was cancelled)"
            case "090105", "090106":
                hint = " (check warehouse.database \(settings.database) and warehouse.schema \(settings.schema) for \(who): they must exist and the role must be granted USAGE on them)"
            case "002003" where message.localizedCaseInsensitiveContains("schema"):
                hint = " (check warehouse.database \(settings.database) and warehouse.schema \(settings.schema) for \(who): they must exist and the role must be granted USAGE on them)"
            default: break
            }
            let short = statement.split(separator: "\n").first.map { String($0.prefix(120)) } ?? ""
            return NexusError("sql", "\(message) (Snowflake \(code)\(state.map { ", SQLSTATE \($0)" } ?? ""))\(hint); statement: \(short)")
        }
    }
}
