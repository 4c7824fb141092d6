import XCTest
import Cohort
@testable import CohortNN

/// Residual blocks from model specs: shapes, parameter paths, shortcuts, initialisers, errors.
final class ResidualTests: XCTestCase {
    func conv(_ out: Int, stride: Int = 1, padding: Int = 1) -> LayerSpec {
        LayerSpec(.conv2d(out: out, kernel: 3, stride: stride, padding: padding))
    }
    func block(_ layers: [LayerSpec], projection: ShortcutProjection? = nil) -> LayerSpec {
        LayerSpec(.residual(layers: layers, projection: projection))
    }
    let relu = LayerSpec(.relu), bn = LayerSpec(.batchnorm)

    /// stem, an identity block, a stride-2 block (projected), a nested block, pooling, classifier.
    var resnet: ModelSpec {
        ModelSpec(layers: [
            conv(4), relu,
            block([conv(4), bn, relu, conv(4), bn]), relu,
            block([conv(8, stride: 2), bn, relu, conv(8), bn]), relu,
            block([block([conv(8), relu, conv(8)]), relu, conv(8)]),
            LayerSpec(.globalavgpool), LayerSpec(.linear(out: 3)),
        ])
    }

    func message(_ spec: ModelSpec, _ input: [Int]) -> String {
        do { _ = try spec.build(inputShape: input); return "no error" } catch { return "\(error)" }
    }

    func testShapesAndParameterPaths() throws {
        let model = try Model(spec: resnet, inputShape: [1, 8, 8])
        XCTAssertEqual(try model.network.outputShape(for: [5, 1, 8, 8]), [5, 3])
        let blocks = model.network.layers.compactMap { $0 as? Residual }
        XCTAssertEqual(blocks.count, 3)
        XCTAssertNil(blocks[0].projection)
        let projection = try XCTUnwrap(blocks[1].projection as? Conv2d)
        XCTAssertEqual([projection.inChannels, projection.outChannels, projection.kernel.0, projection.stride.0], [4, 8, 1, 2])
        XCTAssertNil(projection.bias)
        XCTAssertEqual(try blocks[1].outputShape(for: [2, 4, 8, 8]), [2, 8, 4, 4])
        XCTAssertEqual(model.parameters.entries.map(\.path), [
            "0.weight", "0.bias",
            "2.layers.0.weight", "2.layers.0.bias", "2.layers.1.weight", "2.layers.1.bias",
            "2.layers.3.weight", "2.layers.3.bias", "2.layers.4.weight", "2.layers.4.bias",
            "4.layers.0.weight", "4.layers.0.bias", "4.layers.1.weight", "4.layers.1.bias",
            "4.layers.3.weight", "4.layers.3.bias", "4.layers.4.weight", "4.layers.4.bias", "4.projection.weight",
            "6.layers.0.layers.0.weight", "6.layers.0.layers.0.bias", "6.layers.0.layers.2.weight", "6.layers.0.layers.2.bias",
            "6.layers.2.weight", "6.layers.2.bias",
            "8.weight", "8.bias",
        ])
        XCTAssertEqual(model.buffers.entries.map(\.path).prefix(2), ["2.layers.1.running_mean", "2.layers.1.running_var"])
        // The 1x1 projection is a weight like any other: decayed, so pruned and quantised too.
        let entry = try XCTUnwrap(model.parameters.entry("4.projection.weight"))
        XCTAssertEqual(entry.shape, [8, 4, 1, 1])
        XCTAssertTrue(entry.decays)
    }

    /// The body's last weighted layer and the projection take the initialiser of the layer after
    /// the block; the others, of the layer after them inside the body; `init` on a block is its projection's.
    func testInitialisersInsideBlocks() throws {
        func initializers(_ spec: ModelSpec) throws -> [String: Initializer] {
            Dictionary(uniqueKeysWithValues: try spec.build(inputShape: [2, 6, 6]).namedParameters().map { ($0.0, $0.1.initializer) })
        }
        let followedByReLU = try initializers(ModelSpec(layers: [block([conv(3), relu, conv(3), bn], projection: .always), relu,
                                                                 LayerSpec(.flatten), LayerSpec(.linear(out: 2))]))
        XCTAssertEqual(followedByReLU["0.layers.0.weight"], .heUniform)
        XCTAssertEqual(followedByReLU["0.layers.2.weight"], .heUniform)
        XCTAssertEqual(followedByReLU["0.projection.weight"], .heUniform)
        XCTAssertEqual(followedByReLU["3.weight"], .glorotUniform)
        var tanhAfter = ModelSpec(layers: [block([conv(3), relu, conv(3)], projection: .always), LayerSpec(.tanh)])
        var i = try initializers(tanhAfter)
        XCTAssertEqual(i["0.layers.0.weight"], .heUniform)
        XCTAssertEqual(i["0.layers.2.weight"], .glorotUniform)
        XCTAssertEqual(i["0.projection.weight"], .glorotUniform)
        tanhAfter.layers[0].initializer = .heNormal
        i = try initializers(tanhAfter)
        XCTAssertEqual(i["0.projection.weight"], .heNormal)
        XCTAssertEqual(i["0.layers.2.weight"], .glorotUniform)
    }

