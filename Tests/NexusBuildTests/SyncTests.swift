import Foundation
import Testing
import NexusCore
import NexusOutputs
import NexusProject
import NexusWarehouse
@testable import NexusBuild
import NexusTesting

struct SyncTests {
    func project() throws -> (Fixture, SQLiteWarehouse) {
        let f = CustomerIOShapesTests().fixture([
            "objects": "{{ nexus.customer_io_objects(id_column='location_id', object_type_id='2', traits=['location_name', '_created_at']) }}",
            "rels": "{{ nexus.customer_io_relationships(object_type_id='2', object_id_column='location_id', user_id_column='email') }}",
            "events": "{{ nexus.customer_io_track(user_id_column='email', sources=['s']) }}",
        ])
        return (f, try f.run())
    }

    let outputs = ["customer_io_persons", "objects", "rels", "events"]

    func sync(_ w: SQLiteWarehouse, _ server: FakeCustomerIO, full: Bool = false, mode: SyncPlanner.Mode = .upsert, key: String = FakeCustomerIO.key,
              gzip: Bool = false) throws -> SyncSender.Summary {
        let planner = SyncPlanner(warehouse: w)
        var settings = SyncSender.Settings(baseURL: server.url, apiKey: key, requestsPerSecond: 200)
        settings.gzip = gzip
        settings.baseBackoff = 0.01
        settings.maxRetries = 3
        settings.timeout = 1
        return try SyncSender(settings: settings, warehouse: w, runID: "test").send(try planner.outputs(outputs), planner: planner, full: full, mode: mode)
    }

    @Test func payloadsHaveTheAPIsShapes() throws {
        let (_, w) = try project()
        let server = try FakeCustomerIO()
        let s = try sync(w, server)
        #expect(s.sent == 2 + 2 + 3 + 3 && s.failed == 0 && s.requests == 4)
        let calls = try server.received().calls
        // Persons first, then objects, relationships, events (the initial sync order).
        #expect(calls.map { $0["type"] as! String } == ["identify", "identify", "group", "group", "group", "group", "group", "track", "track", "track"])
        let ann = try #require(calls.first { $0["userId"] as? String == "a@x.test" && $0["type"] as? String == "identify" })
        #expect((ann["messageId"] as? String)?.hasPrefix("nx-") == true)
        #expect(ann["timestamp"] as? String == "2025-01-01T00:00:00.000Z")
        let traits = try #require(ann["traits"] as? [String: Any])
        #expect(traits["created_at"] as? Int == 1_735_689_600) // dates as Unix seconds
        let object = try #require(calls.first { $0["type"] as? String == "group" && $0["userId"] == nil })
        #expect((object["traits"] as? [String: Any])?["objectTypeId"] as? String == "2")
        let rel = try #require(calls.first { $0["type"] as? String == "group" && $0["userId"] as? String == "a@x.test" && $0["groupId"] as? String == "L2" })
        let attributes = try #require((rel["traits"] as? [String: Any])?["relationshipAttributes"] as? [String: Any])
        #expect(attributes["is_primary_location"] as? Bool == true)
        #expect(attributes["location_count"] as? Int == 2)
        #expect(attributes["last_interaction_at"] as? Int == 1_736_035_200)
        let event = try #require(calls.first { $0["type"] as? String == "track" && $0["event"] as? String == "payment completed" })
        #expect(event["properties"] is [String: Any])
    }

