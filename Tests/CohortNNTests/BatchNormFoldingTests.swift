import Cohort
import CohortNN
import XCTest

/// Batch norm folded into the convolution or linear layer before it (BatchNormFolding.swift): the
/// spec it rewrites and a folded model that predicts what the original does in evaluation mode.
final class BatchNormFoldingTests: XCTestCase {
    /// conv2d -> batchnorm, inside a residual body too, and linear -> batchnorm (1d) fold; a
    /// batchnorm after a relu does not; the folded layers gain a bias.
    static let spec = ModelSpec(layers: [
        LayerSpec(.conv2d(out: 4, kernel: 3, padding: 1, bias: false)), LayerSpec(.batchnorm), LayerSpec(.relu),
        LayerSpec(.residual(layers: [
            LayerSpec(.conv2d(out: 6, kernel: 3, stride: 2, padding: 1)), LayerSpec(.batchnorm), LayerSpec(.relu),
            LayerSpec(.conv2d(out: 6, kernel: 3, padding: 1, bias: false)), LayerSpec(.batchnorm),
        ])),
        LayerSpec(.relu), LayerSpec(.batchnorm),
        LayerSpec(.flatten), LayerSpec(.linear(out: 12, bias: false)), LayerSpec(.batchnorm), LayerSpec(.relu),
        LayerSpec(.linear(out: 5)),
    ])

    func testTheSpecLosesEveryBatchNormThatFollowsAWeightedLayer() throws {
        let folded = try XCTUnwrap(BatchNormFolding.folded(Self.spec))
        XCTAssertEqual(folded, ModelSpec(layers: [
            LayerSpec(.conv2d(out: 4, kernel: 3, padding: 1, bias: true)), LayerSpec(.relu),
            LayerSpec(.residual(layers: [
                LayerSpec(.conv2d(out: 6, kernel: 3, stride: 2, padding: 1, bias: true)), LayerSpec(.relu),
                LayerSpec(.conv2d(out: 6, kernel: 3, padding: 1, bias: true)),
            ])),
            LayerSpec(.relu), LayerSpec(.batchnorm),
            LayerSpec(.flatten), LayerSpec(.linear(out: 12, bias: true)), LayerSpec(.relu),
            LayerSpec(.linear(out: 5)),
        ]))
        XCTAssertNil(BatchNormFolding.folded(folded), "a folded spec has nothing left to fold")
        XCTAssertNil(BatchNormFolding.folded(ModelSpec(layers: [LayerSpec(.linear(out: 3)), LayerSpec(.relu), LayerSpec(.batchnorm)])))
    }

    /// Batch norms with statistics far from the identity (negative scales among them) and biases on
    /// some layers: the folded model's logits are the original's in evaluation mode to float
    /// rounding, and it has no BatchNorm parameters where it folded them.
    func testTheFoldedModelPredictsWhatTheOriginalDoes() throws {
        let model = try Model(spec: Self.spec, inputShape: [2, 8, 8])
        var rng = RandomStream(seed: 11)
        model.initialize(rng: rng)
        for (e, p) in zip(model.parameters.entries, model.parameters.parameters) where !e.decays {
            rng.fillUniform(p.value, -1.5, 1.5)  // BatchNorm scales and shifts, and the biases
        }
        for (e, p) in zip(model.buffers.entries, model.buffers.parameters) {
            if e.path.hasSuffix("running_var") { rng.fillUniform(p.value, 0.2, 3) } else { rng.fillUniform(p.value, -0.5, 0.5) }
        }
        let folded = try XCTUnwrap(try model.foldingBatchNorm())
        XCTAssertEqual(folded.spec, BatchNormFolding.folded(Self.spec))
        XCTAssertEqual(folded.buffers.entries.map(\.path), ["4.running_mean", "4.running_var"], "only the batch norm after a relu stays")
        XCTAssertEqual(folded.parameters.parameterCount,
                       model.parameters.parameterCount - 2 * (4 + 6 + 6 + 12) + (4 + 6 + 12), "each folded norm's scale and shift gone, biases gained where missing")

        let x = Tensor(zeros: [7, 2, 8, 8])
        rng.fillUniform(x, -1, 1)
        let want = try model.predict(x).scalars, got = try folded.predict(x).scalars
        let largest = want.map(abs).max()!
        XCTAssertGreaterThan(largest, 0.1)
        for (a, b) in zip(got, want) { XCTAssertEqual(a, b, accuracy: 2e-5 * max(largest, 1)) }
        XCTAssertTrue(try BatchNormFolding.deployed(folded) === folded, "nothing left to fold: the model itself")
    }

    /// An int8 model stays as its file computes it: folding would turn its int8 layers into float ones.
    func testDeployedLeavesAnInt8ModelAlone() throws {
        let model = try Model(spec: Self.spec, inputShape: [2, 8, 8])
        model.initialize(rng: RandomStream(seed: 2))
        model.quantizeInt8Layers()
        XCTAssertTrue(try BatchNormFolding.deployed(model) === model)
    }
}
