import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import NexusCore
import NexusWarehouse

/// Sends a `SyncPlan` to Customer.io's Data Pipelines API (`POST /v1/batch`), safely.
///
/// - Batches are packed by bytes (≤ 500 KB a request; calls over 32 KB were rejected when
///   planning) and sent no faster than `requestsPerSecond`.
/// - 429, 5xx and network errors are retried with exponential backoff and jitter (honouring
///   `Retry-After`); other 4xx are not retried; a 400 on a batch is bisected to find the
///   rows Customer.io refuses, which are logged as failed and retried on the next run.
/// - What Customer.io acknowledged is recorded after every batch, in one transaction with
///   its log rows, so a killed run loses nothing: the next run resends only the batches whose
///   acknowledgement was not recorded, with the same `messageId`s.
/// - Stages run in order (persons, objects, relationships, events); when one fails hard
///   (retries exhausted, bad credentials), the later ones do not run.
/// Each run leaves a summary row in `_nexus_customerio_runs`.
/// The API key is sent only in the Authorization header; it is never logged or stored.
public final class SyncSender {
    public struct Settings: Sendable {
        public var baseURL: String
        public var apiKey: String
        public var requestsPerSecond: Double
        public var maxRetries = 6
        public var timeout: TimeInterval = 30
        public var baseBackoff: TimeInterval = 0.5
        /// gzip request bodies (`Content-Encoding: gzip`).
        public var gzip = false

        /// - Parameter apiKey: surrounding whitespace is dropped (keys read from secret files
        ///   often end in a newline).
        public init(baseURL: String, apiKey: String, requestsPerSecond: Double) {
            self.baseURL = baseURL; self.apiKey = apiKey.trimmingCharacters(in: .whitespacesAndNewlines); self.requestsPerSecond = requestsPerSecond
        }

        /// The Authorization header, as the official SDK sends it: `Bearer` for keys with a
        /// region prefix (`pk_us_`, `sk_eu_`, …), HTTP Basic with an empty password otherwise.
        public var authorization: String {
            if keyRegion != nil { return "Bearer " + apiKey }
            return "Basic " + Data("\(apiKey):".utf8).base64EncodedString()
        }

        /// The region a prefixed key belongs to (`us` or `eu`), or nil.
        public var keyRegion: String? {
            let parts = apiKey.split(separator: "_", maxSplits: 2)
            guard parts.count == 3, parts[0] == "pk" || parts[0] == "sk", parts[1] == "us" || parts[1] == "eu" else { return nil }
            return String(parts[1])
        }
    }

    /// What one run did.
    public struct Summary: Sendable, Equatable {
        public var sent = 0, unchanged = 0, failed = 0, skipped = 0, deleted = 0, merged = 0
        public var bytes = 0, requests = 0
        public var seconds = 0.0
        public var stoppedAt: String?
    }

    let settings: Settings
    let warehouse: any Warehouse
    let runID: String
    var lastRequest = Date.distantPast
    var summary = Summary()
    let session: URLSession

    public init(settings: Settings, warehouse: any Warehouse, runID: String) {
        self.settings = settings
        self.warehouse = warehouse
        self.runID = runID
        let config = URLSessionConfiguration.ephemeral
        config.timeoutIntervalForRequest = settings.timeout
        session = URLSession(configuration: config)
    }

    struct HardFailure: Error { var message: String }

    /// Syncs `outputs` in order, streaming each one through `planner`: rows are planned,
    /// packed and sent as they are read, so memory does not grow with the output.
    public func send(_ outputs: [SyncOutput], planner: SyncPlanner, full: Bool, mode: SyncPlanner.Mode,
                     progress: (String) -> Void = { _ in }) throws -> Summary {
        let started = Date()
        let state = try SyncState(warehouse: warehouse)
        for output in outputs {
            let before = summary
            do {
                try sync(output, planner: planner, full: full, mode: mode)
                try state.merge()
            } catch let e as HardFailure {
                try? state.merge()  // what was acknowledged before the failure is in the log either way
                summary.stoppedAt = output.name
                summary.seconds = Date().timeIntervalSince(started)
                try recordRun()
                throw NexusError("sync", "\(output.name): \(e.message); later outputs were not synced")
            }
            progress("\(output.name) (\(output.shape.rawValue)): sent \(summary.sent - before.sent), deleted \(summary.deleted - before.deleted), unchanged \(summary.unchanged - before.unchanged), failed \(summary.failed - before.failed), rejected \(summary.skipped - before.skipped)")
        }
        summary.seconds = Date().timeIntervalSince(started)
        try recordRun()
        return summary
    }

