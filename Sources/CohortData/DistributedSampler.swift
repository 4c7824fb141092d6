import Cohort

/// Which samples each rank sees in an epoch, with the semantics of PyTorch's
/// `torch.utils.data.distributed.DistributedSampler`:
///
/// 1. all ranks draw the same permutation of 0..<count (or keep 0..<count when `shuffle` is off);
/// 2. without `dropLast`, the list is padded by repeating its head until its length divides by
///    `worldSize`; with `dropLast`, its tail is cut to the largest multiple of `worldSize`;
/// 3. rank r takes every worldSize-th index starting at r (`indices[r::worldSize]`).
///
/// Every rank thus gets `samplesPerRank` indices and takes the same number of steps, so collective
/// calls stay matched. The permutation of epoch e comes from
/// `RandomStream(seed: seed &+ UInt64(e)).split("DistributedSampler")`, like PyTorch seeding its
/// generator with seed + epoch; the split keeps it apart from other uses of the same seed.
public struct DistributedSampler: Sendable, Equatable {
    public let count: Int
    public let rank: Int
    public let worldSize: Int
    public let seed: UInt64
    public let shuffle: Bool
    public let dropLast: Bool
    /// Indices each rank gets per epoch.
    public let samplesPerRank: Int
    /// samplesPerRank * worldSize: the padded or cut length of the epoch's list.
    public var totalSize: Int { samplesPerRank * worldSize }

    public init(count: Int, rank: Int = 0, worldSize: Int = 1, seed: UInt64 = 0,
                shuffle: Bool = true, dropLast: Bool = false) throws {
        guard count > 0 else { throw CohortError.invalid("DistributedSampler: dataset is empty") }
        guard worldSize > 0 else { throw CohortError.invalid("DistributedSampler: world size \(worldSize) must be positive") }
        guard rank >= 0, rank < worldSize else {
            throw CohortError.invalid("DistributedSampler: rank \(rank) is outside 0..<\(worldSize)")
        }
        guard !dropLast || count >= worldSize else {
            throw CohortError.invalid("DistributedSampler: \(count) samples cannot give each of \(worldSize) ranks one with dropLast")
        }
        self.count = count
        self.rank = rank
        self.worldSize = worldSize
        self.seed = seed
        self.shuffle = shuffle
        self.dropLast = dropLast
        samplesPerRank = dropLast ? count / worldSize : (count + worldSize - 1) / worldSize
    }

    /// The permutation all ranks share in `epoch` (before padding or cutting).
    public func permutation(epoch: Int) -> [Int] {
        var order = Array(0..<count)
        if shuffle {
            var random = RandomStream(seed: seed &+ UInt64(truncatingIfNeeded: epoch)).split("DistributedSampler")
            random.shuffle(&order)
        }
        return order
    }

    /// This rank's `samplesPerRank` indices (positions in the dataset) for `epoch`.
    public func indices(epoch: Int) -> [Int] {
        let order = permutation(epoch: epoch)
        var mine: [Int] = []
        mine.reserveCapacity(samplesPerRank)
        // Position k of the padded list is order[k % count]: padding repeats the head, cycling
        // through it again if the padding is longer than the list (as PyTorch does).
        var k = rank
        while k < totalSize {
            mine.append(order[k % count])
            k += worldSize
        }
        return mine
    }

    /// Batches per epoch on each rank: a last partial batch counts unless `dropLastBatch`.
    public func batchesPerEpoch(batchSize: Int, dropLastBatch: Bool) -> Int {
        precondition(batchSize > 0, "batchesPerEpoch: batch size \(batchSize) must be positive")
        return dropLastBatch ? samplesPerRank / batchSize : (samplesPerRank + batchSize - 1) / batchSize
    }

    /// The ranges of `indices(epoch:)` that make up each batch, `batchesPerEpoch` of them:
    /// full batches, then a shorter last one unless `dropLastBatch`.
    public func batchRanges(batchSize: Int, dropLastBatch: Bool) -> [Range<Int>] {
        (0..<batchesPerEpoch(batchSize: batchSize, dropLastBatch: dropLastBatch)).map { b in
            b * batchSize..<min(samplesPerRank, (b + 1) * batchSize)
        }
    }
}
