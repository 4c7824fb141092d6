import XCTest
@testable import CohortOptim

/// p0 = [1, -2, 0.5], g1 = [0.5, 1, -2], g2 = [1, -1, 0.5], g3 = [0, 2, 1]; expected values worked
/// out from the torch.optim.SGD formulas.
final class SGDTests: XCTestCase {
    func testPlain() throws {
        // p -= 0.1 * g
        let steps = try trajectory(SGD(parameterCount: 3), grads: Array(Tiny.grads.prefix(2)), lr: 0.1)
        assertClose(steps[0], [0.95, -2.1, 0.7])
        assertClose(steps[1], [0.85, -2.0, 0.65])
    }

    func testMomentumStartsWithTheGradient() throws {
        // buf1 = g1; buf2 = 0.9 buf1 + g2 = [1.45, -0.1, -1.3]; buf3 = 0.9 buf2 + g3 = [1.305, 1.91, -0.17]
        let steps = try trajectory(SGD(parameterCount: 3, options: .init(momentum: 0.9)), lr: 0.1)
        assertClose(steps[0], [0.95, -2.1, 0.7])
        assertClose(steps[1], [0.805, -2.09, 0.83])
        assertClose(steps[2], [0.6745, -2.281, 0.847])
    }

    func testDampeningSkipsTheFirstStep() throws {
        // buf1 = g1 (undamped); buf2 = 0.9 buf1 + 0.5 g2 = [0.95, 0.4, -1.55]
        let steps = try trajectory(SGD(parameterCount: 3, options: .init(momentum: 0.9, dampening: 0.5)),
                                   grads: Array(Tiny.grads.prefix(2)), lr: 0.1)
        assertClose(steps[0], [0.95, -2.1, 0.7])
        assertClose(steps[1], [0.855, -2.14, 0.855])
    }

    func testNesterov() throws {
        // d1 = g1 + 0.9 g1 = [0.95, 1.9, -3.8]; d2 = g2 + 0.9 [1.45, -0.1, -1.3] = [2.305, -1.09, -0.67]
        let steps = try trajectory(SGD(parameterCount: 3, options: .init(momentum: 0.9, nesterov: true)),
                                   grads: Array(Tiny.grads.prefix(2)), lr: 0.1)
        assertClose(steps[0], [0.905, -2.19, 0.88])
        assertClose(steps[1], [0.6745, -2.081, 0.947])
    }

    func testCoupledWeightDecay() throws {
        // g1' = g1 + 0.1 p0 = [0.6, 0.8, -1.95]; g2' = g2 + 0.1 p1 = [1.094, -1.208, 0.5695]
        let steps = try trajectory(SGD(parameterCount: 3, options: .init(weightDecay: 0.1)), grads: Array(Tiny.grads.prefix(2)), lr: 0.1)
        assertClose(steps[0], [0.94, -2.08, 0.695])
        assertClose(steps[1], [0.8306, -1.9592, 0.63805])
    }

    func testWeightDecayWithMomentum() throws {
        // buf2 = 0.9 [0.6, 0.8, -1.95] + [1.094, -1.208, 0.5695] = [1.634, -0.488, -1.1855]
        let steps = try trajectory(SGD(parameterCount: 3, options: .init(momentum: 0.9, weightDecay: 0.1)),
                                   grads: Array(Tiny.grads.prefix(2)), lr: 0.1)
        assertClose(steps[0], [0.94, -2.08, 0.695])
        assertClose(steps[1], [0.7766, -2.0312, 0.81355])
    }

    func testWeightDecayMaskLeavesBiasesAlone() throws {
        // Element 2 is outside the mask: it moves by -0.1 g only.
        let sgd = try SGD(parameterCount: 3, options: .init(weightDecay: 0.1), decayRanges: [0..<2])
        let steps = try trajectory(sgd, grads: Array(Tiny.grads.prefix(2)), lr: 0.1)
        assertClose(steps[0], [0.94, -2.08, 0.7])
        assertClose(steps[1], [0.8306, -1.9592, 0.65])
    }

    func testStepCounterAndStateNames() throws {
        let plain = try SGD(parameterCount: 3)
        XCTAssertEqual(Set(plain.state.keys), ["step"])
        let sgd = try SGD(parameterCount: 3, options: .init(momentum: 0.9))
        XCTAssertEqual(sgd.stepCount, 0)
        _ = try trajectory(sgd, lr: 0.1)
        XCTAssertEqual(sgd.stepCount, 3)
        XCTAssertEqual(Set(sgd.state.keys), ["momentum", "step"])
        XCTAssertEqual(try OptimizerState.step(in: sgd.state), 3)
        // The momentum buffer after three steps, from testMomentumStartsWithTheGradient.
        assertClose(sgd.state["momentum"]!.scalars, [1.305, 1.91, -0.17])
    }

    func testInvalidOptions() {
        XCTAssertEqual(thrownMessage { _ = try SGD(parameterCount: 3, options: .init(momentum: 1.5)) },
                       "sgd.momentum: must be in [0.0, 1.0), got 1.5")
        XCTAssertEqual(thrownMessage { _ = try SGD(parameterCount: 3, options: .init(nesterov: true)) },
                       "sgd.nesterov: needs momentum > 0 and dampening 0, got momentum 0.0, dampening 0.0")
        XCTAssertEqual(thrownMessage { _ = try SGD(parameterCount: 3, options: .init(weightDecay: -1)) },
                       "sgd.weight_decay: must be at least 0.0, got -1.0")
        XCTAssertEqual(thrownMessage { _ = try SGD(parameterCount: 3, decayRanges: [0..<4]) },
                       "weight decay range 0..<4 is outside the arena of 3 floats")
    }
}
