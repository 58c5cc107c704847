import CZlib
import Foundation

/// gzip (RFC 1952) through the system zlib: sync request bodies shrink several times (row JSON
/// about 12×, less with the random messageIds), as the official SDK's `gzip=True` sends
/// them (`Content-Encoding: gzip`); Snowflake's result partitions come gzipped.
public enum Gzip {
    public struct Failure: Error { public var code: Int32 }

    public static func compress(_ input: Data, level: Int32 = 6) throws -> Data {
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

    public static func decompress(_ input: Data) throws -> Data {
        var stream = z_stream()
        // windowBits 15 + 32: a gzip or zlib header, detected.
        var rc = inflateInit2_(&stream, 15 + 32, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else { throw Failure(code: rc) }
        defer { inflateEnd(&stream) }
        var output = Data()
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        try input.withUnsafeBytes { (src: UnsafeRawBufferPointer) in
            stream.next_in = UnsafeMutablePointer(mutating: src.bindMemory(to: Bytef.self).baseAddress)
            stream.avail_in = uInt(src.count)
            repeat {
                try chunk.withUnsafeMutableBufferPointer { dst in
                    stream.next_out = dst.baseAddress
                    stream.avail_out = uInt(dst.count)
                    rc = inflate(&stream, Z_NO_FLUSH)
                    guard rc == Z_OK || rc == Z_STREAM_END else { throw Failure(code: rc) }
                    output.append(dst.baseAddress!, count: dst.count - Int(stream.avail_out))
                }
            } while rc != Z_STREAM_END
        }
        return output
    }
}
