import NexusCore

/// An expression inside `{{ … }}`.
public indirect enum TemplateExpr: Sendable {
    case literal(TemplateValue)
    case list([TemplateExpr])
    case dict([(String, TemplateExpr)])
    case name([String])
    case call(TemplateCall)
}

/// A function or macro call such as `ref('m')` or `nexus.create_nexus_id('event', ['id'])`.
public struct TemplateCall: Sendable {
    /// Dotted name, e.g. `["nexus", "create_nexus_id"]`.
    public var callee: [String]
    public var args: [TemplateExpr]
    public var kwargs: [(String, TemplateExpr)]
    public var location: SourceLocation
    public var name: String { callee.joined(separator: ".") }
}

/// A parsed template: text and expressions, in order.
public struct Template: Sendable {
    public enum Segment: Sendable {
        case text(String)
        case expression(TemplateExpr, SourceLocation)
    }
    public var segments: [Segment]
    public var file: String

    /// Every call in the template, in order of appearance.
    public var calls: [TemplateCall] {
        var out: [TemplateCall] = []
        func walk(_ e: TemplateExpr) {
            switch e {
            case .call(let c): out.append(c); c.args.forEach(walk); c.kwargs.forEach { walk($0.1) }
            case .list(let l): l.forEach(walk)
            case .dict(let d): d.forEach { walk($0.1) }
            default: break
            }
        }
        for s in segments { if case .expression(let e, _) = s { walk(e) } }
        return out
    }
}

/// Parses the Jinja subset nexus supports: `{{ expression }}` and `{# comment #}`.
///
/// Expressions are literals (strings, numbers, booleans, none, lists, dicts), dotted
/// names, and calls with positional and keyword arguments. `{% … %}` statements are
/// not supported and are reported with their position, as is anything malformed.
public struct TemplateParser {
    let text: [UInt8]
    let file: String
    var i = 0
    var lineStarts: [Int] = [0]

    public static func parse(_ source: String, file: String) throws -> Template {
        var p = TemplateParser(text: Array(source.utf8), file: file)
        for (k, c) in p.text.enumerated() where c == 10 { p.lineStarts.append(k + 1) }
        return try p.run()
    }

    func location(_ offset: Int) -> SourceLocation {
        var lo = 0, hi = lineStarts.count - 1
        while lo < hi { let mid = (lo + hi + 1) / 2; if lineStarts[mid] <= offset { lo = mid } else { hi = mid - 1 } }
        let col = String(decoding: text[lineStarts[lo]..<min(offset, text.count)], as: UTF8.self).count + 1
        return SourceLocation(file: file, line: lo + 1, column: col)
    }

    func fail(_ message: String, at offset: Int) -> NexusError {
        NexusError("template", message, at: location(offset))
    }

    func peek(_ s: String, at k: Int) -> Bool {
        let u = Array(s.utf8)
        guard k + u.count <= text.count else { return false }
        for j in 0..<u.count where text[k + j] != u[j] { return false }
        return true
    }

    mutating func run() throws -> Template {
        var segments: [Template.Segment] = []
        var textStart = 0
        func flush(_ upTo: Int) {
            if upTo > textStart { segments.append(.text(String(decoding: text[textStart..<upTo], as: UTF8.self))) }
        }
        while i < text.count {
            if text[i] == 123, i + 1 < text.count { // '{'
                let n = text[i + 1]
                if n == 123 { // {{
                    flush(i)
                    let open = i
                    i += 2
                    if i < text.count, text[i] == 45 { i += 1 } // whitespace-control '-'
                    skipSpace()
                    if peek("}}", at: i) || peek("-}}", at: i) { throw fail("empty expression", at: open) }
                    let expr = try parseExpression()
                    skipSpace()
                    if i < text.count, text[i] == 45 { i += 1 }
                    guard peek("}}", at: i) else {
                        if i >= text.count { throw fail("'{{' is never closed with '}}'", at: open) }
                        throw fail("expected '}}' but found '\(String(decoding: text[i..<min(i + 12, text.count)], as: UTF8.self))'", at: i)
                    }
                    i += 2
                    segments.append(.expression(expr, location(open)))
                    textStart = i
                    continue
                }
                if n == 35 { // {#
                    flush(i)
                    let open = i
                    var k = i + 2
                    while k + 1 < text.count, !(text[k] == 35 && text[k + 1] == 125) { k += 1 }
                    guard k + 1 < text.count else { throw fail("'{#' comment is never closed with '#}'", at: open) }
                    i = k + 2
                    textStart = i
                    continue
                }
                if n == 37 { // {%
                    var k = i + 2
                    while k < text.count, text[k] == 32 || text[k] == 45 { k += 1 }
                    var e = k
                    while e < text.count, isIdent(text[e]) { e += 1 }
                    let word = String(decoding: text[k..<e], as: UTF8.self)
                    throw fail("'{% \(word) %}' statements are not supported: nexus templates take only {{ expressions }} and {# comments #}", at: i)
                }
            }
            i += 1
        }
        flush(text.count)
        return Template(segments: segments, file: file)
    }

