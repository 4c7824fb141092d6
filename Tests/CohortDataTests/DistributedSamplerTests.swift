import Cohort
import CohortData
import XCTest

/// PyTorch DistributedSampler semantics: shared permutation, pad by repeating the head (or drop the
/// tail), strided shards.
final class DistributedSamplerTests: XCTestCase {
    /// Every rank's indices for `epoch`.
    func shards(count: Int, worldSize: Int, seed: UInt64 = 1, shuffle: Bool = true, dropLast: Bool = false,
                epoch: Int = 0) throws -> [[Int]] {
        try (0..<worldSize).map {
            try DistributedSampler(count: count, rank: $0, worldSize: worldSize, seed: seed, shuffle: shuffle, dropLast: dropLast)
                .indices(epoch: epoch)
        }
    }

    /// The padded list the shards were cut from: position k is shard k % worldSize, entry k / worldSize.
    func interleaved(_ shards: [[Int]]) -> [Int] {
        (0..<shards.count * shards[0].count).map { shards[$0 % shards.count][$0 / shards.count] }
    }

    func testMatchesPyTorchWithoutShuffle() throws {
        // torch DistributedSampler(range(10), num_replicas=4, shuffle=False): pad with [0, 1], then [r::4].
        XCTAssertEqual(try shards(count: 10, worldSize: 4, shuffle: false), [[0, 4, 8], [1, 5, 9], [2, 6, 0], [3, 7, 1]])
        XCTAssertEqual(try shards(count: 10, worldSize: 4, shuffle: false, dropLast: true), [[0, 4], [1, 5], [2, 6], [3, 7]])
        // Padding longer than the list cycles through it again.
        XCTAssertEqual(try shards(count: 2, worldSize: 5, shuffle: false), [[0], [1], [0], [1], [0]])
    }

    func testPaddingRepeatsTheHeadOfTheSharedPermutation() throws {
        let sampler = try DistributedSampler(count: 10, rank: 0, worldSize: 3, seed: 5)
        XCTAssertEqual(sampler.samplesPerRank, 4)
        XCTAssertEqual(sampler.totalSize, 12)
        let permutation = sampler.permutation(epoch: 2)
        XCTAssertEqual(permutation.sorted(), Array(0..<10))
        let all = try shards(count: 10, worldSize: 3, seed: 5, epoch: 2)
        XCTAssertEqual(all.map(\.count), [4, 4, 4])
        let padded = interleaved(all)
        XCTAssertEqual(Array(padded[0..<10]), permutation)
        XCTAssertEqual(Array(padded[10..<12]), Array(permutation[0..<2]))
        // Before padding the shards are disjoint and cover every sample exactly once.
        XCTAssertEqual(Set(padded[0..<10]).count, 10)
        // Every rank computes the same permutation.
        for rank in 1..<3 {
            XCTAssertEqual(try DistributedSampler(count: 10, rank: rank, worldSize: 3, seed: 5).permutation(epoch: 2), permutation)
        }
    }

    func testDropLastCutsTheTailAndShardsAreDisjoint() throws {
        let all = try shards(count: 10, worldSize: 3, seed: 9, dropLast: true, epoch: 4)
        XCTAssertEqual(all.map(\.count), [3, 3, 3])
        let sampler = try DistributedSampler(count: 10, worldSize: 3, seed: 9, dropLast: true)
        XCTAssertEqual(interleaved(all), Array(sampler.permutation(epoch: 4)[0..<9]))
        XCTAssertEqual(Set(all.joined()).count, 9)
    }

    func testEqualLengthsForManyShapes() throws {
        for count in [1, 7, 64, 101] {
            for worldSize in [1, 2, 3, 8] {
                for dropLast in [false, true] where !(dropLast && count < worldSize) {
                    let all = try shards(count: count, worldSize: worldSize, dropLast: dropLast)
                    let expected = dropLast ? count / worldSize : (count + worldSize - 1) / worldSize
                    XCTAssertEqual(Set(all.map(\.count)), [expected], "count \(count), world \(worldSize), dropLast \(dropLast)")
                    let distinct = Set(all.joined())
                    XCTAssertEqual(distinct.count, min(count, expected * worldSize))
                }
            }
        }
    }

    func testSingleRankIsADeterministicPerEpochShuffle() throws {
        let sampler = try DistributedSampler(count: 1000, seed: 42)
        let epoch0 = sampler.indices(epoch: 0)
        XCTAssertEqual(epoch0.sorted(), Array(0..<1000))
        XCTAssertNotEqual(epoch0, Array(0..<1000))
        XCTAssertEqual(try DistributedSampler(count: 1000, seed: 42).indices(epoch: 0), epoch0)
        XCTAssertNotEqual(sampler.indices(epoch: 1), epoch0)
        XCTAssertNotEqual(try DistributedSampler(count: 1000, seed: 43).indices(epoch: 1), sampler.indices(epoch: 1))
        // Seeded as seed + epoch, like PyTorch: (seed 42, epoch 1) draws what (seed 43, epoch 0) draws.
        XCTAssertEqual(try DistributedSampler(count: 1000, seed: 43).indices(epoch: 0), sampler.indices(epoch: 1))
        XCTAssertEqual(try DistributedSampler(count: 5, shuffle: false).indices(epoch: 3), [0, 1, 2, 3, 4])
    }

    func testBatchesPerEpoch() throws {
        let sampler = try DistributedSampler(count: 10, rank: 1, worldSize: 3)  // 4 per rank
        XCTAssertEqual(sampler.batchesPerEpoch(batchSize: 3, dropLastBatch: false), 2)
        XCTAssertEqual(sampler.batchesPerEpoch(batchSize: 3, dropLastBatch: true), 1)
        XCTAssertEqual(sampler.batchesPerEpoch(batchSize: 4, dropLastBatch: true), 1)
        XCTAssertEqual(sampler.batchesPerEpoch(batchSize: 5, dropLastBatch: true), 0)
        XCTAssertEqual(sampler.batchRanges(batchSize: 3, dropLastBatch: false), [0..<3, 3..<4])
        XCTAssertEqual(sampler.batchRanges(batchSize: 3, dropLastBatch: true), [0..<3])
        XCTAssertEqual(sampler.batchRanges(batchSize: 2, dropLastBatch: true), [0..<2, 2..<4])
    }

    func testInvalidArguments() {
        assertThrows(try DistributedSampler(count: 0), prefix: "DistributedSampler: ", "dataset is empty")
        assertThrows(try DistributedSampler(count: 5, rank: 2, worldSize: 2), prefix: "DistributedSampler: ", "rank 2 is outside 0..<2")
        assertThrows(try DistributedSampler(count: 5, worldSize: 0), prefix: "DistributedSampler: ", "world size 0")
        assertThrows(try DistributedSampler(count: 3, worldSize: 4, dropLast: true), prefix: "DistributedSampler: ", "3 samples cannot give each of 4 ranks")
    }
}
