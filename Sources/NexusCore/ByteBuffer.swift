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
        storage = .allocate(capacity: self.capacity)
    }

    deinit { storage.deallocate() }

    @inlinable @inline(__always) func reserve(_ extra: Int) {
        if used + extra <= capacity { return }
        grow(extra)
    }

    @usableFromInline func grow(_ extra: Int) {
        (storage, capacity) = ByteBuffer.enlarge(storage, used: used, capacity: capacity, toFit: extra)
    }

    /// Moves the first `used` bytes of `storage` (which holds `capacity`) into new storage with
    /// room for `extra` more, at least twice as big, and frees the old: how a raw byte buffer
    /// grows, here and in buffers other modules keep as bare pointers.
    public static func enlarge(_ storage: UnsafeMutablePointer<UInt8>, used: Int, capacity: Int,
                               toFit extra: Int) -> (UnsafeMutablePointer<UInt8>, Int) {
        var cap = capacity * 2
        while cap < used + extra { cap *= 2 }
        let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: cap)
        bigger.update(from: storage, count: used)
        storage.deallocate()
        return (bigger, cap)
    }

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

    @inlinable @inline(__always) public func removeAll(keepingCapacity: Bool = true) { used = 0 }

    /// The bytes; valid until the buffer is next changed.
    @inlinable @inline(__always) public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: storage, count: used) }

    @inline(__always) public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(bytes)
    }
}
