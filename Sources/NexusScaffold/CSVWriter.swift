import Foundation

/// A buffered CSV writer (RFC 4180 quoting), fast enough for tens of millions of rows.
public final class CSVWriter {
    private let handle: UnsafeMutablePointer<FILE>
    private var buffer: [UInt8] = []
    private var first = true

    public init(path: String, header: [String]) throws {
        guard let h = fopen(path, "wb") else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
        handle = h
        buffer.reserveCapacity(1 << 20)
        row(header)
    }

    /// Writes one row; nil is an empty (NULL) field.
    public func row(_ fields: [String?]) {
        for (i, f) in fields.enumerated() {
            if i > 0 { buffer.append(44) }
            guard let f else { continue }
            if f.utf8.contains(where: { $0 == 44 || $0 == 34 || $0 == 10 || $0 == 13 }) || f.isEmpty {
                buffer.append(34)
                for b in f.utf8 { if b == 34 { buffer.append(34) }; buffer.append(b) }
                buffer.append(34)
            } else {
                buffer.append(contentsOf: f.utf8)
            }
        }
        buffer.append(10)
        if buffer.count > (1 << 20) { flush() }
    }

    private func flush() {
        buffer.withUnsafeBytes { _ = fwrite($0.baseAddress, 1, $0.count, handle) }
        buffer.removeAll(keepingCapacity: true)
    }

    public func close() {
        flush()
        fclose(handle)
    }
}

/// SplitMix64: a small, fast, seedable generator, so generated projects are identical on every machine.
public struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    public mutating func int(_ upper: Int) -> Int { Int(next() % UInt64(upper)) }
    public mutating func chance(_ p: Double) -> Bool { Double(next() % 1_000_000) / 1_000_000 < p }
}

func writeFile(_ path: String, _ text: String) throws {
    try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try text.write(toFile: path, atomically: true, encoding: .utf8)
}

let firstNames = ["Alice", "Bruno", "Carla", "Dmitri", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kara", "Liam",
                  "Maya", "Nikos", "Olga", "Pedro", "Quinn", "Rosa", "Sami", "Tara", "Umar", "Vera", "Wes", "Xena", "Yusuf", "Zoe"]
let lastNames = ["Adams", "Baker", "Costa", "Dubois", "Evans", "Fischer", "Garcia", "Hansen", "Ivanov", "Jones", "Kim",
                 "Lopez", "Moreau", "Nakamura", "Olsen", "Patel", "Quist", "Rossi", "Silva", "Tanaka", "Ueda", "Varga", "Weber"]
let cities = ["Downtown", "Uptown", "Riverside", "Lakeside", "Midtown", "Harbor", "Hillcrest", "Old Town"]
