import XCTest
import Cohort
import CohortData
import CohortDistributed
import CohortNN
import CohortOptim
@testable import CohortTrain

/// The one training step every loop runs, on a small synthetic problem in one process.
final class TrainingStepTests: XCTestCase {
    let spec = ModelSpec(layers: [LayerSpec(.linear(out: 5)), LayerSpec(.tanh), LayerSpec(.linear(out: 3))])

    func data(count: Int = 16) throws -> Dataset {
        var rng = RandomStream(seed: 11)
        let features = (0..<(count * 4)).map { _ in rng.uniform(-1, 1) }
        let labels = (0..<count).map { Int32($0 % 3) }
        return try Dataset(float32: features, sampleShape: [4], labels: labels, classCount: 3)
    }

    func step(batch: Int, microBatches: Int, nonFinite: NonFinitePolicy = .stop,
              optimizer: OptimizerConfig = OptimizerConfig(.sgd(momentum: 0.9)), precision: MatmulPrecision = .fp32) throws -> TrainingStep {
        let model = try Model(spec: spec, inputShape: [4])
        model.initialize(rng: RandomStream(seed: 3))
        let sync = LocalGradients(count: model.parameters.count)
        let session = TrainingSession(model: model, optimizer: try optimizer.makeOptimizer(parameterCount: model.parameters.count), seed: 1,
                                      gradientStorage: sync.gradientStorage, precision: precision)
        let loader = try BatchLoader(dataset: try data(), batchSize: batch, normalization: .identity)
        return try TrainingStep(session: session, loader: loader, sync: sync, nonFinite: nonFinite, microBatches: microBatches,
                            randomness: RandomStream(seed: 1))
    }

    /// Two accumulated micro-batches of 4 make the same update as one batch of 8 (each loss is
    /// scaled by 1/2, and the gradient arena sums them).
    func testMicroBatchesAccumulateIntoOneUpdate() throws {
        let whole = try step(batch: 8, microBatches: 1), split = try step(batch: 4, microBatches: 2)
        XCTAssertEqual(whole.session.parameters.values.scalars, split.session.parameters.values.scalars)
        for s in 0..<3 {
            let positions = ArraySlice(Array((s * 5)..<(s * 5 + 8)).map { $0 % 16 })
            let a = try whole.run(positions: positions, stream: UInt64(s), number: s + 1, learningRate: 0.1)
            let b = try split.run(positions: positions, stream: UInt64(s), number: s + 1, learningRate: 0.1)
            XCTAssertEqual(a.loss, b.loss, accuracy: 1e-6)
            XCTAssertEqual(a.correct, b.correct)
            XCTAssertEqual(a.examples, 8)
            XCTAssertEqual(b.examples, 8)
        }
        for (x, y) in zip(whole.session.parameters.values.scalars, split.session.parameters.values.scalars) {
            XCTAssertEqual(x, y, accuracy: 1e-6)
        }
    }

    /// One step of plain SGD is w - lr * dL/dw, with the gradient from the session's own backward.
    func testAStepAppliesTheGradientOnce() throws {
        let s = try step(batch: 8, microBatches: 1, optimizer: OptimizerConfig(.sgd()))
        let positions = ArraySlice(Array(0..<8))
        let before = s.session.parameters.values.scalars
        // The gradient of the same batch, computed without the step.
        let probe = try step(batch: 8, microBatches: 1, optimizer: OptimizerConfig(.sgd()))
        probe.session.gradients.zero()
        let x = try probe.loader.load(positions)
        _ = try probe.session.forwardBackward(Var(x), labels: probe.loader.labels)
        let gradient = probe.session.gradients.values.scalars
        let outcome = try s.run(positions: positions, stream: 0, number: 1, learningRate: 0.5)
        XCTAssertTrue(outcome.applied)
        let after = s.session.parameters.values.scalars
        for i in before.indices { XCTAssertEqual(after[i], before[i] - 0.5 * gradient[i], accuracy: 1e-6) }
        XCTAssertGreaterThan(s.clock.updated, s.clock.started)
    }

