import Cohort
import XCTest
@testable import CohortOptim

/// Save after some steps, restore into a fresh optimizer, continue: bit-identical to never stopping.
final class OptimizerStateTests: XCTestCase {
    static let count = 100

    static let makers: [(String, () throws -> any Optimizer)] = [
        ("sgd", { try SGD(parameterCount: count, options: .init(momentum: 0.9, nesterov: true, weightDecay: 0.01)) }),
        ("adagrad", { try Adagrad(parameterCount: count, options: .init(initialAccumulator: 0.1, lrDecay: 0.01)) }),
        ("rmsprop", { try RMSProp(parameterCount: count, options: .init(momentum: 0.9, centered: true)) }),
        ("adam", { try Adam(parameterCount: count, options: .init(weightDecay: 0.01)) }),
        ("adamw", { try AdamW(parameterCount: count, decayRanges: [0..<50]) }),
    ]

    func gradient(_ step: Int) -> Tensor { randomBuffer(Self.count, seed: 7 + UInt64(step)) }

    func testRestoreContinuesBitIdentically() throws {
        for (name, make) in Self.makers {
            let straight = try make()
            let p = randomBuffer(Self.count, seed: 3)
            var saved: [String: Tensor] = [:]
            var savedParameters: Tensor?
            for s in 0..<6 {
                if s == 3 { saved = straight.state; savedParameters = p.copy() }
                straight.step(parameters: p, gradients: gradient(s), learningRate: 0.01)
            }
            // The snapshot is a copy: later steps did not change it.
            XCTAssertEqual(try OptimizerState.step(in: saved), 3, name)

            let resumed = try make()
            try resumed.loadState(saved)
            XCTAssertEqual(resumed.stepCount, 3, name)
            let q = savedParameters!
            for s in 3..<6 { resumed.step(parameters: q, gradients: gradient(s), learningRate: 0.01) }
            XCTAssertEqual(p.scalars.map(\.bitPattern), q.scalars.map(\.bitPattern), name)
            XCTAssertEqual(resumed.state.mapValues { $0.scalars }, straight.state.mapValues { $0.scalars }, name)
        }
    }

    func testStepSurvivesFloatStorage() throws {
        // Beyond 2^24 a single Float would round the step.
        let step = (1 << 24) + 3
        XCTAssertEqual(try OptimizerState.step(in: ["step": OptimizerState.stepTensor(step)]), step)
    }

    func testLoadStateRejectsMismatches() throws {
        let adam = try Adam(parameterCount: Self.count)
        let good = adam.state
        var missing = good
        missing["adam.v"] = nil
        XCTAssertEqual(thrownMessage { try adam.loadState(missing, step: 0) },
                       "adam state: missing buffer 'adam.v' (expected: adam.m, adam.v, step)")
        var extra = good
        extra["momentum"] = Tensor(zeros: [Self.count])
        XCTAssertEqual(thrownMessage { try adam.loadState(extra, step: 0) },
                       "adam state: unexpected buffer 'momentum' (expected: adam.m, adam.v, step)")
        var short = good
        short["adam.m"] = Tensor(zeros: [99])
        XCTAssertEqual(thrownMessage { try adam.loadState(short, step: 0) }, "adam state 'adam.m': 99 elements, expected 100")
        XCTAssertEqual(thrownMessage { try adam.loadState(good, step: 5) }, "adam state: stored step 0 differs from the step given, 5")
        XCTAssertEqual(thrownMessage { try adam.loadState([:]) }, "optimizer state: missing 'step'")
        XCTAssertEqual(thrownMessage { try adam.loadState(["step": Tensor(zeros: [1])]) }, "optimizer state 'step': 1 elements, expected 2")
    }

    func testFailedLoadChangesNothing() throws {
        let sgd = try SGD(parameterCount: 3, options: .init(momentum: 0.9))
        _ = try trajectory(sgd, lr: 0.1)
        let before = sgd.state.mapValues(\.scalars)
        var bad = sgd.state
        bad["momentum"] = try Tensor(shape: [2], scalars: [9, 9])
        XCTAssertThrowsError(try sgd.loadState(bad))
        XCTAssertEqual(sgd.state.mapValues(\.scalars), before)
        XCTAssertEqual(sgd.stepCount, 3)
    }

    func testStateWithoutStepKeyUsesGivenStep() throws {
        // A checkpoint may keep the step elsewhere: the buffers alone plus an explicit step restore.
        let sgd = try SGD(parameterCount: 3, options: .init(momentum: 0.9))
        try sgd.loadState(["momentum": Tensor(shape: [3], scalars: [1, 2, 3])], step: 4)
        XCTAssertEqual(sgd.stepCount, 4)
        XCTAssertEqual(sgd.state["momentum"]!.scalars, [1, 2, 3])
        // Not the first step any more: buf = 0.9 [1, 2, 3] + g, not g.
        let steps = try trajectory(sgd, grads: [[1, 1, 1]], lr: 1)
        assertClose(steps[0], [1 - 1.9, -2 - 2.8, 0.5 - 3.7])
    }
}
