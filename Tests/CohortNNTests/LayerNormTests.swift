import XCTest
import Cohort
@testable import CohortNN

final class LayerNormTests: XCTestCase {
    func forward(_ layer: Layer, _ x: Tensor, training: Bool = true) throws -> Tensor {
        let tape = Tape(recording: false)
        tape.reset()
        return try layer.forward(Var(x), ForwardContext(tape: tape, training: training)).value.copy()
    }

    /// Before scale and shift (1 and 0 at first), each example has mean 0 and variance 1 over all its
    /// features, whatever its own offset and spread; the same in evaluation mode.
    func testEachExampleIsNormalisedOverAllItsFeatures() throws {
        let layer = LayerNorm(normalizedShape: [3, 4, 5])
        XCTAssertEqual(layer.scale.value.scalars, [Float](repeating: 1, count: 60))
        XCTAssertEqual(layer.shift.value.scalars, [Float](repeating: 0, count: 60))
        var rng = RandomStream(seed: 2)
        let x = Tensor(zeros: [4, 3, 4, 5])
        rng.fillUniform(x, -1, 1)
        for b in 0..<4 { for i in 0..<60 { x.pointer[b * 60 + i] = x.pointer[b * 60 + i] * Float(b + 1) * 10 + Float(b) * 100 } }
        let y = try forward(layer, x)
        for b in 0..<4 {
            let row = (0..<60).map { Double(y.pointer[b * 60 + $0]) }
            let mean = row.reduce(0, +) / 60
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 60
            XCTAssertEqual(mean, 0, accuracy: 1e-5, "example \(b)")
            XCTAssertEqual(variance, 1, accuracy: 1e-3, "example \(b)")  // eps = 1e-5 against variances of 30 and more
        }
        XCTAssertEqual(try forward(layer, x, training: false).scalars, y.scalars)
    }

    /// y = xhat * scale + shift, elementwise over the normalised shape; eps inside the square root.
    func testScaleShiftAndEpsilon() throws {
        let layer = LayerNorm(normalizedShape: [2], epsilon: 0.5)
        try layer.scale.value.assign(try Tensor(shape: [2], scalars: [2, 3]))
        try layer.shift.value.assign(try Tensor(shape: [2], scalars: [1, -1]))
        // Example [1, 3]: mean 2, variance 1, so xhat = [-1, 1] / sqrt(1.5).
        let y = try forward(layer, try Tensor(shape: [1, 2], scalars: [1, 3])).scalars
        let h = Float(1 / 1.5.squareRoot())
        XCTAssertEqual(y[0], -h * 2 + 1, accuracy: 1e-6)
        XCTAssertEqual(y[1], h * 3 - 1, accuracy: 1e-6)
    }

    func testShapesDecayAndErrors() throws {
        let layer = LayerNorm(normalizedShape: [3, 2, 2])
        XCTAssertEqual(layer.namedParameters().map(\.0), ["weight", "bias"])
        XCTAssertEqual(layer.namedParameters().map(\.1.decays), [false, false])
        XCTAssertThrowsError(try layer.outputShape(for: [2, 3, 2, 3])) {
            XCTAssertEqual("\($0)", "LayerNorm([3, 2, 2]): expects input [batch] + [3, 2, 2], got [2, 3, 2, 3]")
        }
        let spec = ModelSpec(layers: [LayerSpec(.conv2d(out: 3, kernel: 1)), LayerSpec(.layernorm(eps: 0.01)),
                                      LayerSpec(.flatten)])
        let norm = try XCTUnwrap(try spec.build(inputShape: [1, 4, 5]).layers[1] as? LayerNorm)
        XCTAssertEqual(norm.normalizedShape, [3, 4, 5])
        XCTAssertEqual(norm.epsilon, 0.01)
    }
}
