import Foundation
import NexusCore
import NexusEngine
import NexusProject
import NexusSQL
import NexusWarehouse

/// One finished step of a run.

// Seeds: which to load (file state), loading them, and the engine reading them as they load.
extension Runner {
    struct FileState: Equatable {
        var size: Int64
        var mtime: Double
        var hash: String
        var types: String
    }

    /// What a run does with one seed.
    enum SeedPlan {
        /// Kept as it is: the result to return, the state to record (a touched file), the note.
        case keep(String, FileState?, String)
        /// Loaded from its file.
        case load(FileState)
    }


    /// Whether a seed's file changed since it was last loaded.
    func planSeed(_ seed: Seed) throws -> SeedPlan {
        let attrs = try FileManager.default.attributesOfItem(atPath: seed.absolutePath)
        let size = (attrs[.size] as? NSNumber)?.int64Value ?? 0
        let mtime = (attrs[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        let types = seed.config.columnTypes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.rawValue)" }.joined(separator: ",")
        let previous = try warehouse.query("SELECT size, mtime, hash, types FROM \(id: Runner.seedStateTable) WHERE name = \(seed.name)" as SQL).rows.first
        let exists = try warehouse.relationKind(seed.name) == .table
        var state = FileState(size: size, mtime: mtime, hash: "", types: types)
        if loadsEverySeed { return .load(state) }
        if let p = previous, exists, p[3].string ?? "" == types {
            let old = FileState(size: { if case .integer(let v) = p[0] { return v } else { return -1 } }(),
                                mtime: { if case .real(let v) = p[1] { return v } else if case .integer(let v) = p[1] { return Double(v) } else { return -1 } }(),
                                hash: p[2].string ?? "", types: types)
            if old.size == size && old.mtime == mtime {
                return .keep(old.hash + "|" + types, nil, "unchanged")
            }
            state.hash = try FileHash.hash(path: seed.absolutePath)
            if old.size == size && old.hash == state.hash {
                return .keep(state.hash + "|" + types, state, "unchanged content")  // touched: record the new mtime
            }
        }
        return .load(state)
    }

    /// Loads a seed when its file changed; returns the content hash it is loaded from.
    func buildSeed(_ seed: Seed) throws -> String {
        let t0 = now()
        switch try seedPlans.removeValue(forKey: seed.name) ?? planSeed(seed) {
        case .keep(let result, let state, let note):
            if let state { seedStates.append((seed, state)) }
            record(StepResult(kind: "seed", name: seed.name, rows: nil, seconds: now() - t0, note: note))
            return result
        case .load(let state):
            return try loadSeed(seed, state, since: t0)
        }
    }

    func loadSeed(_ seed: Seed, _ planned: FileState, since t0: Double, tee: SeedTee? = nil, note: String? = nil) throws -> String {
        var state = planned
        // The load is bound by SQLite's thread and leaves part of a core idle: hash meanwhile.
        let hashing = state.hash.isEmpty ? FileHash.Job(path: seed.absolutePath) : nil
        let r: SeedLoader.Result
        do {
            r = try SeedLoader.load(file: seed.absolutePath, displayPath: seed.file, table: stage(seed.name),
                                    warehouse: warehouse, overrides: seed.config.columnTypes, tee: tee)
        } catch {
            _ = try? hashing?.wait()
            throw error
        }
        if let hashing { state.hash = try hashing.wait() }
        markStaged(seed.name)
        seedStates.append((seed, state))
        record(StepResult(kind: "seed", name: seed.name, rows: r.rows, seconds: now() - t0, note: note))
        return state.hash + "|" + state.types
    }

    // MARK: engine reading seeds as they load

    /// The engine's reads taken from the seed loader: when the events, identifiers and traits
    /// each come from one seed that this run loads, the engine reads their rows as they are
    /// bound instead of reading them back from SQLite afterwards (at 1,000,000 persons that
    /// is 34M rows not decoded again). What it read is used only if the core views turn out
    /// to be plain projections of those seeds; otherwise it reads them as usual.
    final class SeedFeed {
        /// A fed seed: its file state to load from, and the entity types its source keeps.
        typealias Entry = (seed: Seed, state: FileState, entityTypes: [String]?)
        let seeds: [SourceContract.Kind: Entry]
        var results: [String: String] = [:]
        var usable = true
        var replay: [(EngineContext) -> Void] = []
        init(seeds: [SourceContract.Kind: Entry]) { self.seeds = seeds }
        func contains(_ name: String) -> Bool { seeds.values.contains { $0.seed.name == name } }
    }

    /// A feed when this run can use one.
    func planFeed() throws -> SeedFeed? {
        guard engine is NativeEngine else { return nil }
        var seeds: [SourceContract.Kind: SeedFeed.Entry] = [:]
        for (kind, _) in NativeEngine.reads {
            let ins = sourceInputs(kind)
            guard ins.count == 1, !project.models.contains(where: { $0.name == ins[0].relation }),
                  let seed = project.seeds.first(where: { $0.name == ins[0].relation }) else { return nil }
            let plan = try planSeed(seed)
            seedPlans[seed.name] = plan  // kept for buildSeed: planning may have hashed the file
            guard case .load(let state) = plan else { return nil }
            seeds[kind] = (seed, state, ins[0].entityTypes)
        }
        return SeedFeed(seeds: seeds)
    }

    /// Loads the feed's three seeds, handing their rows to the engine as they load.
    func loadFeed(_ feed: SeedFeed) throws {
        guard let native = engine as? NativeEngine else { return }
        var replay: [(EngineContext) -> Void] = []
        var ctx = EngineContext(entityTypes: project.config.entityTypes, processedAt: processedAt, physicalName: { $0 },
                                progress: { step, rows, secs in replay.append { $0.progress(step, rows, secs) } },
                                warn: { message in replay.append { $0.warn(message) } })
        ctx.relationRows = { name, rows in replay.append { $0.relationRows(name, rows) } }
        ctx.check = { name, rows, note in replay.append { $0.check(name, rows, note) } }
        ctx.edgeQuality = project.config.edgeQuality
        ctx.incremental = try incrementalResolution()
        func source(_ kind: SourceContract.Kind) -> NativeEngine.RowSource {
            { [unowned self] body in
                let (seed, state, types) = feed.seeds[kind]!
                try withoutActuallyEscaping(body) { body in
                    let tee = SeedTee(columns: NativeEngine.columns(reading: kind), keeping: kind == .events ? nil : types, body: body)
                    feed.results[seed.name] = try loadSeed(seed, state, since: now(), tee: tee, note: "rows read by the engine as they loaded")
                    if tee.broken { feed.usable = false }
                }
            }
        }
        do {
            try native.prefetch(ctx, rows: source)
            feed.replay = replay
        } catch {
            // A seed that failed to load fails again, with the same error, when it is loaded
            // the usual way; the engine's own errors come when it reads the core views.
            native.discardPrefetch()
            feed.usable = false
        }
    }
}
