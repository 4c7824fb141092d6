import XCTest
import Cohort
@testable import CohortData

/// Mixup and CutMix: every mixed row is exactly its own example and its partner's in the stated
/// shares, partners are a permutation of the batch, and the weights follow Beta(a, a).
final class BatchMixingTests: XCTestCase {
    /// n images of 4x5 whose every pixel is the row's number r + 1, so a mixed pixel names its sources.
    func numbered(_ n: Int) -> Tensor {
        let t = Tensor(zeros: [n, 1, 4, 5])
        for r in 0..<n { for i in 0..<20 { t.pointer[r * 20 + i] = Float(r + 1) } }
        return t
    }

    func testBetaDrawsHaveBetasMeanAndVariance() {
        var rng = RandomStream(seed: 3)
        for a in [0.2, 1.0, 3.0] {
            let draws = (0..<20_000).map { _ in rng.beta(a, a) }
            let mean = draws.reduce(0, +) / Double(draws.count)
            let variance = draws.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(draws.count)
            XCTAssertTrue(draws.allSatisfy { $0 >= 0 && $0 <= 1 }, "a = \(a)")
            XCTAssertEqual(mean, 0.5, accuracy: 0.01, "a = \(a)")
            XCTAssertEqual(variance, 1 / (4 * (2 * a + 1)), accuracy: 0.05 / (4 * (2 * a + 1)) + 0.002, "a = \(a)")
        }
    }

    func testMixupBlendsEachRowWithAPartnerByABetaWeight() throws {
        let n = 4000, a: Float = 0.4
        let mixer = try BatchMixer(mixing: BatchMixing(mixup: a), batchSize: n, sampleShape: [1, 4, 5])
        let x = numbered(n)
        var rng = RandomStream(seed: 9)
        mixer.mix(x, rng: &rng)
        XCTAssertEqual(mixer.partner.sorted(), Array(0..<n), "partners are a permutation of the batch")
        for r in 0..<n {
            let w = mixer.weight[r], expected = w * Float(r + 1) + (1 - w) * Float(mixer.partner[r] + 1)
            for i in 0..<20 { XCTAssertEqual(x.pointer[r * 20 + i], expected, accuracy: 1e-2) }
        }
        let weights = mixer.weight.map(Double.init)
        let mean = weights.reduce(0, +) / Double(n)
        let variance = weights.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)
        XCTAssertEqual(mean, 0.5, accuracy: 0.03)
        XCTAssertEqual(variance, 1 / (4 * (2 * Double(a) + 1)), accuracy: 0.015)
        // The same stream mixes the same way: the scratch student sees the distilled student's images.
        let again = numbered(n), twin = try BatchMixer(mixing: BatchMixing(mixup: a), batchSize: n, sampleShape: [1, 4, 5])
        var same = RandomStream(seed: 9)
        twin.mix(again, rng: &same)
        XCTAssertEqual(again.scalars, x.scalars)
    }

    func testCutMixPastesOneBoxOfThePartnerAndWeighsByTheAreaLeft() throws {
        let n = 2000
        let mixer = try BatchMixer(mixing: BatchMixing(cutmix: 1), batchSize: n, sampleShape: [1, 4, 5])
        let x = numbered(n)
        var rng = RandomStream(seed: 4)
        mixer.mix(x, rng: &rng)
        var boxes = 0
        for r in 0..<n {
            let p = mixer.partner[r], row = Array(UnsafeBufferPointer(start: x.pointer + r * 20, count: 20))
            if p == r { continue }
            XCTAssertTrue(row.allSatisfy { $0 == Float(r + 1) || $0 == Float(p + 1) }, "row \(r): only its own and its partner's pixels")
            let pasted = (0..<20).filter { row[$0] == Float(p + 1) }
            XCTAssertEqual(mixer.weight[r], 1 - Float(pasted.count) / 20, accuracy: 1e-6, "row \(r)")
            guard let first = pasted.first, let last = pasted.last else { continue }
            boxes += 1
            // A rectangle: every pixel between the first and last pasted row and column is pasted.
            let (y0, x0, y1, x1) = (first / 5, pasted.map { $0 % 5 }.min()!, last / 5, pasted.map { $0 % 5 }.max()!)
            XCTAssertEqual(pasted.count, (y1 - y0 + 1) * (x1 - x0 + 1), "row \(r)")
        }
        XCTAssertGreaterThan(boxes, n / 2)
        let meanWeight = mixer.weight.reduce(0, +) / Float(n)
        XCTAssertGreaterThan(meanWeight, 0.5, "boxes clipped at the border leave more of the image than 1 - lambda")
        XCTAssertLessThan(meanWeight, 0.9)
    }

    func testBothOnSplitTheBatchBetweenMixupAndCutMix() throws {
        let n = 2000
        let mixer = try BatchMixer(mixing: BatchMixing(mixup: 1, cutmix: 1), batchSize: n, sampleShape: [1, 4, 5])
        let x = numbered(n)
        var rng = RandomStream(seed: 5)
        mixer.mix(x, rng: &rng)
        // A mixup row is one blended value everywhere; a CutMix row holds only whole source values.
        var blended = 0
        for r in 0..<n where mixer.partner[r] != r {
            let v = x.pointer[r * 20]
            if v != Float(r + 1) && v != Float(mixer.partner[r] + 1) { blended += 1 }
        }
        XCTAssertEqual(Double(blended) / Double(n), 0.5, accuracy: 0.05)
    }

    func testCutMixNeedsImages() {
        XCTAssertThrowsError(try BatchMixer(mixing: BatchMixing(cutmix: 1), batchSize: 4, sampleShape: [13]))
        XCTAssertNoThrow(try BatchMixer(mixing: BatchMixing(mixup: 1), batchSize: 4, sampleShape: [13]))
    }
}
