import Cohort
import XCTest
@testable import CohortOptim

final class GradientClippingTests: XCTestCase {
    func testClipsToMaxNormAndReturnsThePreClipNorm() throws {
        let g = try Tensor(shape: [3], scalars: [3, 4, 0])
        let norm = GradientClipping.clip(g.pointer, count: 3, maxNorm: 1)
        XCTAssertEqual(norm, 5)
        // coefficient = 1 / (5 + 1e-6), as torch.nn.utils.clip_grad_norm_
        assertClose(g.scalars, [0.6, 0.8, 0], accuracy: 1e-6)
    }

    func testLeavesSmallGradientsUntouched() throws {
        let g = try Tensor(shape: [3], scalars: [3, 4, 0])
        XCTAssertEqual(GradientClipping.clip(g.pointer, count: 3, maxNorm: 5.5), 5)
        XCTAssertEqual(g.scalars, [3, 4, 0])
    }

    func testLongBufferNormIsAccurate() {
        // 1M + 3 floats: Float accumulation in one sum would drift by ~1e-4 relative.
        let count = 1_000_003
        let g = randomBuffer(count, seed: 11)
        var reference = 0.0
        for x in g.scalars { reference += Double(x) * Double(x) }
        let norm = GradientClipping.norm(g.pointer, count: count)
        XCTAssertEqual(norm, reference.squareRoot(), accuracy: reference.squareRoot() * 1e-7)
        let clipped = GradientClipping.clip(g.pointer, count: count, maxNorm: 1)
        XCTAssertEqual(Double(clipped), norm, accuracy: norm * 1e-7)
        XCTAssertEqual(GradientClipping.norm(g.pointer, count: count), 1, accuracy: 1e-5)
    }

    func testNonFiniteNormIsReportedNotSpread() throws {
        let g = try Tensor(shape: [3], scalars: [1, .infinity, 2])
        XCTAssertEqual(GradientClipping.clip(g.pointer, count: 3, maxNorm: 1), .infinity)
        XCTAssertEqual(g.scalars, [1, .infinity, 2])
    }
}

final class NonFiniteCheckTests: XCTestCase {
    func testFindsNaNAndInfAnywhere() {
        let count = 10_003
        let clean = randomBuffer(count, seed: 5, -1e30, 1e30)
        XCTAssertFalse(NonFiniteCheck.containsNonFinite(clean.pointer, count: count))
        XCTAssertNil(NonFiniteCheck.firstNonFiniteIndex(clean.pointer, count: count))
        // First element, last of a block, first of the next, inside the partial tail chunk.
        for (index, bad) in [(0, Float.nan), (4095, .infinity), (4096, -.infinity), (10_002, .nan), (9_990, .signalingNaN)] {
            let x = clean.copy()
            x.pointer[index] = bad
            XCTAssertTrue(NonFiniteCheck.containsNonFinite(x.pointer, count: count), "\(bad) at \(index)")
            XCTAssertEqual(NonFiniteCheck.firstNonFiniteIndex(x.pointer, count: count), index)
        }
    }

    func testLargestFiniteValuesAreFinite() throws {
        let x = try Tensor(shape: [3], scalars: [.greatestFiniteMagnitude, -.greatestFiniteMagnitude, .leastNonzeroMagnitude])
        XCTAssertFalse(NonFiniteCheck.containsNonFinite(x.pointer, count: 3))
    }
}

final class WeightPenaltyTests: XCTestCase {
    func testL1() throws {
        let p = try Tensor(shape: [4], scalars: [1, -2, 0, 0.5])
        let g = try Tensor(shape: [4], scalars: [1, 1, 1, 1])
        let value = WeightPenalty.addL1(lambda: 0.1, parameters: p.pointer, gradients: g.pointer, count: 4)
        XCTAssertEqual(value, 0.35, accuracy: 1e-7)  // 0.1 * (1 + 2 + 0 + 0.5)
        assertClose(g.scalars, [1.1, 0.9, 1, 1.1])   // sign(0) = 0
    }

    func testL2OverRanges() throws {
        let p = try Tensor(shape: [4], scalars: [1, -2, 0, 0.5])
        let g = Tensor(zeros: [4])
        let value = WeightPenalty.addL2(lambda: 0.1, parameters: p.pointer, gradients: g.pointer, count: 4, ranges: [0..<2])
        XCTAssertEqual(value, 0.25, accuracy: 1e-7)  // 0.1 / 2 * (1 + 4)
        assertClose(g.scalars, [0.1, -0.2, 0, 0])
    }

    func testLongRangesMatchScalarSums() {
        let count = 9_001
        let p = randomBuffer(count, seed: 21)
        let ranges = [3..<4100, 5000..<9001]
        let inside = (0..<count).filter { i in ranges.contains { $0.contains(i) } }
        let g1 = Tensor(zeros: [count]), g2 = Tensor(zeros: [count])
        let l1 = WeightPenalty.addL1(lambda: 0.5, parameters: p.pointer, gradients: g1.pointer, count: count, ranges: ranges)
        let l2 = WeightPenalty.addL2(lambda: 0.5, parameters: p.pointer, gradients: g2.pointer, count: count, ranges: ranges)
        XCTAssertEqual(l1, 0.5 * inside.reduce(0.0) { $0 + Double(abs(p.pointer[$1])) }, accuracy: 1e-3)
        XCTAssertEqual(l2, 0.25 * inside.reduce(0.0) { $0 + Double(p.pointer[$1] * p.pointer[$1]) }, accuracy: 1e-3)
        for i in [0, 2, 3, 4099, 4100, 4999, 5000, 9000] {
            let decays = ranges.contains { $0.contains(i) }
            let x = p.pointer[i]
            XCTAssertEqual(g1.pointer[i], decays ? (x > 0 ? 0.5 : -0.5) : 0, "L1 at \(i)")
            XCTAssertEqual(g2.pointer[i], decays ? 0.5 * x : 0, "L2 at \(i)")
        }
    }
}
