/// A growable byte buffer in raw storage, for hot loops where an array's copy-on-write
/// checks and reference counting would cost more than the work.
public final class ByteBuffer: @unchecked Sendable {
    public private(set) var base: UnsafeMutablePointer<UInt8>
    public private(set) var count = 0
    private var capacity: Int

    public init(capacity: Int = 256) {
        self.capacity = max(16, capacity)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    @inline(__always) private func reserve(_ extra: Int) {
        if count + extra <= capacity { return }
        var cap = capacity * 2
        while cap < count + extra { cap *= 2 }
        let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: cap)
        bigger.update(from: base, count: count)
        base.deallocate()
        base = bigger
        capacity = cap
    }

    @inline(__always) public func append(_ byte: UInt8) {
        reserve(1)
        base[count] = byte
        count += 1
    }

    @inline(__always) public func append(contentsOf p: UnsafeRawBufferPointer) {
        guard p.count > 0 else { return }
        reserve(p.count)
        (base + count).update(from: p.baseAddress!.assumingMemoryBound(to: UInt8.self), count: p.count)
        count += p.count
    }

    @inline(__always) public func append<S: Sequence>(contentsOf s: S) where S.Element == UInt8 {
        let done: Void? = s.withContiguousStorageIfAvailable { append(contentsOf: UnsafeRawBufferPointer($0)) }
        if done == nil { for b in s { append(b) } }
    }

    @inline(__always) public func removeAll(keepingCapacity: Bool = true) { count = 0 }

    /// The bytes; valid until the buffer is next changed.
    @inline(__always) public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    @inline(__always) public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(bytes)
    }
}
