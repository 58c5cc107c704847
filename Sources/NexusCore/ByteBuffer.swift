#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A growable byte buffer in raw storage, for hot loops where an array's copy-on-write
/// checks and reference counting would cost more than the work.
public final class ByteBuffer: @unchecked Sendable {
    // Stored as internal, read through public accessors: other modules' hot loops inline
    // the appends, and only this file changes the storage.
    @usableFromInline var storage: UnsafeMutablePointer<UInt8>
    @usableFromInline var used = 0
    @usableFromInline var capacity: Int

    /// The first byte; valid until the buffer next grows.
    @inlinable public var base: UnsafeMutablePointer<UInt8> { storage }
    /// Bytes held.
    @inlinable public var count: Int { used }

    public init(capacity: Int = 256) {
        self.capacity = max(16, capacity)
        storage = ByteBuffer.allocateBytes(self.capacity)
    }

    deinit { ByteBuffer.freeBytes(storage) }

    @inlinable @inline(__always) func reserve(_ extra: Int) {
        if used + extra <= capacity { return }
        grow(extra)
    }

    @usableFromInline func grow(_ extra: Int) {
        (storage, capacity) = ByteBuffer.enlarge(storage, used: used, capacity: capacity, toFit: extra)
    }

    /// Grows `storage` (holding `used` of `capacity` bytes) to room for `extra` more, at least
    /// twice as big: how a raw byte buffer grows, here and in buffers other modules keep as
    /// bare pointers (allocated with `allocateBytes`). Through `realloc`, so that a large
    /// buffer (glibc maps those on their own) grows in place by remapping its pages instead of
    /// being copied: a copy holds the old and the new buffer at once, and the engine's largest
    /// buffers (hundreds of MB at 1,000,000 persons) then briefly doubled the process's size.
    public static func enlarge(_ storage: UnsafeMutablePointer<UInt8>, used: Int, capacity: Int,
                               toFit extra: Int) -> (UnsafeMutablePointer<UInt8>, Int) {
        var cap = capacity * 2
        while cap < used + extra { cap *= 2 }
        guard let bigger = realloc(storage, cap) else { fatalError("out of memory growing a buffer to \(cap) bytes") }
        return (bigger.assumingMemoryBound(to: UInt8.self), cap)
    }

    /// Storage for a raw byte buffer that `enlarge` may grow; free it with `freeBytes`.
    public static func allocateBytes(_ capacity: Int) -> UnsafeMutablePointer<UInt8> {
        guard let p = malloc(max(1, capacity)) else { fatalError("out of memory allocating \(capacity) bytes") }
        return p.assumingMemoryBound(to: UInt8.self)
    }

    public static func freeBytes(_ p: UnsafeMutablePointer<UInt8>) { free(p) }

    @inlinable @inline(__always) public func append(_ byte: UInt8) {
        reserve(1)
        storage[used] = byte
        used += 1
    }

    @inlinable @inline(__always) public func append(contentsOf p: UnsafeRawBufferPointer) {
        guard p.count > 0 else { return }
        reserve(p.count)
        (storage + used).update(from: p.baseAddress!.assumingMemoryBound(to: UInt8.self), count: p.count)
        used += p.count
    }

    @inline(__always) public func append<S: Sequence>(contentsOf s: S) where S.Element == UInt8 {
        let done: Void? = s.withContiguousStorageIfAvailable { append(contentsOf: UnsafeRawBufferPointer($0)) }
        if done == nil { for b in s { append(b) } }
    }

    /// Puts `p` where a value of `length` bytes at `start` was, when it fits there, else at
    /// the end; returns where it now starts. For values replaced in place (the old bytes are
    /// no one else's).
    @inlinable public func store(_ p: UnsafeRawBufferPointer, over start: Int, length: Int) -> Int {
        guard p.count <= length else {
            let at = used
            append(contentsOf: p)
            return at
        }
        if p.count > 0 { (storage + start).update(from: p.baseAddress!.assumingMemoryBound(to: UInt8.self), count: p.count) }
        return start
    }

    @inlinable @inline(__always) public func removeAll(keepingCapacity: Bool = true) { used = 0 }

    /// The bytes; valid until the buffer is next changed.
    @inlinable @inline(__always) public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: storage, count: used) }

    @inline(__always) public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(bytes)
    }
}
