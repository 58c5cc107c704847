import Foundation
import NexusCore
import NexusScaffold
import Testing

/// JSON string literals: the run-appending escape equals a byte-by-byte reading of RFC 8259.
struct JSONTextTests {
    static func reference(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [34]
        for c in bytes {
            switch c {
            case 34: out += [92, 34]
            case 92: out += [92, 92]
            case 10: out += [92, 110]
            case 13: out += [92, 114]
            case 9: out += [92, 116]
            case 0..<32: out += Array(String(format: "\\u%04x", Int(c)).utf8)
            default: out.append(c)
            }
        }
        return out + [34]
    }

    @Test func escapesLikeTheReference() {
        var rng = SeededRandom(seed: 7)
        let alphabet: [UInt8] = [0, 1, 9, 10, 13, 31, 32, 34, 47, 65, 92, 122, 127, 0xC3, 0xA9]
        for n in 0..<400 {
            let bytes = (0..<(n % 23)).map { _ in alphabet[rng.int(alphabet.count)] }
            var out: [UInt8] = [7]
            bytes.withUnsafeBytes { JSONText.appendString(&out, $0) }
            #expect(Array(out.dropFirst()) == JSONTextTests.reference(bytes), "\(bytes)")
        }
        #expect(JSONText.string("he said \"hi\"\n") == #""he said \"hi\"\n""#)
    }
}