    func sync(_ output: SyncOutput, planner: SyncPlanner, full: Bool, mode: SyncPlanner.Mode) throws {
        var batch: [SyncPlan.Item] = []
        var bytes = 48  // {"batch":[],"sentAt":"2026-01-01T00:00:00.000Z"}
        var rejected: [SyncPlan.Item] = []
        try planner.scan(output, full: full, mode: mode) { item in
            switch item.operation {
            case .unchanged:
                summary.unchanged += 1
            case .rejected:
                summary.skipped += 1
                rejected.append(item)
                if rejected.count >= 1000 { try log(output.name, rejected, status: "rejected", code: nil); rejected = [] }
            case .create, .update, .delete:
                let n = (item.json?.utf8.count ?? 0) + 1
                if !batch.isEmpty && bytes + n > SyncPlan.maxRequestBytes {
                    try start(output.name, batch)
                    batch = []; bytes = 48
                }
                batch.append(item); bytes += n
            }
        }
        if !batch.isEmpty { try start(output.name, batch) }
        try settle()
        try log(output.name, rejected, status: "rejected", code: nil)
    }

    /// The request in flight, while the calling thread plans and packs the next one.
    struct Pending {
        var output: String
        var batch: [SyncPlan.Item]
        var body: String
        var done: DispatchSemaphore
        var result: ResultBox
    }
    var pending: Pending?

    /// Sends a batch without waiting for the answer; the previous request is settled first,
    /// so at most one is in flight and acknowledgements are recorded in order.
    func start(_ output: String, _ batch: [SyncPlan.Item]) throws {
        try settle()
        let url = try endpoint()
        let body = SyncSender.body(batch)
        holdRate()
        let (done, result) = begin(request(url, body))
        pending = Pending(output: output, batch: batch, body: body, done: done, result: result)
    }

    /// Waits for the request in flight and records what came of it (retrying, bisecting).
    func settle() throws {
        guard let p = pending else { return }
        pending = nil
        p.done.wait()
        try deliver(p.output, p.batch, body: p.body, first: (p.result.status, p.result.text, p.result.retryAfter))
    }

    /// `{"batch":[…],"sentAt":"…"}`: sentAt lets Customer.io correct clock skew, as the SDK's envelope does.
    static func body(_ batch: [SyncPlan.Item]) -> String {
        let sentAt = Timestamp.formatISO(Timestamp.now())
        return "{\"batch\":[" + batch.compactMap(\.json).joined(separator: ",") + "],\"sentAt\":\"\(sentAt)\"}"
    }

    /// `POST /v1/batch` under the configured base URL.
    func endpoint() throws -> URL {
        guard let url = URL(string: settings.baseURL + "/v1/batch") else { throw HardFailure(message: "bad endpoint \(settings.baseURL)") }
        return url
    }

    /// Rate limit: at most requestsPerSecond requests.
    func holdRate() {
        let gap = 1 / settings.requestsPerSecond - Date().timeIntervalSince(lastRequest)
        if gap > 0 { Thread.sleep(forTimeInterval: gap) }
        lastRequest = Date()
    }

    func request(_ url: URL, _ body: String) -> URLRequest {
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.httpBody = Data(body.utf8)
        if settings.gzip, let packed = try? Gzip.compress(request.httpBody!) {
            request.httpBody = packed
            request.setValue("gzip", forHTTPHeaderField: "Content-Encoding")
        }
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("1", forHTTPHeaderField: "X-Strict-Mode")
        request.setValue(settings.authorization, forHTTPHeaderField: "Authorization")
        request.setValue("nexus/\(SyncPayload.libraryVersion)", forHTTPHeaderField: "User-Agent")
        return request
    }

    /// The run's summary row in `_nexus_customerio_runs`.
    func recordRun() throws {
        let s = summary
        try warehouse.execute("""
            INSERT INTO \(id: SyncState.runsTable) (run_id, finished_at, sent, deleted, unchanged, failed, skipped, bytes, requests, seconds, stopped_at)
            VALUES (\(runID), \(Timestamp.format(Timestamp.now())), \(s.sent), \(s.deleted),
                    \(s.unchanged), \(s.failed), \(s.skipped), \(s.bytes), \(s.requests), \(s.seconds), \(s.stoppedAt))
            """ as SQL)
    }

