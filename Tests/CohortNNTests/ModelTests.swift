import XCTest
import Cohort
@testable import CohortNN

final class ModelTests: XCTestCase {
    let spec = ModelSpec(layers: [LayerSpec(.flatten), LayerSpec(.linear(out: 6)), LayerSpec(.batchnorm),
                                  LayerSpec(.relu), LayerSpec(.dropout(p: 0.5)), LayerSpec(.linear(out: 3))])

    /// A model that predicts holds its parameters and buffers, and no gradient memory at all.
    func testAModelHasNoGradientMemory() throws {
        let model = try Model(spec: spec, inputShape: [2, 2])
        XCTAssertEqual(model.outputCount, 3)
        XCTAssertEqual(model.parameters.entries.map(\.path), ["1.weight", "1.bias", "2.weight", "2.bias", "5.weight", "5.bias"])
        XCTAssertEqual(model.buffers.entries.map(\.path), ["2.running_mean", "2.running_var"])
        for p in model.parameters.parameters { XCTAssertNil(p.variable.grad) }
        // Training binds a gradient arena of the same layout; the model's values stay where they are.
        let values = model.parameters.values.pointer
        let gradients = GradientArena(for: model.parameters)
        XCTAssertEqual(gradients.count, model.parameters.count)
        for (e, p) in zip(model.parameters.entries, model.parameters.parameters) {
            XCTAssertEqual(p.variable.grad?.pointer, gradients.values.pointer + e.offset)
            XCTAssertEqual(p.value.pointer, values + e.offset)
        }
    }

    /// predict is evaluation mode (dropout off, running statistics), the same on every call, and
    /// what a forward pass in evaluation mode computes.
    func testPredictIsTheEvaluationModeForwardPass() throws {
        let model = try Model(spec: spec, inputShape: [2, 2])
        model.initialize(rng: RandomStream(seed: 4))
        model.buffers.values.pointer[model.buffers.entries[1].offset] = 2  // a running variance that matters
        var rng = RandomStream(seed: 5)
        let x = Tensor(zeros: [5, 2, 2])
        rng.fillUniform(x, -1, 1)
        let first = try model.predict(x).scalars
        XCTAssertEqual(try model.predict(x).scalars, first)
        let tape = Tape(recording: false)
        tape.reset()
        let reference = try model.network.forward(Var(x), ForwardContext(tape: tape, training: false)).value.scalars
        XCTAssertEqual(first, reference)
        XCTAssertThrowsError(try model.predict(Tensor(zeros: [5, 4]))) {
            XCTAssertTrue("\($0)".contains("batch [5, 4] for a model of [2, 2] inputs"), "\($0)")
        }
    }

    func testAModelMustEndInOneVectorPerExample() {
        let conv = ModelSpec(layers: [LayerSpec(.conv2d(out: 2, kernel: 3))])
        XCTAssertThrowsError(try Model(spec: conv, inputShape: [1, 5, 5])) {
            XCTAssertTrue("\($0)".hasPrefix("model: the last layer gives [2, 3, 3] per example"), "\($0)")
        }
    }

    func testAssignCopiesParametersAndBuffers() throws {
        let a = try Model(spec: spec, inputShape: [2, 2]), b = try Model(spec: spec, inputShape: [2, 2])
        a.initialize(rng: RandomStream(seed: 1))
        a.buffers.values.pointer[0] = 0.25
        b.assign(from: a)
        XCTAssertEqual(b.parameters.values.scalars, a.parameters.values.scalars)
        XCTAssertEqual(b.buffers.values.scalars, a.buffers.values.scalars)
        XCTAssertNotEqual(b.parameters.values.pointer, a.parameters.values.pointer)
    }
}
