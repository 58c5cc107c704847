import Crypto
import Foundation
import NexusCore

/// Content hashes of seed files, so a touched but unchanged seed is not reloaded.
enum FileHash {
    static func hash(path: String) throws -> String {
        guard let h = FileHandle(forReadingAtPath: path) else {
            throw NexusError("csv", "cannot open file", at: SourceLocation(file: path))
        }
        defer { try? h.close() }
        var sha = SHA256()
        while true {
            let chunk = h.readData(ofLength: 4 << 20)
            if chunk.isEmpty { break }
            sha.update(data: chunk)
        }
        return sha.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
