/// JSON string literals, escaped as the JSON standard requires.
public enum JSONText {
    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    /// Appends the JSON string literal for UTF-8 bytes. Runs of bytes that need no escape
    /// (nearly all of them) are appended whole rather than byte by byte.
    public static func appendString(_ out: inout [UInt8], _ s: UnsafeRawBufferPointer) {
        out.reserveCapacity(out.count + s.count + 2)
        out.append(34)
        var run = 0
        for k in 0..<s.count {
            let c = s[k]
            guard c == 34 || c == 92 || c < 32 else { continue }
            if run < k { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: s[run..<k])) }
            run = k + 1
            switch c {
            case 34: out.append(92); out.append(34)
            case 92: out.append(92); out.append(92)
            case 10: out.append(92); out.append(110)
            case 13: out.append(92); out.append(114)
            case 9: out.append(92); out.append(116)
            default: out.append(contentsOf: [92, 117, 48, 48, hex[Int(c >> 4)], hex[Int(c & 15)]])
            }
        }
        if run < s.count { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: s[run..<s.count])) }
        out.append(34)
    }

    /// The JSON string literal for a string.
    public static func string(_ s: String) -> String {
        var s = s
        var out: [UInt8] = []
        s.withUTF8 { appendString(&out, UnsafeRawBufferPointer($0)) }
        return String(decoding: out, as: UTF8.self)
    }
}
