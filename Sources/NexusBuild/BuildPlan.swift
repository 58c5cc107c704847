import NexusCore
import NexusProject

/// One thing a run builds.
public enum BuildNode: Hashable, Sendable, CustomStringConvertible {
    case seed(String)
    case model(String)
    /// Every table nexus builds itself, as one step.
    case nexus

    public var description: String {
        switch self {
        case .seed(let s): return "seed \(s)"
        case .model(let m): return "model \(m)"
        case .nexus: return "nexus tables"
        }
    }
}

/// The order a project is built in: seeds, models and the nexus step as one dependency graph.
public struct BuildPlan: Sendable {
    public var order: [BuildNode]
    public var dependencies: [BuildNode: [BuildNode]]

    /// Orders the project's nodes so each comes after everything it refers to.
    ///
    /// Ties are broken by kind (seeds, then models, then the nexus step) and name, so the
    /// order is the same on every run. A cycle is an error naming the models in it.
    public static func make(_ project: Project) throws -> BuildPlan {
        let nexusNames = Set(project.nexusRelations)
        var nodeOf: [String: BuildNode] = [:]
        for s in project.seeds { nodeOf[s.name] = .seed(s.name) }
        for m in project.models { nodeOf[m.name] = .model(m.name) }
        var deps: [BuildNode: [BuildNode]] = [:]
        for s in project.seeds { deps[.seed(s.name)] = [] }
        for m in project.models {
            var d: [BuildNode] = []
            for r in m.refs {
                let n: BuildNode = nexusNames.contains(r) ? .nexus : nodeOf[r]!
                if !d.contains(n) { d.append(n) }
            }
            deps[.model(m.name)] = d
        }
        var nexusDeps: [BuildNode] = []
        for src in project.config.sources where src.enabled {
            var rels: [String] = []
            if src.events { rels.append(src.eventsRelation) }
            if src.entities != nil { rels += [src.identifiersRelation, src.traitsRelation] }
            if src.relationships { rels.append(src.relationshipsRelation) }
            for r in rels {
                guard let n = nodeOf[r] else {
                    throw NexusError("contract", "source '\(src.name)' needs a model or seed named \(r), but the project has none (add models/\(r).sql or seeds/\(r).csv, or switch that part off in nexus.yml)",
                                     at: SourceLocation(file: "nexus.yml"))
                }
                if !nexusDeps.contains(n) { nexusDeps.append(n) }
            }
        }
        deps[.nexus] = nexusDeps

        func rank(_ n: BuildNode) -> (Int, String) {
            switch n {
            case .seed(let s): return (0, s)
            case .model(let m): return (1, m)
            case .nexus: return (2, "")
            }
        }
        var indegree: [BuildNode: Int] = [:]
        var dependents: [BuildNode: [BuildNode]] = [:]
        for (n, ds) in deps {
            indegree[n] = ds.count
            for d in ds { dependents[d, default: []].append(n) }
        }
        var ready = deps.keys.filter { indegree[$0] == 0 }
        var order: [BuildNode] = []
        while !ready.isEmpty {
            ready.sort { rank($0) < rank($1) }
            let n = ready.removeFirst()
            order.append(n)
            for d in dependents[n] ?? [] {
                indegree[d]! -= 1
                if indegree[d] == 0 { ready.append(d) }
            }
        }
        if order.count < deps.count {
            let stuck = deps.keys.filter { !order.contains($0) }.sorted { rank($0) < rank($1) }
            let cycle = findCycle(stuck, deps)
            throw NexusError("project", "models depend on each other in a cycle: \(cycle.map(\.description).joined(separator: " → "))")
        }
        return BuildPlan(order: order, dependencies: deps)
    }

    static func findCycle(_ stuck: [BuildNode], _ deps: [BuildNode: [BuildNode]]) -> [BuildNode] {
        guard let start = stuck.first else { return [] }
        var path: [BuildNode] = [start]
        var seen: Set<BuildNode> = [start]
        var current = start
        while true {
            guard let next = deps[current]?.first(where: { stuck.contains($0) }) else { return path }
            if let i = path.firstIndex(of: next) { return Array(path[i...]) + [next] }
            if seen.contains(next) { return path }
            path.append(next); seen.insert(next); current = next
        }
    }
}
