import XCTest
@testable import CohortOptim

/// Expected values from the torch.optim.Adam / AdamW formulas (see `AdamKernel`), worked out in
/// Double, lr 0.1, betas (0.9, 0.999), eps 1e-8. On step 1 the bias-corrected update is
/// lr * g / |g| = 0.1 sign(g).
final class AdamTests: XCTestCase {
    func testAdam() throws {
        // m2 = 0.09 g1 + 0.1 g2 = [0.145, -0.01, -0.13]; v2 = 0.000999 g1^2 + 0.001 g2^2;
        // bias corrections 1 - 0.9^2 = 0.19 and 1 - 0.999^2 = 0.001999
        let steps = try trajectory(Adam(parameterCount: 3), lr: 0.1)
        assertClose(steps[0], [0.9, -2.1, 0.6])
        assertClose(steps[1], [0.803481801, -2.09473684, 0.646946816])
        assertClose(steps[2], [0.728872951, -2.14456106, 0.651690162])
    }

    func testAdamCoupledWeightDecay() throws {
        // g' = g + 0.1 p enters both moments.
        let steps = try trajectory(Adam(parameterCount: 3, options: .init(weightDecay: 0.1)), lr: 0.1)
        assertClose(steps[0], [0.9, -2.1, 0.6])
        assertClose(steps[1], [0.80250297, -2.07485905, 0.643850892])
        assertClose(steps[2], [0.723179738, -2.11231018, 0.64416104])
    }

    func testAdamWDecoupledWeightDecay() throws {
        // p *= 1 - 0.1 * 0.1 before each Adam step on the raw gradient: p1 = 0.99 p0 - 0.1 sign(g1)
        let steps = try trajectory(AdamW(parameterCount: 3, options: .init(weightDecay: 0.1)), lr: 0.1)
        assertClose(steps[0], [0.89, -2.08, 0.595])
        assertClose(steps[1], [0.784581801, -2.05393684, 0.635996816])
        assertClose(steps[2], [0.702127133, -2.08322169, 0.634380194])
    }

    func testAdamWMaskSkipsDecayOutsideRanges() throws {
        // Element 2 is not decayed: it follows plain Adam (testAdam).
        let adamw = try AdamW(parameterCount: 3, options: .init(weightDecay: 0.1), decayRanges: [0..<2])
        let steps = try trajectory(adamw, lr: 0.1)
        assertClose(steps[0], [0.89, -2.08, 0.6])
        assertClose(steps[1], [0.784581801, -2.05393684, 0.646946816])
        assertClose(steps[2], [0.702127133, -2.08322169, 0.651690162])
    }

    func testAdamWWithoutDecayIsAdam() throws {
        let a = try trajectory(Adam(parameterCount: 3), lr: 0.1)
        let w = try trajectory(AdamW(parameterCount: 3, options: .init(weightDecay: 0)), lr: 0.1)
        XCTAssertEqual(a, w)
    }

    func testDefaultsAndValidation() throws {
        XCTAssertEqual(AdamW.Options().weightDecay, 0.01)
        XCTAssertEqual(Adam.Options().weightDecay, 0)
        XCTAssertEqual(thrownMessage { _ = try Adam(parameterCount: 3, options: .init(beta1: 1)) },
                       "adam.betas[0]: must be in [0.0, 1.0), got 1.0")
        XCTAssertEqual(thrownMessage { _ = try AdamW(parameterCount: 3, options: .init(eps: -1)) },
                       "adamw.eps: must be at least 0.0, got -1.0")
    }
}
