import XCTest
@testable import CohortOptim

/// Expected values from the torch.optim.RMSprop formulas (see `RMSProp`), worked out in Double, lr 0.01.
final class RMSPropTests: XCTestCase {
    func testPlain() throws {
        // alpha 0.9: sq1 = 0.1 g1^2, so g1 / sqrt(sq1) = sqrt(10) sign(g1); sq2 = [0.1225, 0.19, 0.385]
        let steps = try trajectory(RMSProp(parameterCount: 3, options: .init(alpha: 0.9)), grads: Array(Tiny.grads.prefix(2)), lr: 0.01)
        assertClose(steps[0], [0.968377225, -2.03162278, 0.531622776])
        assertClose(steps[1], [0.939805798, -2.0086812, 0.523564547])
    }

    func testDefaultAlpha() throws {
        // alpha 0.99: g1 / sqrt(0.01 g1^2) = 10 sign(g1); sq2 = [0.012475, 0.0199, 0.0421]
        let steps = try trajectory(RMSProp(parameterCount: 3), grads: Array(Tiny.grads.prefix(2)), lr: 0.01)
        assertClose(steps[0], [0.9, -2.1, 0.6])
        assertClose(steps[1], [0.810467732, -2.02911187, 0.575631487])
    }

    func testCentered() throws {
        // ga1 = 0.1 g1; sq1 - ga1^2 = [0.0225, 0.09, 0.36] -> avg = [0.15, 0.3, 0.6], g/avg = 10/3 sign(g1)
        // ga2 = [0.145, -0.01, -0.13]; sq2 - ga2^2 = [0.101475, 0.1899, 0.3681]
        let steps = try trajectory(RMSProp(parameterCount: 3, options: .init(alpha: 0.9, centered: true)),
                                   grads: Array(Tiny.grads.prefix(2)), lr: 0.01)
        assertClose(steps[0], [1 - 1.0 / 30, -2 - 1.0 / 30, 0.5 + 1.0 / 30])
        assertClose(steps[1], [0.935274563, -2.01038572, 0.525092197])
    }

    func testMomentum() throws {
        // buf1 = sqrt(10) sign(g1); buf2 = 0.5 buf1 + g2 / sqrt(sq2)
        let steps = try trajectory(RMSProp(parameterCount: 3, options: .init(alpha: 0.9, momentum: 0.5)),
                                   grads: Array(Tiny.grads.prefix(2)), lr: 0.01)
        assertClose(steps[0], [0.968377225, -2.03162278, 0.531622776])
        assertClose(steps[1], [0.92399441, -2.02449259, 0.539375935])
    }

    func testCoupledWeightDecay() throws {
        // g1' = [0.6, 0.8, -1.95]: still sqrt(10) sign on step 1; g2' = g2 + 0.1 p1
        let steps = try trajectory(RMSProp(parameterCount: 3, options: .init(alpha: 0.9, weightDecay: 0.1)),
                                   grads: Array(Tiny.grads.prefix(2)), lr: 0.01)
        assertClose(steps[0], [0.968377225, -2.03162278, 0.531622776])
        assertClose(steps[1], [0.940308977, -2.00487659, 0.52256335])
    }

    func testStateNamesFollowOptions() throws {
        XCTAssertEqual(Set(try RMSProp(parameterCount: 3).state.keys), ["rmsprop.square_avg", "step"])
        XCTAssertEqual(Set(try RMSProp(parameterCount: 3, options: .init(momentum: 0.9, centered: true)).state.keys),
                       ["rmsprop.square_avg", "rmsprop.grad_avg", "rmsprop.momentum", "step"])
    }
}