    /// Sends a batch and records the outcome; `first` is the answer to a first attempt
    /// already made (by `start`).
    func deliver(_ output: String, _ batch: [SyncPlan.Item], body given: String? = nil, first: (Int?, String, Double?)? = nil) throws {
        let body = given ?? SyncSender.body(batch)
        let (code, text) = try post(body, first: first)
        if code == 200 {
            summary.requests += 1
            summary.bytes += body.utf8.count
            try acknowledge(output, batch)
            return
        }
        if code == 401 || code == 403 { throw HardFailure(message: "Customer.io refused the credentials (HTTP \(code))") }
        // A 400 names a bad call somewhere in the batch: split until the culprits are alone.
        if batch.count > 1 {
            let half = batch.count / 2
            try deliver(output, Array(batch[..<half]))
            try deliver(output, Array(batch[half...]))
            return
        }
        summary.failed += 1
        try log(output, batch.map { var i = $0; i.error = String(text.prefix(500)); return i }, status: "failed", code: code)
    }

    /// POSTs one request, retrying what may succeed later. Returns status and body.
    func post(_ body: String, first: (Int?, String, Double?)? = nil) throws -> (Int, String) {
        let url = try endpoint()
        return try retrying(first: first) { request(url, body) }
    }

    /// Sends a request made elsewhere (the Track API's), retrying as `post` does.
    func post(_ request: URLRequest) throws -> (Int, String) {
        try retrying(first: nil) { request }
    }

    /// Sends `make()`'s request until it gets an answer that retrying cannot change: 429, 5xx
    /// and network errors are retried with exponential backoff and jitter (or Retry-After).
    func retrying(first: (Int?, String, Double?)?, _ make: () -> URLRequest) throws -> (Int, String) {
        var attempt = 0
        var answer = first
        while true {
            if answer == nil {
                holdRate()
                answer = exchange(make())
            }
            let (status, text, retryAfter) = answer!
            answer = nil
            let retryable = status == nil || status == 429 || (status ?? 0) >= 500
            if !retryable { return (status!, text) }
            attempt += 1
            if attempt > settings.maxRetries {
                throw HardFailure(message: "gave up after \(attempt) attempts (last: \(status.map { "HTTP \($0)" } ?? text))")
            }
            let backoff = retryAfter ?? settings.baseBackoff * pow(2, Double(attempt - 1)) * Double.random(in: 0.5...1.5)
            Thread.sleep(forTimeInterval: min(backoff, 60))
        }
    }

    /// One HTTP exchange: status (nil on a network error), body text, and Retry-After seconds.
    func exchange(_ request: URLRequest) -> (Int?, String, Double?) {
        let (done, box) = begin(request)
        done.wait()
        return (box.status, box.text, box.retryAfter)
    }

    /// Starts an exchange; the semaphore is signalled when `box` holds the answer.
    func begin(_ request: URLRequest) -> (DispatchSemaphore, ResultBox) {
        let done = DispatchSemaphore(value: 0)
        let box = ResultBox()
        let task = session.dataTask(with: request) { data, response, error in
            if let http = response as? HTTPURLResponse {
                box.status = http.statusCode
                box.retryAfter = (http.value(forHTTPHeaderField: "Retry-After")).flatMap(Double.init)
            }
            box.text = data.map { String(decoding: $0, as: UTF8.self) } ?? (error.map { "network error: \($0.localizedDescription)" } ?? "")
            done.signal()
        }
        task.resume()
        return (done, box)
    }

    final class ResultBox: @unchecked Sendable { var status: Int?; var text = ""; var retryAfter: Double? }

    /// Records an acknowledged batch: its log rows (with hashes and messageIds), in one
    /// transaction; `SyncState.merge` folds them into the state table at the end of the output.
    func acknowledge(_ output: String, _ batch: [SyncPlan.Item]) throws {
        try log(output, batch, status: "sent", code: 200)
        for item in batch { if item.operation == .delete { summary.deleted += 1 } else { summary.sent += 1 } }
    }

    /// Log rows, one per item (the item's error, if any, goes with it).
    func log(_ output: String, _ items: [SyncPlan.Item], status: String, code: Int?) throws {
        let now = SQLValue.text(Timestamp.format(Timestamp.now()))
        let rows: [[SQLValue]] = items.map { item in
            let acked = status == "sent"
            let message: SQLValue = acked ? item.messageID.map { .text($0) } ?? .null : .null
            return [.text(runID), .text(output), .text(item.key), .text(item.operation.rawValue), .text(status),
                    code.map { .integer(Int64($0)) } ?? .null, item.error.map { .text($0) } ?? .null, now,
                    acked ? .text(item.hash) : .null, message]
        }
        try writeLog(rows)
    }

    /// Sync log rows (run_id, output, key, operation, status, http_code, error, at, hash,
    /// message_id), in one transaction: the batches' and the merges'.
    func writeLog(_ rows: [[SQLValue]]) throws {
        try warehouse.transaction {
            try warehouse.executeMany("""
                INSERT INTO \(warehouse.dialect.quote(SyncState.logTable)) (run_id, output, key, operation, status, http_code, error, "at", hash, message_id)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, rows)
        }
    }
}
