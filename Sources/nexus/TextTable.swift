/// Renders rows as an aligned text table for the terminal.
enum TextTable {
    static func render(header: [String], rows: [[String]], rightAligned: Set<Int> = [], maxWidth: Int = 40) -> String {
        func clip(_ s: String) -> String {
            let flat = s.replacingOccurrences(of: "\n", with: " ")
            return flat.count > maxWidth ? String(flat.prefix(maxWidth - 1)) + "…" : flat
        }
        let h = header.map(clip)
        let r = rows.map { $0.map(clip) }
        var widths = h.map(\.count)
        for row in r { for (i, c) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in
                rightAligned.contains(i) ? c.leftPadded(widths[i]) : c.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }.joined(separator: " | ")
        }
        var out = [line(h), widths.map { String(repeating: "-", count: $0) }.joined(separator: "-+-")]
        out += r.map(line)
        return out.joined(separator: "\n")
    }

    static func group(_ n: Int) -> String {
        let s = String(n)
        var out = ""
        for (i, c) in s.reversed().enumerated() {
            if i > 0 && i % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return String(out.reversed())
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
