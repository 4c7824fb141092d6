import Cohort

/// How the gradient arena is cut into buckets for the exchanges over MPI (the flat reducer's
/// allreduces, the node leaders' in the hierarchical one): in REVERSE parameter order, because
/// backward finishes the last layers' gradients first; each bucket grows until it holds
/// `bucketBytes` (the first one `firstBucketBytes`: DDP starts with a smaller one so that
/// communication starts early). Every rank computes the same buckets, so they are reduced in the
/// same order everywhere.
public struct GradientBuckets: Sendable {
    public struct Bucket: Sendable {
        /// Float range in the gradient arena (contiguous: slots are adjacent in the arena).
        public let range: Range<Int>
        public let slotCount: Int
    }

    public let buckets: [Bucket]
    /// For each parameter (forward order), its bucket.
    public let bucketOfSlot: [Int]

    /// `slots`: each parameter's (offset, count) in the arena, in forward order.
    public init(slots: [(offset: Int, count: Int)], bucketBytes: Int, firstBucketBytes: Int? = nil) {
        var buckets: [Bucket] = []
        var bucketOfSlot = [Int](repeating: 0, count: slots.count)
        var cap = firstBucketBytes ?? bucketBytes
        var lo = Int.max, hi = Int.min, members = 0, bytes = 0
        for (i, slot) in slots.enumerated().reversed() {
            lo = Swift.min(lo, slot.offset)
            hi = Swift.max(hi, slot.offset + ParameterPadding.padded(slot.count))
            members += 1
            bytes += slot.count * 4
            bucketOfSlot[i] = buckets.count
            if bytes >= cap || i == 0 {
                buckets.append(Bucket(range: lo..<hi, slotCount: members))
                lo = Int.max; hi = Int.min; members = 0; bytes = 0
                cap = bucketBytes
            }
        }
        self.buckets = buckets
        self.bucketOfSlot = bucketOfSlot
    }

    /// The most floats in one bucket.
    public var largest: Int { buckets.map(\.range.count).max() ?? 0 }
}
