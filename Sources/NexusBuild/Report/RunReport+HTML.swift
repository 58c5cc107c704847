import Foundation

/// The report as one self-contained page: inline CSS and SVG, no scripts, nothing fetched.
/// The markup is well-formed XML (every element closed, only XML's own entities), so any
/// XML parser reads it, and the tests do.
extension RunReport {
    static func escaped(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    static func number(_ n: Int) -> String {
        let s = String(n.magnitude)
        var out = ""
        for (i, c) in s.enumerated() {
            if i > 0 && (s.count - i) % 3 == 0 { out += "," }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }

    static func seconds(_ s: Double) -> String { String(format: "%.2f s", s) }

    static func table(_ header: [String], _ rows: [[String]], numeric: Set<Int> = []) -> String {
        var out = "<table><thead><tr>" + header.map { "<th>\(escaped($0))</th>" }.joined() + "</tr></thead><tbody>"
        for r in rows {
            out += "<tr>" + r.enumerated().map { i, v in "<td\(numeric.contains(i) ? " class=\"n\"" : "")>\(escaped(v))</td>" }.joined() + "</tr>"
        }
        return out + "</tbody></table>\n"
    }

    /// A horizontal bar chart: one bar per bucket, length on a log scale (one entity to
    /// millions on one page), the count written beside it.
    static func histogram(_ buckets: [Bucket], title: String) -> String {
        let rowHeight = 22, labelWidth = 90, barWidth = 420
        let top = Double(buckets.map(\.entities).max() ?? 0)
        let height = rowHeight * buckets.count + 10
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(labelWidth + barWidth + 110)\" height=\"\(height)\" role=\"img\" aria-label=\"\(escaped(title))\">"
        for (i, b) in buckets.enumerated() {
            let y = i * rowHeight + 5
            let w = b.entities == 0 || top <= 0 ? 0 : max(2, Int((log10(Double(b.entities) + 1) / log10(top + 1) * Double(barWidth)).rounded()))
            out += "<text x=\"\(labelWidth - 8)\" y=\"\(y + 15)\" text-anchor=\"end\">\(escaped(b.label))</text>"
            out += "<rect x=\"\(labelWidth)\" y=\"\(y + 2)\" width=\"\(w)\" height=\"\(rowHeight - 6)\" fill=\"#4a78b5\"/>"
            out += "<text x=\"\(labelWidth + w + 6)\" y=\"\(y + 15)\">\(number(b.entities))</text>"
        }
        return out + "</svg>\n"
    }

    static func anchor(_ id: String) -> String { "entity-" + id.map { $0.isLetter || $0.isNumber || $0 == "_" ? String($0) : "-" }.joined() }

    public func html() -> String {
        var body = "<h1>nexus report: \(RunReport.escaped(project))</h1>\n"
        body += "<p class=\"meta\">warehouse \(RunReport.escaped(location))"
        if let log {
            body += "; last build processed at \(RunReport.escaped(log.processedAt)), engine \(RunReport.escaped(log.engine)), \(RunReport.seconds(log.seconds)), \(log.warnings.count) warning(s)"
        }
        body += "</p>\n<nav><a href=\"#steps\">steps</a> <a href=\"#sizes\">entity sizes</a> <a href=\"#largest\">largest entities</a> <a href=\"#edge-quality\">edge quality</a> <a href=\"#traits\">trait coverage</a> <a href=\"#outputs\">Customer.io outputs</a> <a href=\"#syncs\">syncs</a></nav>\n"

        body += "<section id=\"steps\"><h2>The last build</h2>\n"
        if let log {
            if !log.warnings.isEmpty {
                body += "<ul class=\"warnings\">" + log.warnings.map { "<li>\(RunReport.escaped($0))</li>" }.joined() + "</ul>\n"
            }
            body += RunReport.table(["step", "name", "rows", "seconds", "note"], log.steps.map { s in
                [s.kind, s.name, s.rows.map(RunReport.number) ?? "", RunReport.seconds(s.seconds), s.note ?? ""]
            }, numeric: [2, 3])
            let relations = log.relationRows.sorted { Array($0.key.utf8).lexicographicallyPrecedes($1.key.utf8) }
            body += "<h3>nexus tables</h3>\n" + RunReport.table(["relation", "rows"], relations.map { [$0.key, RunReport.number($0.value)] }, numeric: [1])
        } else {
            body += "<p>No build log in this warehouse (built by an older nexus): run <code>nexus run --full</code> once.</p>\n"
        }
        body += "</section>\n"

        body += "<section id=\"sizes\"><h2>Entity sizes</h2><p>Entities by number of identifiers (bar length: log scale).</p>\n"
        for t in types {
            body += "<h3>\(RunReport.escaped(t.name)): \(RunReport.number(t.entities)) entities</h3>\n"
            body += "<figure>" + RunReport.histogram(t.buckets, title: "\(t.name) entities by identifiers") + "</figure>\n"
        }
        body += "</section>\n"

        body += "<section id=\"largest\"><h2>Largest entities</h2>\n"
        for t in types {
            body += "<h3>\(RunReport.escaped(t.name))</h3>\n"
            if t.largest.isEmpty { body += "<p>No \(RunReport.escaped(t.name)) entity has more than one identifier.</p>\n"; continue }
            body += "<table><thead><tr><th>entity</th><th>identifiers</th><th>emails</th><th>phones</th><th>events</th></tr></thead><tbody>"
            for e in t.largest {
                body += "<tr><td><a href=\"#\(RunReport.anchor(e.id))\">\(RunReport.escaped(e.id))</a></td><td class=\"n\">\(RunReport.number(e.identifiers))</td><td class=\"n\">\(RunReport.number(e.emails))</td><td class=\"n\">\(RunReport.number(e.phones))</td><td class=\"n\">\(RunReport.number(e.events))</td></tr>"
            }
            body += "</tbody></table>\n"
            for e in t.largest {
                body += "<figure id=\"\(RunReport.anchor(e.id))\"><figcaption>\(RunReport.escaped(t.name)) \(RunReport.escaped(e.id)): \(RunReport.number(e.identifiers)) identifiers (yellow: the identifier it is drawn around, the one with the most partners, else its smallest; red outline: a bridge, whose removal would split it)</figcaption>"
                if let svg = e.svg {
                    // Inline, without the XML prolog and doctype.
                    body += svg.range(of: "<svg").map { String(svg[$0.lowerBound...]) } ?? ""
                } else if let dot = e.dot {
                    body += "<p>Graphviz is not installed (Debian: apt-get install graphviz): the graph in its language.</p><pre>\(RunReport.escaped(dot))</pre>"
                } else if let why = e.noPicture {
                    body += "<p>\(RunReport.escaped(why))</p>"
                }
                body += "</figure>\n"
            }
        }
        body += "</section>\n"

        body += "<section id=\"edge-quality\"><h2>Edge quality</h2>\n"
        if edgeQualityCount == 0 {
            body += "<p>No identifier shares edge_ids with more distinct identifiers than the warning threshold.</p>\n"
        } else {
            body += "<p>\(RunReport.number(edgeQualityCount)) identifier(s) above the warning threshold: " + edgeQualityBySeverity.map { "\($0.identifiers) \($0.severity)" }.joined(separator: ", ") + (edgeQualityCount > edgeQuality.count ? "; the \(edgeQuality.count) with the most partners:" : ":") + "</p>\n"
            body += RunReport.table(["entity type", "identifier type", "identifier", "partners", "edge_ids", "connected types", "partners per source", "severity", "filtered"],
                                    edgeQuality.map { r in r.enumerated().map { i, v in i == 3 || i == 4 ? RunReport.number(Int(v) ?? 0) : i == 8 ? (v == "1" || v == "true" || v == "t" ? "yes" : "no") : v } },
                                    numeric: [3, 4])
        }
        body += "</section>\n"

        body += "<section id=\"traits\"><h2>Trait coverage</h2>\n"
        for t in types {
            body += "<h3>\(RunReport.escaped(t.name))</h3>\n"
            if t.traits.isEmpty { body += "<p>No traits.</p>\n"; continue }
            body += RunReport.table(["trait", "entities with it", "share"], t.traits.map { tr in
                [tr.name, RunReport.number(tr.covered), t.entities == 0 ? "" : String(format: "%.1f%%", Double(tr.covered) * 100 / Double(t.entities))]
            }, numeric: [1, 2])
        }
        body += "</section>\n"

        body += "<section id=\"outputs\"><h2>Customer.io outputs</h2>\n"
        body += outputs.isEmpty ? "<p>No model is shaped for Customer.io.</p>\n"
            : RunReport.table(["output", "sync type", "rows"], outputs.map { [$0.name, $0.shape, RunReport.number($0.rows)] }, numeric: [2])
        body += "</section>\n"

        body += "<section id=\"syncs\"><h2>Last syncs</h2>\n"
        body += syncs.isEmpty ? "<p>No sync recorded in this warehouse.</p>\n" : RunReport.table(syncColumns, syncs, numeric: Set(1..<syncColumns.count - 1))
        body += "</section>\n"

        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"/><title>nexus report: \(RunReport.escaped(project))</title>
            <style>
            body{font-family:Helvetica,Arial,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
            h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ccc;padding-bottom:.2em}
            nav a{margin-right:1em}.meta{color:#555}
            table{border-collapse:collapse;margin:.5em 0 1em;font-size:13px}
            th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}th{background:#f3f3f3}
            td.n{text-align:right;font-variant-numeric:tabular-nums}
            figure{margin:1em 0;overflow:auto;border:1px solid #eee;padding:.5em}figcaption{font-size:13px;color:#555;margin-bottom:.5em}
            figure>svg{max-width:100%;height:auto}svg text{font-size:12px}pre{background:#f6f6f6;padding:1em;overflow:auto;font-size:12px}
            ul.warnings li{color:#8a4b00}
            </style></head>
            <body>
            \(body)</body></html>

            """
    }
}