    func testProjectionModes() throws {
        let same = [conv(2), relu, conv(2)]
        func projection(_ spec: LayerSpec, input: [Int]) throws -> Layer? {
            (try ModelSpec(layers: [spec]).build(inputShape: input).layers[0] as! Residual).projection
        }
        XCTAssertNil(try projection(block(same), input: [2, 5, 5]))
        XCTAssertNil(try projection(block(same, projection: .never), input: [2, 5, 5]))
        let always = try XCTUnwrap(try projection(block(same, projection: .always), input: [2, 5, 5]) as? Conv2d)
        XCTAssertEqual([always.kernel.0, always.stride.0, always.stride.1], [1, 1, 1])
        // An odd size: 3x3 stride 2 padding 1 takes 7 to 4, as does a 1x1 convolution with stride 2.
        let odd = try XCTUnwrap(try projection(block([conv(3, stride: 2)]), input: [2, 7, 7]) as? Conv2d)
        XCTAssertEqual(try odd.outputShape(for: [1, 2, 7, 7]), [1, 3, 4, 4])
        // Flat inputs get a linear map without bias.
        let flat = try XCTUnwrap(try projection(block([LayerSpec(.linear(out: 5))]), input: [3]) as? Linear)
        XCTAssertEqual([flat.inFeatures, flat.outFeatures], [3, 5])
        XCTAssertNil(flat.bias)

        XCTAssertEqual(message(ModelSpec(layers: [conv(2), block([conv(4, stride: 2)], projection: .never)]), [1, 8, 8]),
                       "model.layers[1] (residual): the body maps [2, 8, 8] to [4, 4, 4] and projection is never: "
                       + "the identity shortcut needs the same shape (projection: auto adds one)")
        XCTAssertEqual(message(ModelSpec(layers: [block([conv(2, padding: 0)])]), [2, 8, 8]),
                       "model.layers[0] (residual): the body maps [2, 8, 8] to [2, 6, 6]: no 1x1 convolution stride maps 8x8 onto 6x6 "
                       + "(pad the body's convolutions to keep the size, or stride them)")
        XCTAssertTrue(message(ModelSpec(layers: [block([LayerSpec(.flatten)])]), [2, 3, 3])
            .hasPrefix("model.layers[0] (residual): the body maps [2, 3, 3] to [18]: a projection maps"))
    }

    func testBuildErrorsNameTheNestedLayerPath() {
        let nested = ModelSpec(layers: [conv(2), block([conv(2), block([relu, LayerSpec(.linear(out: 3))])])])
        XCTAssertTrue(message(nested, [1, 4, 4]).hasPrefix("model.layers[1].layers[1].layers[1] (linear): linear: expects flat input [batch, features], got [1, 2, 4, 4]"),
                      message(nested, [1, 4, 4]))
        let badConv = ModelSpec(layers: [block([conv(2), LayerSpec(.conv2d(out: 2, kernel: 9))])])
        XCTAssertTrue(message(badConv, [1, 4, 4]).hasPrefix("model.layers[0].layers[1] (conv2d): "), message(badConv, [1, 4, 4]))
    }

    /// With its body's output zeroed, a block is its shortcut: the identity, or the projection alone;
    /// the gradient then reaches x through the shortcut only.
    func testAZeroBodyLeavesTheShortcut() throws {
        var rng = RandomStream(seed: 3)
        let x = Tensor(zeros: [2, 2, 6, 6])
        rng.fillUniform(x, -1, 1)
        for projection in [ShortcutProjection.auto, .always] {
            let model = try Model(spec: ModelSpec(layers: [block([conv(2), relu, conv(2)], projection: projection),
                                                           LayerSpec(.flatten)]), inputShape: [2, 6, 6])
            model.initialize(rng: RandomStream(seed: 1))
            let network = model.network
            let residual = network.layers[0] as! Residual
            let last = residual.body.layers[2] as! Conv2d
            last.weight.value.zero(); last.bias!.value.zero()
            let tape = Tape(recording: false)
            tape.reset()
            let ctx = ForwardContext(tape: tape, training: false)
            let y = try residual.forward(Var(x), ctx).value.scalars
            if let p = residual.projection {
                tape.reset()
                XCTAssertEqual(y, try p.forward(Var(x), ctx).value.scalars)
                XCTAssertNotEqual(y, x.scalars)
            } else {
                XCTAssertEqual(y, x.scalars)
            }
        }
    }

    /// d(sum y)/dx = 1 through the identity plus the body's contribution: with a body of one linear
    /// layer W, y = xW^T + b + x, so the gradient is 1 + the column sums of W.
    func testTheInputGradientIsTheSumOfBothPaths() throws {
        let linear = Linear(3, 3)
        try linear.weight.value.assign(try Tensor(shape: [3, 3], scalars: [1, 2, 3, 4, 5, 6, 7, 8, 9]))
        let block = Residual(body: Sequential([linear]))
        let x = Var(try Tensor(shape: [2, 3], scalars: [1, -1, 2, 0, 3, -2]), requiresGrad: true)
        let tape = Tape()
        tape.reset()
        try tape.backward(try tape.sum(try block.forward(x, ForwardContext(tape: tape, training: true))))
        XCTAssertEqual(x.grad!.scalars, [13, 16, 19, 13, 16, 19])
    }
}
