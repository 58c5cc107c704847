import NexusCore

/// The evaluated arguments of one call, with helpers to bind them to named parameters.
public struct CallArguments {
    public let call: TemplateCall
    public let args: [TemplateValue]
    public let kwargs: [(String, TemplateValue)]

    public init(call: TemplateCall, args: [TemplateValue], kwargs: [(String, TemplateValue)]) {
        self.call = call; self.args = args; self.kwargs = kwargs
    }

    public var location: SourceLocation { call.location }

    public func error(_ message: String) -> NexusError {
        NexusError("template", "\(call.name): \(message)", at: call.location)
    }

    /// Binds positional and keyword arguments to `parameters` (name, default; nil default = required).
    public func bind(_ parameters: [(String, TemplateValue?)]) throws -> [String: TemplateValue] {
        var out: [String: TemplateValue] = [:]
        guard args.count <= parameters.count else {
            throw error("takes at most \(parameters.count) arguments, got \(args.count)")
        }
        for (k, v) in args.enumerated() { out[parameters[k].0] = v }
        for (name, v) in kwargs {
            guard parameters.contains(where: { $0.0 == name }) else {
                throw error("unknown argument '\(name)'; it takes: \(parameters.map { $0.0 }.joined(separator: ", "))")
            }
            if out[name] != nil { throw error("argument '\(name)' given twice") }
            out[name] = v
        }
        for (name, def) in parameters where out[name] == nil {
            guard let def else { throw error("missing required argument '\(name)'") }
            out[name] = def
        }
        return out
    }
}

/// A function callable from templates; returns the value rendered in place of the call.
public typealias TemplateFunction = (CallArguments) throws -> TemplateValue

/// Renders a parsed template with a set of functions and variables.
public struct TemplateRenderer {
    public var functions: [String: TemplateFunction]

    public init(functions: [String: TemplateFunction]) { self.functions = functions }

    public func render(_ template: Template) throws -> String {
        var out = ""
        for segment in template.segments {
            switch segment {
            case .text(let t): out += t
            case .expression(let e, _): out += try evaluate(e).description
            }
        }
        return out
    }

    public func evaluate(_ e: TemplateExpr) throws -> TemplateValue {
        switch e {
        case .literal(let v): return v
        case .list(let l): return .list(try l.map(evaluate))
        case .dict(let d):
            var out: [String: TemplateValue] = [:]
            for (k, v) in d { out[k] = try evaluate(v) }
            return .dict(out)
        case .name(let parts):
            throw NexusError("template", "unknown name '\(parts.joined(separator: "."))'")
        case .call(let c):
            guard let f = functions[c.name] else {
                throw NexusError("template", "unknown function or macro '\(c.name)' (known: \(functions.keys.sorted().joined(separator: ", ")))", at: c.location)
            }
            let args = try c.args.map(evaluate)
            let kwargs = try c.kwargs.map { ($0.0, try evaluate($0.1)) }
            return try f(CallArguments(call: c, args: args, kwargs: kwargs))
        }
    }
}
