import Testing
import NexusCore
import NexusScaffold

struct RadixSortTests {
    @Test func sortsLikeTheStandardLibrary() {
        var rng = SeededRandom(seed: 7)
        for (n, width) in [(0, 64), (1, 64), (2, 3), (1000, 64), (50_000, 46), (50_000, 11), (50_000, 12), (3000, 0)] {
            var keys = (0..<n).map { _ in width == 0 ? 42 : (width == 64 ? rng.next() : rng.next() >> UInt64(64 - width)) }
            let expected = keys.sorted()
            RadixSort.sort(&keys)
            #expect(keys == expected, "n \(n), width \(width)")
        }
    }

    @Test func lowBitsAlreadyInOrderAreKept() {
        // Keys whose low 24 bits are their own position, as the trait winners' sort keys are.
        var rng = SeededRandom(seed: 9)
        var keys = (0..<40_000).map { UInt64($0) | (rng.next() % 300) << 40 | (rng.next() % 5) << 24 }
        let expected = keys.sorted()
        RadixSort.sort(&keys, orderedLowBits: 24)
        #expect(keys == expected)
    }
}
