import XCTest
import Cohort
@testable import CohortNN

final class GlobalAvgPoolTests: XCTestCase {
    /// [B, C, H, W] -> [B, C], each the mean of its plane; the gradient spreads 1/(H W) of each
    /// output's gradient over its plane.
    func testMeansOfEachPlaneByHand() throws {
        let x = Var(try Tensor(shape: [2, 2, 2, 3], scalars: [
            1, 2, 3, 4, 5, 6,        // example 0, channel 0: mean 3.5
            0, 0, 0, 0, 0, 6,        // channel 1: 1
            -1, -1, -1, -1, -1, -1,  // example 1, channel 0: -1
            10, 20, 30, 40, 50, 60,  // channel 1: 35
        ]), requiresGrad: true)
        let pool = GlobalAvgPool()
        XCTAssertEqual(try pool.outputShape(for: [2, 2, 2, 3]), [2, 2])
        let tape = Tape()
        tape.reset()
        let y = try pool.forward(x, ForwardContext(tape: tape, training: true))
        XCTAssertEqual(y.shape, [2, 2])
        XCTAssertEqual(y.value.scalars, [3.5, 1, -1, 35])
        try tape.backward(y, seed: try Tensor(shape: [2, 2], scalars: [6, 12, -3, 0]))
        XCTAssertEqual(x.grad!.scalars, [Float](repeating: 1, count: 6) + [Float](repeating: 2, count: 6)
                       + [Float](repeating: -0.5, count: 6) + [Float](repeating: 0, count: 6))
    }

    func testNeedsFeatureMaps() {
        XCTAssertThrowsError(try ModelSpec(layers: [LayerSpec(.flatten), LayerSpec(.globalavgpool)]).build(inputShape: [1, 4, 4])) {
            XCTAssertEqual("\($0)", "model.layers[1] (globalavgpool): GlobalAvgPool: expects input [batch, channels, height, width], got [1, 16]")
        }
    }
}