    func isIdent(_ c: UInt8) -> Bool { (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c == 95 }

    mutating func skipSpace() {
        while i < text.count, text[i] == 32 || text[i] == 9 || text[i] == 10 || text[i] == 13 { i += 1 }
    }

    mutating func expect(_ c: UInt8, _ what: String) throws {
        skipSpace()
        guard i < text.count, text[i] == c else { throw fail("expected \(what)", at: i) }
        i += 1
    }

    mutating func parseExpression() throws -> TemplateExpr {
        skipSpace()
        guard i < text.count else { throw fail("unexpected end of template in an expression", at: i) }
        let c = text[i]
        if c == 39 || c == 34 { return .literal(.string(try parseString())) }
        if (c >= 48 && c <= 57) || c == 45 { return .literal(try parseNumber()) }
        if c == 91 { // [
            i += 1
            var items: [TemplateExpr] = []
            skipSpace()
            if i < text.count, text[i] == 93 { i += 1; return .list(items) }
            while true {
                items.append(try parseExpression())
                skipSpace()
                guard i < text.count else { throw fail("unterminated list", at: i) }
                if text[i] == 44 { i += 1; skipSpace(); if i < text.count, text[i] == 93 { i += 1; return .list(items) }; continue }
                if text[i] == 93 { i += 1; return .list(items) }
                throw fail("expected ',' or ']' in a list", at: i)
            }
        }
        if c == 123 { // {
            i += 1
            var items: [(String, TemplateExpr)] = []
            skipSpace()
            if i < text.count, text[i] == 125 { i += 1; return .dict(items) }
            while true {
                skipSpace()
                let keyAt = i
                guard case .literal(.string(let key)) = try parseExpression() else { throw fail("dict keys must be strings", at: keyAt) }
                try expect(58, "':' after a dict key")
                items.append((key, try parseExpression()))
                skipSpace()
                guard i < text.count else { throw fail("unterminated dict", at: i) }
                if text[i] == 44 { i += 1; skipSpace(); if i < text.count, text[i] == 125 { i += 1; return .dict(items) }; continue }
                if text[i] == 125 { i += 1; return .dict(items) }
                throw fail("expected ',' or '}' in a dict", at: i)
            }
        }
        if isIdent(c) {
            let start = i
            var parts: [String] = [parseIdent()]
            while i < text.count, text[i] == 46 { i += 1; guard i < text.count, isIdent(text[i]) else { throw fail("expected a name after '.'", at: i) }; parts.append(parseIdent()) }
            let save = i
            skipSpace()
            if i < text.count, text[i] == 40 { // (
                i += 1
                var args: [TemplateExpr] = []
                var kwargs: [(String, TemplateExpr)] = []
                skipSpace()
                if i < text.count, text[i] == 41 { i += 1 } else {
                    while true {
                        skipSpace()
                        // keyword argument?
                        var k = i
                        while k < text.count, isIdent(text[k]) { k += 1 }
                        var k2 = k
                        while k2 < text.count, text[k2] == 32 { k2 += 1 }
                        if k > i, k2 < text.count, text[k2] == 61, !(k2 + 1 < text.count && text[k2 + 1] == 61) {
                            let name = String(decoding: text[i..<k], as: UTF8.self)
                            i = k2 + 1
                            if kwargs.contains(where: { $0.0 == name }) { throw fail("keyword argument '\(name)' given twice", at: i) }
                            kwargs.append((name, try parseExpression()))
                        } else {
                            if !kwargs.isEmpty { throw fail("positional argument after keyword arguments", at: i) }
                            args.append(try parseExpression())
                        }
                        skipSpace()
                        guard i < text.count else { throw fail("unterminated call to \(parts.joined(separator: "."))", at: start) }
                        if text[i] == 44 { i += 1; skipSpace(); if i < text.count, text[i] == 41 { i += 1; break }; continue }
                        if text[i] == 41 { i += 1; break }
                        throw fail("expected ',' or ')' in the arguments of \(parts.joined(separator: "."))", at: i)
                    }
                }
                return .call(TemplateCall(callee: parts, args: args, kwargs: kwargs, location: location(start)))
            }
            i = save
            if parts.count == 1 {
                switch parts[0] {
                case "true", "True": return .literal(.bool(true))
                case "false", "False": return .literal(.bool(false))
                case "none", "None": return .literal(.none)
                default: break
                }
            }
            return .name(parts)
        }
        throw fail("unexpected character '\(String(decoding: [c], as: UTF8.self))' in an expression", at: i)
    }

    mutating func parseIdent() -> String {
        let s = i
        while i < text.count, isIdent(text[i]) { i += 1 }
        return String(decoding: text[s..<i], as: UTF8.self)
    }

    mutating func parseString() throws -> String {
        let quote = text[i]
        let start = i
        i += 1
        var out: [UInt8] = []
        while i < text.count {
            let c = text[i]
            if c == quote { i += 1; return String(decoding: out, as: UTF8.self) }
            if c == 92, i + 1 < text.count { // backslash
                let n = text[i + 1]
                switch n {
                case 110: out.append(10)
                case 116: out.append(9)
                default: out.append(n)
                }
                i += 2
                continue
            }
            if c == 10 { break }
            out.append(c)
            i += 1
        }
        throw fail("unterminated string literal", at: start)
    }

    mutating func parseNumber() throws -> TemplateValue {
        let s = i
        if text[i] == 45 { i += 1 }
        while i < text.count, (text[i] >= 48 && text[i] <= 57) || text[i] == 46 { i += 1 }
        let str = String(decoding: text[s..<i], as: UTF8.self)
        if let v = Int(str) { return .integer(v) }
        if let v = Double(str) { return .double(v) }
        throw fail("malformed number '\(str)'", at: s)
    }
}
