import Foundation
import Testing
import NexusTesting

/// Merges that reach Customer.io: with `incremental: true`, when nexus finds that two synced
/// people are one, `nexus sync customerio` merges their profiles through the Track API
/// (checked by the stand-in: credentials, body, both people exist) before it sends the
/// survivor's new attributes, once.
struct MergeSyncTests {
    let cli = CLITests()

    /// A project with one source of seeds and a persons output, rows added batch by batch.
    final class Project {
        let dir: String
        var identifiers: [String] = []
        var traits: [String] = []
        var events: [String] = []
        init(dir: String, server: FakeCustomerIO) throws {
            self.dir = dir
            try FileManager.default.createDirectory(atPath: dir + "/seeds", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: dir + "/models", withIntermediateDirectories: true)
            try """
                name: merges
                incremental: true
                sources:
                  s: {enabled: true, events: true, entities: true, relationships: false}
                customerio:
                  endpoint: \(server.url)
                  track_endpoint: \(server.url)
                  requests_per_second: 100

                """.write(toFile: dir + "/nexus.yml", atomically: true, encoding: .utf8)
            try """
                {{ config(materialized='view') }}
                {{ nexus.customer_io_identify(entity_type='person', user_id_column='email', dedupe_column='email') }}
                """.write(toFile: dir + "/models/cio_persons.sql", atomically: true, encoding: .utf8)
        }

        /// An event on `day` tying the emails (and phones) given; each email also observed as
        /// the person's email trait that day.
        func event(_ id: String, day: Int, _ pairs: [(String, String)]) {
            let at = String(format: "2025-01-%02d 00:00:00", day)
            events.append("\(id),\(at),signup,t,s,\(at)")
            for (k, (t, v)) in pairs.enumerated() {
                identifiers.append("\(id)-\(k),\(id),\(id),person,\(t),\(v),r,s,\(at),\(at)")
                if t == "email" { traits.append("\(id)-t\(k),\(id),person,\(t),\(v),email,\(v),s,\(at),\(at)") }
            }
        }

        func write() throws {
            try (["event_id,occurred_at,event_name,event_type,source,_ingested_at"] + events).joined(separator: "\n")
                .write(toFile: dir + "/seeds/s_events.csv", atomically: true, encoding: .utf8)
            try (["entity_identifier_id,event_id,edge_id,entity_type,identifier_type,identifier_value,role,source,occurred_at,_ingested_at"] + identifiers)
                .joined(separator: "\n").write(toFile: dir + "/seeds/s_entity_identifiers.csv", atomically: true, encoding: .utf8)
            try (["entity_trait_id,event_id,entity_type,identifier_type,identifier_value,trait_name,trait_value,source,occurred_at,_ingested_at"] + traits)
                .joined(separator: "\n").write(toFile: dir + "/seeds/s_entity_traits.csv", atomically: true, encoding: .utf8)
        }
    }

    var env: [String: String] {
        ["CUSTOMERIO_API_KEY": FakeCustomerIO.key, "CUSTOMERIO_SITE_ID": FakeCustomerIO.siteID, "CUSTOMERIO_TRACK_API_KEY": FakeCustomerIO.trackKey]
    }

    func merges(_ server: FakeCustomerIO) throws -> [String] {
        try server.received().calls.filter { $0["type"] as? String == "merge" }.map {
            "\(($0["secondary"] as? [String: String])?["id"] ?? "?") → \(($0["primary"] as? [String: String])?["id"] ?? "?")"
        }
    }