    /// The calls nexus sends equal, field for field, those the official SDK
    /// (customerio-cdp-analytics 1.1.0, customerio.md Appendix A) sends for the same rows:
    /// the SDK reads the same output tables and sends them to a second stand-in.
    @Test func callsMatchTheOfficialSDKOnTheWire() throws {
        let (_, w) = try project()
        let ours = try FakeCustomerIO()
        _ = try sync(w, ours)
        let theirs = try FakeCustomerIO(["--accept-permissive"])
        try SDKOracle.send(db: w.path, host: theirs.url, key: FakeCustomerIO.key,
                           outputs: [("customer_io_persons", "identify"), ("objects", "objects"), ("rels", "relationships"), ("events", "track")])
        let a = try ours.received(), b = try theirs.received()
        #expect(a.calls.count == 10 && b.calls.count == 10)
        // What may differ: the messageId's value, context.library's name and version, and how
        // UTC is spelled (SDK "+00:00", nexus "Z"); the SDK also spells out empty integrations and null ids.
        func normal(_ call: [String: Any], library: String) throws -> String {
            var c = call
            #expect((c.removeValue(forKey: "messageId") as? String)?.isEmpty == false)
            let context = c.removeValue(forKey: "context") as? [String: Any]
            #expect((context?["library"] as? [String: Any])?["name"] as? String == library)
            #expect((context?["library"] as? [String: Any])?["version"] is String)
            if let i = c["integrations"] as? [String: Any], i.isEmpty { c["integrations"] = nil }
            for k in ["userId", "anonymousId"] where c[k] is NSNull { c[k] = nil }
            if let t = c["timestamp"] as? String, t.hasSuffix("+00:00") { c["timestamp"] = t.dropLast(6) + "Z" }
            return String(decoding: try JSONSerialization.data(withJSONObject: c, options: [.sortedKeys]), as: UTF8.self)
        }
        let nexusCalls = try a.calls.map { try normal($0, library: "nexus") }.sorted()
        let sdkCalls = try b.calls.map { try normal($0, library: "analytics-python") }.sorted()
        for (x, y) in zip(nexusCalls, sdkCalls) { #expect(x == y) }
        // The envelope: JSON, HTTP Basic for a key without a region prefix, and an ISO sentAt.
        for r in a.requests + b.requests {
            #expect(r["_auth"] as? String == "Basic")
            #expect((r["_contentType"] as? String)?.hasPrefix("application/json") == true)
            #expect((r["_sentAt"] as? String)?.contains("T") == true)
        }
    }

    /// gzip bodies carry the same calls in fewer bytes.
    @Test func gzipBodiesCarryTheSameCalls() throws {
        let (_, w) = try project()
        let plain = try FakeCustomerIO(), packed = try FakeCustomerIO()
        _ = try sync(w, plain)
        _ = try sync(w, packed, full: true, gzip: true)
        let a = try plain.received(), b = try packed.received()
        #expect(b.requests.allSatisfy { $0["_encoding"] as? String == "gzip" } && a.requests.allSatisfy { $0["_encoding"] is NSNull })
        func ids(_ calls: [[String: Any]]) -> [String] { calls.compactMap { $0["messageId"] as? String }.sorted() }
        #expect(ids(a.calls).count == 10 && ids(a.calls) == ids(b.calls))
        #expect(try ProjectConfig.parse("name: x\ncustomerio: {gzip: true}\n", file: "nexus.yml").customerIO.gzip)
    }

    @Test func regionPrefixedKeysAreSentAsBearerTokens() throws {
        var s = SyncSender.Settings(baseURL: "http://x", apiKey: "sk_eu_abc\n", requestsPerSecond: 1)
        #expect(s.apiKey == "sk_eu_abc" && s.keyRegion == "eu" && s.authorization == "Bearer sk_eu_abc")
        s = SyncSender.Settings(baseURL: "http://x", apiKey: "wk_test", requestsPerSecond: 1)
        #expect(s.keyRegion == nil && s.authorization == "Basic " + Data("wk_test:".utf8).base64EncodedString())
    }

    @Test func aSecondRunSendsOnlyWhatChanged() throws {
        let (f, w) = try project()
        let server = try FakeCustomerIO()
        _ = try sync(w, server)
        let again = try sync(w, server)
        #expect(again.sent == 0 && again.unchanged == 10 && again.requests == 0)
        // A new trait for b@x.test changes one person; events are sent once.
        f.trait("tn", ("email", "b@x.test"), "plan", "pro", day: 8)
        let w2 = try f.run()
        let third = try sync(w2, server)
        #expect(third.requests == 1 && third.sent == 2)
        let last = try server.received().calls.suffix(third.sent)
        #expect(last.allSatisfy { $0["type"] as? String == "identify" })
        #expect(last.contains { $0["userId"] as? String == "b@x.test" })
        // --full resends every row (the new trait column changed both persons' calls above).
        #expect(try sync(w2, server, full: true).sent == 10)
    }

    /// Old log rows may be deleted (or the log dropped) to save space: the state keeps what
    /// was acknowledged, and later acknowledgements still reach it.
    @Test func pruningTheLogLosesNoState() throws {
        let (f, w) = try project()
        let server = try FakeCustomerIO()
        _ = try sync(w, server)
        try w.execute("DELETE FROM _nexus_customerio_log")
        f.trait("tn", ("email", "b@x.test"), "plan", "pro", day: 8)
        let w2 = try f.run()
        #expect(try sync(w2, server).sent == 2)
        #expect(try sync(w2, server).sent == 0)
        try w2.execute("DROP TABLE _nexus_customerio_log")
        f.trait("tm", ("email", "b@x.test"), "plan", "max", day: 9)
        let w3 = try f.run()
        #expect(try sync(w3, server).sent == 1)
        #expect(try sync(w3, server).sent == 0)
    }

    @Test func aRefusedRowIsFoundByBisectionAndRetriedNextRun() throws {
        let (_, w) = try project()
        let refusing = try FakeCustomerIO(["--reject-user", "b@x.test"])
        let s = try sync(w, refusing)
        // b@x.test's identify, relationship and event are refused; everything else is sent.
        #expect(s.failed == 3 && s.sent == 7)
        #expect(try w.strings("SELECT run_id, sent, failed, requests FROM _nexus_customerio_runs") == [["test", "7", "3", String(s.requests)]])
        let failed = try w.strings("SELECT output, status, http_code FROM _nexus_customerio_log WHERE status = 'failed' ORDER BY output")
        #expect(failed == [["customer_io_persons", "failed", "400"], ["events", "failed", "400"], ["rels", "failed", "400"]])
        let fine = try FakeCustomerIO()
        let retry = try sync(w, fine)
        #expect(retry.sent == 3 && retry.unchanged == 7)
    }

    @Test func serverErrorsAndDroppedConnectionsAreRetried() throws {
        let (_, w) = try project()
        let flaky = try FakeCustomerIO(["--drop-first", "1", "--fail-first", "2", "--fail-status", "503"])
        let s = try sync(w, flaky)
        #expect(s.sent == 10 && s.failed == 0)
        let throttled = try FakeCustomerIO(["--fail-first", "1", "--fail-status", "429", "--retry-after", "0"])
        #expect(try sync(w, throttled, full: true).sent == 10)
    }

    /// A request that times out is sent again with the same messageIds: the server may have
    /// taken it (as here), and Customer.io recognises the repeat by its messageIds.
    @Test func aTimedOutRequestIsRetriedWithTheSameMessageIDs() throws {
        let (_, w) = try project()
        let slow = try FakeCustomerIO(["--slow-first", "1", "--slow-seconds", "2.5"])
        let s = try sync(w, slow)  // the client gives up on a request after 1 s
        #expect(s.sent == 10 && s.failed == 0)
        var ids: [String] = []
        for _ in 0..<100 {  // the late request is logged when the stand-in finally answers it
            ids = try slow.received().calls.compactMap { $0["messageId"] as? String }
            if ids.count > 10 { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        // The first request was accepted late, after the client had given up and resent it.
        #expect(ids.count > Set(ids).count && Set(ids).count == 10)
        #expect(try w.count("SELECT count(*) FROM _nexus_customerio_state") == 10)
    }

    @Test func aHardFailureStopsLaterStagesAndKeepsWhatWasAcknowledged() throws {
        let (_, w) = try project()
        let down = try FakeCustomerIO(["--fail-first", "1000"])
        let e = #expect(throws: NexusError.self) { _ = try sync(w, down) }
        #expect(e?.message.contains("customer_io_persons") == true && e?.message.contains("later outputs were not synced") == true)
        #expect(try w.count("SELECT count(*) FROM _nexus_customerio_state") == 0)
        #expect(try w.strings("SELECT stopped_at FROM _nexus_customerio_runs") == [["customer_io_persons"]])
        let bad = try FakeCustomerIO()
        let e2 = #expect(throws: NexusError.self) { _ = try sync(w, bad, key: "wrong") }
        #expect(e2?.message.contains("refused the credentials (HTTP 401)") == true)
        #expect(try !String(contentsOfFile: w.path, encoding: .isoLatin1).contains("wrong"))
    }

    @Test func planningChangesNothingAndOversizedRowsAreRejectedLocally() throws {
        let (f, _) = try project()
        f.trait("big", ("email", "a@x.test"), "notes", String(repeating: "x", count: 40_000), day: 9)
        let w = try f.run()
        let plan = try SyncPlanner(warehouse: w).plan(outputs: outputs, full: false, mode: .upsert)
        let persons = try #require(plan.outputs.first)
        #expect(persons.count(.rejected) == 1)
        #expect(persons.samples.first { $0.operation == .rejected }?.error?.contains("Customer.io takes at most 32768") == true)
        // Not even the sync tables are created: the warehouse file is as the build left it.
        #expect(try w.relationKind("_nexus_customerio_state") == nil && w.relationKind("_nexus_customerio_log") == nil)
    }

    @Test func mirrorDeletesRelationshipsThatLeftTheOutput() throws {
        let (f, w) = try project()
        let server = try FakeCustomerIO()
        _ = try sync(w, server)
        f.declarations.removeAll { $0[0] == "d2" } // a@x.test is no longer a member of L2
        let w2 = try f.run()
        let s = try sync(w2, server, mode: .mirror)
        #expect(s.deleted == 1)
        let deletion = try #require(try server.received().calls.first { $0["event"] as? String == "Relationship Deleted" })
        #expect(deletion["userId"] as? String == "a@x.test")
        #expect((deletion["properties"] as? [String: Any])?["objectId"] as? String == "L2")
        #expect((deletion["properties"] as? [String: Any])?["objectTypeId"] as? Int == 2)
        #expect(try w2.count("SELECT count(*) FROM _nexus_customerio_state WHERE output = 'rels'") == 2)
    }

    @Test func regionsAndEndpoint() throws {
        var c = try ProjectConfig.parse("name: x\ncustomerio: {region: eu}\n", file: "nexus.yml").customerIO
        #expect(c.baseURL == "https://cdp-eu.customer.io")
        c = try ProjectConfig.parse("name: x\n", file: "nexus.yml").customerIO
        #expect(c.baseURL == "https://cdp.customer.io" && c.apiKeyEnv == "CUSTOMERIO_API_KEY")
        c = try ProjectConfig.parse("name: x\ncustomerio: {endpoint: 'http://127.0.0.1:9/'}\n", file: "nexus.yml").customerIO
        #expect(c.baseURL == "http://127.0.0.1:9")
        #expect(throws: NexusError.self) { _ = try ProjectConfig.parse("name: x\ncustomerio: {api_key_env: 'sk_live_123'}\n", file: "nexus.yml") }
    }

    @Test func batchesStayUnderTheRequestLimitAndTheRateIsHeld() throws {
        let (f, _) = try project()
        // 60 persons with 12 KB of traits each: about 720 KB of calls, so at least two requests.
        for i in 0..<60 {
            f.event("p\(i)", day: 3, [("email", "p\(i)@x.test")])
            f.trait("pt\(i)", ("email", "p\(i)@x.test"), "email", "p\(i)@x.test", day: 3)
            f.trait("pb\(i)", ("email", "p\(i)@x.test"), "bio", String(repeating: "b", count: 12_000), day: 3)
        }
        let w = try f.run()
        let server = try FakeCustomerIO()
        let planner = SyncPlanner(warehouse: w)
        var settings = SyncSender.Settings(baseURL: server.url, apiKey: FakeCustomerIO.key, requestsPerSecond: 4)
        settings.timeout = 3
        let started = Date()
        let s = try SyncSender(settings: settings, warehouse: w, runID: "t").send(try planner.outputs(["customer_io_persons"]), planner: planner, full: false, mode: .upsert)
        let elapsed = Date().timeIntervalSince(started)
        let requests = try server.received().requests
        #expect(s.sent == 62 && requests.count >= 2)
        #expect(requests.allSatisfy { ($0["_bytes"] as? Int ?? .max) <= 500 * 1024 })
        // At 4 requests per second, n requests take at least (n - 1) / 4 seconds.
        #expect(elapsed >= Double(requests.count - 1) / 4 - 0.01)
    }
}
