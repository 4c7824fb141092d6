import Cohort
import CohortData
import XCTest

final class BatchLoaderTests: XCTestCase {
    /// Three 1x2x2 byte images: sample i holds 10i + (1, 2, 3, 4); labels 7, 8, 9.
    func byteDataset() throws -> Dataset {
        let pixels: [UInt8] = (0..<3).flatMap { i in (1...4).map { UInt8(10 * i + $0) } }
        return try Dataset(uint8: pixels, sampleShape: [1, 2, 2], labels: [7, 8, 9], classCount: 10)
    }

    func testConvertsAndNormalisesBytes() throws {
        let loader = try BatchLoader(dataset: try byteDataset(), batchSize: 2, normalization: Normalization(mean: 0.5, std: 0.25))
        let batch = try loader.load([2, 0])
        XCTAssertEqual(batch.shape, [2, 1, 2, 2])
        XCTAssertEqual(loader.labels, [9, 7])
        let raw: [Float] = [21, 22, 23, 24, 1, 2, 3, 4]
        for (got, x) in zip(batch.scalars, raw) {
            XCTAssertEqual(got, (x / 255 - 0.5) / 0.25, accuracy: 1e-6)
        }
    }

    func testDefaultNormalisationDependsOnTheFeatureType() throws {
        let bytes = try BatchLoader(dataset: try byteDataset(), batchSize: 1)
        XCTAssertEqual(bytes.normalization, .fashionMNIST)
        XCTAssertEqual(try bytes.load([0]).scalars[0], (1 / 255 - 0.2860) / 0.3530, accuracy: 1e-6)

        let table = try Dataset(float32: [1, -2, 3, 4, 5, 6], sampleShape: [3], labels: [0, 1])
        let floats = try BatchLoader(dataset: table, batchSize: 2)
        XCTAssertEqual(floats.normalization, .identity)
        XCTAssertEqual(try floats.load([1, 0]).scalars, [4, 5, 6, 1, -2, 3])
        let scaled = try BatchLoader(dataset: table, batchSize: 1, normalization: Normalization(mean: 1, std: 2))
        XCTAssertEqual(try scaled.load([0]).scalars, [0, -1.5, 1])
    }

    func testReusesItsBuffers() throws {
        let dataset = try byteDataset()
        let loader = try BatchLoader(dataset: dataset, batchSize: 2)
        let first = try loader.load([0, 1])
        let second = try loader.load([1, 2])
        XCTAssertEqual(first.pointer, second.pointer, "the batch buffer is allocated once")
        XCTAssertTrue(first.storage === second.storage)
        let partial = try loader.load([2])
        XCTAssertEqual(partial.shape, [1, 1, 2, 2])
        XCTAssertTrue(partial.storage === first.storage, "a last partial batch is a view")
        XCTAssertEqual(loader.labels, [9])
        XCTAssertEqual(try loader.load([0, 2]).shape, [2, 1, 2, 2])

        // A caller holding the previous labels (as a loss node does) must not force new buffers.
        var held = loader.labels
        var addresses = Set<Int>()
        for step in 0..<6 {
            try loader.load([step % 3, (step + 1) % 3])
            XCTAssertEqual(loader.labels, [Int32(7 + step % 3), Int32(7 + (step + 1) % 3)])
            if step >= 2 { addresses.insert(loader.labels.withUnsafeBufferPointer { Int(bitPattern: $0.baseAddress) }) }
            held = loader.labels
        }
        XCTAssertEqual(held.count, 2)
        XCTAssertEqual(addresses.count, 2, "two label buffers alternate")
    }

    func testRejectsBadRequests() throws {
        let dataset = try byteDataset()
        let loader = try BatchLoader(dataset: dataset, batchSize: 2)
        assertThrows(try loader.load([0, 1, 2]), prefix: "BatchLoader: ", "3 positions for a batch of at most 2")
        assertThrows(try loader.load([Int]()), prefix: "BatchLoader: ", "0 positions")
        assertThrows(try loader.load([3]), prefix: "BatchLoader: ", "position 3 outside the dataset's 0..<3")
        assertThrows(try BatchLoader(dataset: dataset, batchSize: 0), prefix: "BatchLoader: ", "batch size 0")
        assertThrows(try BatchLoader(dataset: dataset, batchSize: 1, normalization: Normalization(mean: 0, std: 0)),
                     prefix: "BatchLoader: ", "std must be positive")
        assertThrows(try BatchLoader(dataset: dataset, batchSize: 1, augmentation: Augmentation(horizontalFlipProbability: 2)),
                     prefix: "BatchLoader: ", "out of range")
        let table = try Dataset(float32: [1, 2, 3], sampleShape: [3], labels: [0])
        assertThrows(try BatchLoader(dataset: table, batchSize: 1, augmentation: Augmentation(maxShift: 1)),
                     prefix: "BatchLoader: ", "shifts and flips need image samples")
    }

    func testSubsetsLoadTheirOwnSamples() throws {
        let subset = try byteDataset().subset([2, 1])
        let loader = try BatchLoader(dataset: subset, batchSize: 2, normalization: .identity)
        let batch = try loader.load([0])
        XCTAssertEqual(batch.scalars.map { ($0 * 255).rounded() }, [21, 22, 23, 24])
        XCTAssertEqual(loader.labels, [9])
    }

    /// One epoch of a sampler's batches through a loader sees each sample of this rank's shard once.
    func testAnEpochThroughSamplerAndLoader() throws {
        let values = (0..<10).map(Float.init)
        let dataset = try Dataset(float32: values, sampleShape: [1], labels: (0..<10).map { Int32($0 % 3) })
        let sampler = try DistributedSampler(count: dataset.count, rank: 1, worldSize: 2, seed: 8)
        let loader = try BatchLoader(dataset: dataset, batchSize: 2)
        let indices = sampler.indices(epoch: 5)
        var seen: [Float] = [], labels: [Int32] = []
        for range in sampler.batchRanges(batchSize: 2, dropLastBatch: false) {
            seen += try loader.load(indices[range]).scalars
            labels += loader.labels
        }
        XCTAssertEqual(seen, indices.map(Float.init))
        XCTAssertEqual(labels, indices.map { Int32($0 % 3) })
        XCTAssertEqual(loader.features.shape, [1, 1], "5 samples in batches of 2 end with a batch of 1")
    }
}