    /// A NaN in the input stops the run at that step, or (skip) leaves the parameters untouched.
    func testNonFiniteStepsStopOrAreSkipped() throws {
        let positions = ArraySlice(Array(0..<8))
        let stop = try step(batch: 8, microBatches: 1)
        stop.faults = FaultInjection(nanStep: 2)
        _ = try stop.run(positions: positions, stream: 0, number: 1, learningRate: 0.1)
        XCTAssertThrowsError(try stop.run(positions: positions, stream: 1, number: 2, learningRate: 0.1)) {
            XCTAssertTrue("\($0)".hasPrefix("step 2: the loss is nan on this rank's batch"), "\($0)")
        }
        let skip = try step(batch: 8, microBatches: 1, nonFinite: .skip)
        skip.faults = FaultInjection(nanStep: 1)
        let before = skip.session.parameters.values.scalars
        var updates = 0
        skip.afterUpdate = { updates += 1 }
        let outcome = try skip.run(positions: positions, stream: 0, number: 1, learningRate: 0.1)
        XCTAssertFalse(outcome.applied)
        XCTAssertEqual(updates, 0)
        XCTAssertEqual(skip.session.parameters.values.scalars, before)
        XCTAssertTrue(try skip.run(positions: positions, stream: 1, number: 2, learningRate: 0.1).applied)
        XCTAssertEqual(updates, 1)
    }

    func testOneProcessAndHogwildSynchroniseNothing() throws {
        let model = try Model(spec: spec, inputShape: [4])
        var config = DistributedConfig()
        let one = try NodeTopology(world: SingleProcessCommunicator(), ranksPerNode: nil)
        XCTAssertEqual(try GradientSyncFactory.make(config, parameters: model.parameters, topology: one).kind, .none)
        config.mode = .hogwild
        XCTAssertEqual(try GradientSyncFactory.make(config, parameters: model.parameters, topology: one).kind, .none)
    }

    /// bf16 steps follow fp32 steps within bf16's rounding, and every forward after an update uses
    /// the updated weights: the bf16 copy is refreshed once per update, never left stale.
    func testBF16StepsTrackFP32AndUseTheUpdatedWeights() throws {
        let bf16: MatmulPrecision = CPUFeatures.avx512BF16 ? .bf16 : .bf16Emulated
        let sgd = OptimizerConfig(.sgd())
        let exact = try step(batch: 8, microBatches: 1, optimizer: sgd), low = try step(batch: 4, microBatches: 2, optimizer: sgd, precision: bf16)
        for s in 0..<4 {
            let positions = ArraySlice(Array((s * 5)..<(s * 5 + 8)).map { $0 % 16 })
            // Two bf16 micro-batches of 4 against one fp32 batch of 8: the same update.
            let a = try exact.run(positions: positions, stream: UInt64(s), number: s + 1, learningRate: 0.5)
            let b = try low.run(positions: positions, stream: UInt64(s), number: s + 1, learningRate: 0.5)
            XCTAssertEqual(a.loss, b.loss, accuracy: 0.02, "step \(s)")
        }
        for (x, y) in zip(exact.session.parameters.values.scalars, low.session.parameters.values.scalars) {
            XCTAssertEqual(x, y, accuracy: 0.02)
        }
        // The session's bf16 forward against an fp32 forward of the very same parameters.
        let x = Var(try low.loader.load(ArraySlice(Array(0..<4))))
        let tape = low.session.tape
        tape.reset()
        let logits = try low.session.model.network.forward(x, low.session.context).value.scalars
        let check = ForwardContext(tape: Tape(recording: false), training: true)
        check.tape.reset()
        let reference = try low.session.model.network.forward(x, check).value.scalars
        for (p, q) in zip(logits, reference) { XCTAssertEqual(p, q, accuracy: 0.01) }
        // Changing the weights without telling the context leaves the copy stale; telling it does not.
        let w = low.session.parameters.values
        for i in 0..<w.count { w.pointer[i] *= -1 }
        tape.reset()
        let stale = try low.session.model.network.forward(x, low.session.context).value.scalars
        low.session.context.parametersChanged()
        tape.reset()
        let fresh = try low.session.model.network.forward(x, low.session.context).value.scalars
        check.tape.reset()
        let flipped = try low.session.model.network.forward(x, check).value.scalars
        XCTAssertGreaterThan(zip(stale, flipped).map { abs($0 - $1) }.max()!, 0.1)
        for (p, q) in zip(fresh, flipped) { XCTAssertEqual(p, q, accuracy: 0.01) }
    }
}
