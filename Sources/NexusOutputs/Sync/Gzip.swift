import CZlib
import Foundation

/// gzip (RFC 1952) through the system zlib: request bodies shrink several times (row JSON
/// about 12×, less with the random messageIds), as the official SDK's `gzip=True` sends
/// them (`Content-Encoding: gzip`).
enum Gzip {
    struct Failure: Error { var code: Int32 }

    static func compress(_ input: Data, level: Int32 = 6) throws -> Data {
        var stream = z_stream()
        // windowBits 15 + 16: a gzip header and trailer instead of zlib's.
        var rc = deflateInit2_(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else { throw Failure(code: rc) }
        defer { deflateEnd(&stream) }
        var output = Data(count: Int(deflateBound(&stream, uLong(input.count))))
        let written: Int = try input.withUnsafeBytes { (src: UnsafeRawBufferPointer) in
            try output.withUnsafeMutableBytes { (dst: UnsafeMutableRawBufferPointer) in
                stream.next_in = UnsafeMutablePointer(mutating: src.bindMemory(to: Bytef.self).baseAddress)
                stream.avail_in = uInt(src.count)
                stream.next_out = dst.bindMemory(to: Bytef.self).baseAddress
                stream.avail_out = uInt(dst.count)
                rc = deflate(&stream, Z_FINISH)
                guard rc == Z_STREAM_END else { throw Failure(code: rc) }
                return Int(stream.total_out)
            }
        }
        output.count = written
        return output
    }
}
