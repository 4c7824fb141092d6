import XCTest
@testable import CohortOptim

/// Expected values from the torch.optim.Adagrad formulas (see `Adagrad`), worked out in Double.
final class AdagradTests: XCTestCase {
    func testPlain() throws {
        // sum1 = g1^2, so p1 = p0 - 0.1 sign(g1); sum2 = [1.25, 2, 4.25]
        let steps = try trajectory(Adagrad(parameterCount: 3), grads: Array(Tiny.grads.prefix(2)), lr: 0.1)
        assertClose(steps[0], [0.9, -2.1, 0.6])
        assertClose(steps[1], [0.9 - 0.1 / 1.25.squareRoot(), -2.1 + 0.1 / 2.0.squareRoot(), 0.6 - 0.05 / 4.25.squareRoot()])
    }

    func testInitialAccumulatorAndLearningRateDecay() throws {
        // sum starts at 0.75: sum1 = [1, 1.75, 4.75], sum2 = [2, 2.75, 5]; clr2 = 0.1 / (1 + 0.5)
        let adagrad = try Adagrad(parameterCount: 3, options: .init(initialAccumulator: 0.75, lrDecay: 0.5))
        let steps = try trajectory(adagrad, grads: Array(Tiny.grads.prefix(2)), lr: 0.1)
        assertClose(steps[0], [0.95, -2.07559289, 0.591766294])
        assertClose(steps[1], [0.902859548, -2.03539138, 0.576859174])
    }

    func testCoupledWeightDecay() throws {
        // g1' = [0.6, 0.8, -1.95] -> p1 = p0 - 0.1 sign; g2' = g2 + 0.1 p1 = [1.09, -1.21, 0.56]
        let steps = try trajectory(Adagrad(parameterCount: 3, options: .init(weightDecay: 0.1)), grads: Array(Tiny.grads.prefix(2)), lr: 0.1)
        assertClose(steps[0], [0.9, -2.1, 0.6])
        assertClose(steps[1], [0.812395384, -2.01658346, 0.572397713])
    }

    func testEpsilonKeepsZeroGradientsStill() throws {
        // sum = 0 and g = 0: 0 / (0 + eps) = 0, no NaN.
        let steps = try trajectory(Adagrad(parameterCount: 3), grads: [[0, 0, 0]], lr: 0.1)
        assertClose(steps[0], [1, -2, 0.5], accuracy: 0)
    }
}
