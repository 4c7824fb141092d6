import Foundation
import XCTest
@testable import CohortOptim

/// Values at chosen steps, worked out from each schedule's formula.
final class ScheduleTests: XCTestCase {
    func rates(_ s: any LearningRateSchedule, _ steps: [Int]) -> [Float] { steps.map { s.learningRate(at: $0) } }

    func testConstant() {
        XCTAssertEqual(rates(ConstantSchedule(rate: 0.3), [0, 1, 1_000_000]), [0.3, 0.3, 0.3])
    }

    func testStepDecay() {
        // 0.1 * 0.5^floor(t / 3)
        assertClose(rates(StepDecaySchedule(base: 0.1, stepSize: 3, gamma: 0.5), [0, 2, 3, 5, 6, 9]),
                    [0.1, 0.1, 0.05, 0.05, 0.025, 0.0125], accuracy: 1e-8)
    }

    func testMultiStep() {
        // Milestones given unsorted: gamma applies at 2 and at 5.
        assertClose(rates(MultiStepSchedule(base: 1, milestones: [5, 2], gamma: 0.1), [0, 1, 2, 4, 5, 100]),
                    [1, 1, 0.1, 0.1, 0.01, 0.01], accuracy: 1e-8)
    }

    func testExponential() {
        assertClose(rates(ExponentialSchedule(base: 2, gamma: 0.5), [0, 1, 3]), [2, 1, 0.25], accuracy: 0)
    }

    func testCosineAnnealing() {
        // min + (base - min) (1 + cos(pi t / 4)) / 2 with base 1, min 0.2: t=1 -> 0.2 + 0.4 (1 + sqrt(1/2))
        assertClose(rates(CosineAnnealingSchedule(base: 1, minimum: 0.2, period: 4), [0, 1, 2, 4, 10]),
                    [1, 0.2 + 0.4 * (1 + 0.5.squareRoot()), 0.6, 0.2, 0.2], accuracy: 1e-7)
    }

    func testWarmupRestartsTheInnerClock() {
        // f(t) = 0.2 + 0.8 t / 4 times inner(0) = 1; then inner(t - 4) = 0.5^floor((t - 4) / 2)
        let s = LinearWarmupSchedule(startFactor: 0.2, steps: 4, clock: .restart, then: StepDecaySchedule(base: 1, stepSize: 2, gamma: 0.5))
        assertClose(rates(s, [0, 1, 3, 4, 5, 6, 8]), [0.2, 0.4, 0.8, 1, 1, 0.5, 0.25], accuracy: 1e-7)
    }

    func testWarmupContinuesTheInnerClock() {
        // inner(t) * f(t) during warm-up, inner(t) after: inner = 0.5^floor(t / 2)
        let s = LinearWarmupSchedule(startFactor: 0.2, steps: 4, clock: .continue, then: StepDecaySchedule(base: 1, stepSize: 2, gamma: 0.5))
        assertClose(rates(s, [0, 1, 2, 3, 4, 5, 6]), [0.2, 0.4, 0.3, 0.4, 0.25, 0.25, 0.125], accuracy: 1e-7)
    }

    func testEpochClock() {
        // 10 steps per epoch, gamma every 2 epochs.
        let s = EpochClockSchedule(stepsPerEpoch: 10, inner: StepDecaySchedule(base: 1, stepSize: 2, gamma: 0.1))
        assertClose(rates(s, [0, 19, 20, 39, 40]), [1, 1, 0.1, 0.1, 0.01], accuracy: 1e-8)
    }
}
