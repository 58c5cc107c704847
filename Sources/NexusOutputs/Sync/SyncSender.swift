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

        public init(baseURL: String, apiKey: String, requestsPerSecond: Double) {
            self.baseURL = baseURL; self.apiKey = apiKey; self.requestsPerSecond = requestsPerSecond
        }
    }

    /// What one run did.
    public struct Summary: Sendable, Equatable {
        public var sent = 0, unchanged = 0, failed = 0, skipped = 0, deleted = 0
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

    public func send(_ plan: SyncPlan, progress: (String) -> Void = { _ in }) throws -> Summary {
        let started = Date()
        _ = try SyncState(warehouse: warehouse)
        for output in plan.outputs {
            summary.unchanged += output.count(.unchanged)
            for item in output.items where item.operation == .rejected {
                summary.skipped += 1
                try log(output.name, [item], status: "rejected", code: nil, error: item.error)
            }
            do {
                for batch in pack(output.toSend) { try deliver(output.name, batch) }
                progress("\(output.name): \(output.toSend.count) call(s) to send, \(output.count(.unchanged)) unchanged, \(output.count(.rejected)) rejected")
            } catch let e as HardFailure {
                summary.stoppedAt = output.name
                summary.seconds = Date().timeIntervalSince(started)
                try recordRun()
                throw NexusError("sync", "\(output.name): \(e.message); later outputs were not synced")
            }
        }
        summary.seconds = Date().timeIntervalSince(started)
        try recordRun()
        return summary
    }

    /// The run's summary row in `_nexus_customerio_runs`.
    func recordRun() throws {
        let d = warehouse.dialect
        let s = summary
        try warehouse.execute("""
            INSERT INTO \(SyncState.runsTable) (run_id, finished_at, sent, deleted, unchanged, failed, skipped, bytes, requests, seconds, stopped_at)
            VALUES (\(d.literal(runID)), \(d.literal(Timestamp.format(Int64(Date().timeIntervalSince1970 * 1_000_000)))), \(s.sent), \(s.deleted),
                    \(s.unchanged), \(s.failed), \(s.skipped), \(s.bytes), \(s.requests), \(s.seconds), \(s.stoppedAt.map { d.literal($0) } ?? "NULL"))
            """)
    }

    /// Packs calls into requests of at most 500 KB (with the `{"batch":[…]}` envelope).
    func pack(_ items: [SyncPlan.Item]) -> [[SyncPlan.Item]] {
        var batches: [[SyncPlan.Item]] = []
        var current: [SyncPlan.Item] = []
        var bytes = 12
        for item in items {
            let n = (item.json?.utf8.count ?? 0) + 1
            if !current.isEmpty && bytes + n > SyncPlan.maxRequestBytes {
                batches.append(current); current = []; bytes = 12
            }
            current.append(item); bytes += n
        }
        if !current.isEmpty { batches.append(current) }
        return batches
    }

    func deliver(_ output: String, _ batch: [SyncPlan.Item]) throws {
        let body = "{\"batch\":[" + batch.compactMap(\.json).joined(separator: ",") + "]}"
        let (code, text) = try post(body)
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
        try log(output, batch, status: "failed", code: code, error: String(text.prefix(500)))
    }

    /// POSTs one request, retrying what may succeed later. Returns status and body.
    func post(_ body: String) throws -> (Int, String) {
        guard let url = URL(string: settings.baseURL + "/v1/batch") else { throw HardFailure(message: "bad endpoint \(settings.baseURL)") }
        var attempt = 0
        while true {
            // Rate limit: at most requestsPerSecond requests.
            let gap = 1 / settings.requestsPerSecond - Date().timeIntervalSince(lastRequest)
            if gap > 0 { Thread.sleep(forTimeInterval: gap) }
            lastRequest = Date()
            var request = URLRequest(url: url)
            request.httpMethod = "POST"
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.setValue("1", forHTTPHeaderField: "X-Strict-Mode")
            request.setValue("Basic " + Data("\(settings.apiKey):".utf8).base64EncodedString(), forHTTPHeaderField: "Authorization")
            request.setValue("nexus", forHTTPHeaderField: "User-Agent")
            let (status, text, retryAfter) = exchange(request)
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
        done.wait()
        return (box.status, box.text, box.retryAfter)
    }

    final class ResultBox: @unchecked Sendable { var status: Int?; var text = ""; var retryAfter: Double? }

    /// Records an acknowledged batch: state rows and log rows in one transaction.
    func acknowledge(_ output: String, _ batch: [SyncPlan.Item]) throws {
        let d = warehouse.dialect
        let now = d.literal(Timestamp.format(Int64(Date().timeIntervalSince1970 * 1_000_000)))
        try warehouse.transaction {
            for item in batch {
                if item.operation == .delete {
                    summary.deleted += 1
                    try warehouse.execute("DELETE FROM \(SyncState.stateTable) WHERE output = \(d.literal(output)) AND key = \(d.literal(item.key))")
                } else {
                    summary.sent += 1
                    let message = SyncPayload(key: item.key, hash: item.hash, body: "").messageID(output: output)
                    try warehouse.execute("""
                        INSERT INTO \(SyncState.stateTable) (output, key, hash, message_id, synced_at)
                        VALUES (\(d.literal(output)), \(d.literal(item.key)), \(d.literal(item.hash)), \(d.literal(message)), \(now))
                        ON CONFLICT (output, key) DO UPDATE SET hash = excluded.hash, message_id = excluded.message_id, synced_at = excluded.synced_at
                        """)
                }
            }
            try log(output, batch, status: "sent", code: 200, error: nil)
        }
    }

    func log(_ output: String, _ items: [SyncPlan.Item], status: String, code: Int?, error: String?) throws {
        let d = warehouse.dialect
        let now = d.literal(Timestamp.format(Int64(Date().timeIntervalSince1970 * 1_000_000)))
        try warehouse.transaction {
            for item in items {
                try warehouse.execute("""
                    INSERT INTO \(SyncState.logTable) (run_id, output, key, operation, status, http_code, error, at)
                    VALUES (\(d.literal(runID)), \(d.literal(output)), \(d.literal(item.key)), \(d.literal(item.operation.rawValue)),
                            \(d.literal(status)), \(code.map(String.init) ?? "NULL"), \(error.map { d.literal($0) } ?? "NULL"), \(now))
                    """)
            }
        }
    }
}