    @Test func aMergeOfTwoSyncedPeopleReachesCustomerIOOnceAndFirst() throws {
        let server = try FakeCustomerIO()
        let p = try Project(dir: try cli.tempDir(), server: server)
        defer { try? FileManager.default.removeItem(atPath: p.dir) }
        p.event("e1", day: 1, [("email", "b@x.test")])
        p.event("e2", day: 1, [("email", "c@x.test"), ("phone", "0")])
        try p.write()
        #expect(try cli.nexus(["run", "--project", p.dir]).status == 0)
        let first = try cli.nexus(["sync", "customerio", "--project", p.dir], env: env)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(try server.received().calls.count == 2 && merges(server).isEmpty)

        // b and c meet; c's email is the later observation, so the merged person is sent as c.
        p.event("e3", day: 2, [("email", "b@x.test"), ("email", "c@x.test")])
        p.traits.append("e3-late,e3,person,email,c@x.test,email,c@x.test,s,2025-01-03 00:00:00,2025-01-02 00:00:00")
        try p.write()
        #expect(try cli.nexus(["run", "--project", p.dir]).status == 0)
        // Without the Track API's credentials: nothing is sent, and the variables are named.
        let bare = try cli.nexus(["sync", "customerio", "--project", p.dir], env: ["CUSTOMERIO_API_KEY": FakeCustomerIO.key, "CUSTOMERIO_SITE_ID": "", "CUSTOMERIO_TRACK_API_KEY": ""])
        #expect(bare.status == 1 && bare.stderr.contains("export CUSTOMERIO_SITE_ID=… and CUSTOMERIO_TRACK_API_KEY=…"), "\(bare.stderr)")
        #expect(try server.received().calls.count == 2)
        let dry = try cli.nexus(["sync", "customerio", "--project", p.dir, "--dry-run"], env: env)
        #expect(dry.stdout.contains("merge (Track API): b@x.test → c@x.test"), "\(dry.stdout)")

        let second = try cli.nexus(["sync", "customerio", "--project", p.dir], env: env)
        #expect(second.status == 0 && second.stdout.contains("merged 1"), "\(second.stdout) \(second.stderr)")
        let calls = try server.received().calls
        #expect(try merges(server) == ["b@x.test → c@x.test"])
        // The merge went before the survivor's new attributes.
        let mergeAt = calls.firstIndex { $0["type"] as? String == "merge" }!
        let after = calls[(mergeAt + 1)...].filter { $0["type"] as? String == "identify" }.compactMap { $0["userId"] as? String }
        #expect(after == ["c@x.test"], "\(after)")

        // Never twice: a third sync sends no merge (and no call at all).
        let third = try cli.nexus(["sync", "customerio", "--project", p.dir], env: env)
        let callsNow = try server.received().calls.count
        #expect(third.status == 0 && callsNow == calls.count, "\(third.stdout)")

        // A person never synced who joins c needs no merge.
        p.event("e4", day: 4, [("email", "d@x.test")])
        try p.write()
        #expect(try cli.nexus(["run", "--project", p.dir]).status == 0)
        p.event("e5", day: 5, [("email", "d@x.test"), ("phone", "0")])
        try p.write()
        #expect(try cli.nexus(["run", "--project", p.dir]).status == 0)
        let fourth = try cli.nexus(["sync", "customerio", "--project", p.dir], env: env)
        let mergesNow = try merges(server)
        #expect(fourth.status == 0 && mergesNow == ["b@x.test → c@x.test"], "\(fourth.stdout)")
    }

    @Test func theTrackAPIRefusingTheKeyStopsTheSync() throws {
        let server = try FakeCustomerIO()
        let p = try Project(dir: try cli.tempDir(), server: server)
        defer { try? FileManager.default.removeItem(atPath: p.dir) }
        p.event("e1", day: 1, [("email", "b@x.test")])
        p.event("e2", day: 1, [("email", "c@x.test")])
        try p.write()
        #expect(try cli.nexus(["run", "--project", p.dir]).status == 0)
        #expect(try cli.nexus(["sync", "customerio", "--project", p.dir], env: env).status == 0)
        p.event("e3", day: 2, [("email", "b@x.test"), ("email", "c@x.test")])
        try p.write()
        #expect(try cli.nexus(["run", "--project", p.dir]).status == 0)
        var wrong = env
        wrong["CUSTOMERIO_TRACK_API_KEY"] = "not-the-key"
        let refused = try cli.nexus(["sync", "customerio", "--project", p.dir], env: wrong)
        #expect(refused.status == 1 && refused.stderr.contains("Track API refused the site id and key (HTTP 401)"), "\(refused.stderr)")
        #expect(!refused.stderr.contains("not-the-key"), "the key is never printed")
        #expect(try merges(server).isEmpty && server.received().calls.count == 2, "nothing else was sent")
        // With the right key the merge goes through.
        #expect(try cli.nexus(["sync", "customerio", "--project", p.dir], env: env).status == 0)
        #expect(try merges(server).count == 1)
    }
}
