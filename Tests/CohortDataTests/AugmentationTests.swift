import Cohort
import CohortData
import XCTest

final class AugmentationTests: XCTestCase {
    let side = 8

    /// One 8x8 byte image with distinct values (1 + y*8 + x) in the centre 4x4 block, zero around it.
    func centredImage() throws -> Dataset {
        var pixels = [UInt8](repeating: 0, count: side * side)
        for y in 2..<6 { for x in 2..<6 { pixels[y * side + x] = UInt8(1 + y * side + x) } }
        return try Dataset(uint8: pixels, sampleShape: [1, side, side], labels: [0])
    }

    /// The loaded batch as raw pixel values (identity normalisation undone), one [Float] per sample.
    func rawSamples(_ loader: BatchLoader, count: Int) throws -> [[Float]] {
        let values = try loader.load([Int](repeating: 0, count: count)).scalars.map { ($0 * 255).rounded() }
        let n = loader.dataset.valuesPerSample
        return (0..<count).map { Array(values[$0 * n..<($0 + 1) * n]) }
    }

    /// `image` moved by (dy, dx), zero filled.
    func shifted(_ image: [Float], dy: Int, dx: Int) -> [Float] {
        var out = [Float](repeating: 0, count: image.count)
        for y in 0..<side {
            for x in 0..<side {
                let (sy, sx) = (y - dy, x - dx)
                if sy >= 0, sy < side, sx >= 0, sx < side { out[y * side + x] = image[sy * side + sx] }
            }
        }
        return out
    }

    func mirrored(_ image: [Float]) -> [Float] {
        (0..<image.count).map { image[($0 / side) * side + (side - 1 - $0 % side)] }
    }

    func testFlipReallyMirrors() throws {
        let dataset = try centredImage()
        let original = dataset.rawValues(0)
        let always = try BatchLoader(dataset: dataset, batchSize: 4, normalization: .identity,
                                     augmentation: Augmentation(horizontalFlipProbability: 1))
        for sample in try rawSamples(always, count: 4) { XCTAssertEqual(sample, mirrored(original)) }

        let half = try BatchLoader(dataset: dataset, batchSize: 400, normalization: .identity,
                                   augmentation: Augmentation(horizontalFlipProbability: 0.5), random: RandomStream(seed: 9))
        let samples = try rawSamples(half, count: 400)
        let flipped = samples.filter { $0 == mirrored(original) }.count
        XCTAssertEqual(samples.filter { $0 == original }.count + flipped, 400)
        XCTAssertEqual(Double(flipped) / 400, 0.5, accuracy: 0.1)
    }

    func testShiftMovesThePictureAndPreservesItsMass() throws {
        let dataset = try centredImage()
        let original = dataset.rawValues(0)
        let mass = original.reduce(0, +)
        let loader = try BatchLoader(dataset: dataset, batchSize: 500, normalization: .identity,
                                     augmentation: Augmentation(maxShift: 2, horizontalFlipProbability: 0.5), random: RandomStream(seed: 4))
        var seen = Set<[Int]>()
        for sample in try rawSamples(loader, count: 500) {
            XCTAssertEqual(sample.reduce(0, +), mass, "a shift of at most 2 keeps the centre block inside")
            var match: [Int]?
            for dy in -2...2 { for dx in -2...2 { for flip in [false, true] {
                if sample == shifted(flip ? mirrored(original) : original, dy: dy, dx: dx) { match = [dy, dx, flip ? 1 : 0] }
            } } }
            guard let match else { return XCTFail("output is not a shifted (mirrored) copy of the input") }
            seen.insert(match)
        }
        XCTAssertEqual(seen.count, 50, "every shift in -2...2 squared, with and without flip, occurs")
    }

    func testShiftFillsWithNormalisedBlackAndClipsAtTheBorder() throws {
        let pixels = [UInt8](repeating: 200, count: side * side)
        let dataset = try Dataset(uint8: pixels, sampleShape: [1, side, side], labels: [0])
        let norm = Normalization.fashionMNIST
        let loader = try BatchLoader(dataset: dataset, batchSize: 200, normalization: norm, augmentation: Augmentation(maxShift: 3))
        let values = try loader.load([Int](repeating: 0, count: 200)).scalars
        let black = -norm.mean[0] / norm.std[0], grey = (200 / 255 - norm.mean[0]) / norm.std[0]
        XCTAssertTrue(values.allSatisfy { abs($0 - black) < 1e-5 || abs($0 - grey) < 1e-5 })
        let greyCount = values.filter { abs($0 - grey) < 1e-5 }.count
        // Each axis keeps 8 - |d| of 8 rows or columns; E|d| over -3...3 is 12/7.
        let expected = 200.0 * pow(8 - 12.0 / 7, 2)
        XCTAssertEqual(Double(greyCount), expected, accuracy: expected * 0.05)
    }

    func testNoiseHasTheRequestedStd() throws {
        let dataset = try Dataset(float32: [Float](repeating: 0, count: 40 * 100), sampleShape: [100], labels: [Int32](repeating: 0, count: 40))
        let loader = try BatchLoader(dataset: dataset, batchSize: 40, augmentation: Augmentation(noiseStd: 0.5), random: RandomStream(seed: 2))
        let values = try loader.load(Array(0..<40)).scalars + loader.load(Array(0..<40)).scalars
        let mean = values.reduce(0, +) / Float(values.count)
        let std = (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(values.count)).squareRoot()
        XCTAssertEqual(mean, 0, accuracy: 0.02)
        XCTAssertEqual(std, 0.5, accuracy: 0.015)
        XCTAssertEqual(Set(values).count, values.count, "every value gets its own draw")
    }

    func testAugmentationIsSeeded() throws {
        let dataset = try centredImage()
        let augmentation = Augmentation(maxShift: 2, horizontalFlipProbability: 0.5, noiseStd: 0.1)
        func run(_ seed: UInt64) throws -> [Float] {
            let loader = try BatchLoader(dataset: dataset, batchSize: 16, augmentation: augmentation, random: RandomStream(seed: seed))
            return try loader.load([Int](repeating: 0, count: 16)).scalars
        }
        XCTAssertEqual(try run(1), try run(1))
        XCTAssertNotEqual(try run(1), try run(2))
        let plain = try BatchLoader(dataset: dataset, batchSize: 1, normalization: .identity)
        XCTAssertEqual(try rawSamples(plain, count: 1)[0], dataset.rawValues(0), "off by default")
    }
}
