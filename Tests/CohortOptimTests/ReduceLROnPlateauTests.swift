import Foundation
import XCTest
@testable import CohortOptim

final class ReduceLROnPlateauTests: XCTestCase {
    /// Records `metrics` and returns the factor after each.
    func factors(_ plateau: inout ReduceLROnPlateau, _ metrics: [Double]) -> [Float] {
        metrics.map { plateau.record(metric: $0); return plateau.currentFactor }
    }

    func testPatience() throws {
        // patience 2: the third epoch without improvement reduces, and the count starts again.
        var p = try ReduceLROnPlateau(options: .init(factor: 0.5, patience: 2))
        XCTAssertEqual(factors(&p, [1.0, 0.9, 0.95, 0.92, 0.91, 0.93, 0.94, 0.99]), [1, 1, 1, 1, 0.5, 0.5, 0.5, 0.25])
        XCTAssertEqual(p.state.best, 0.9)
        XCTAssertEqual(p.state.epochs, 8)
    }

    func testThresholdIsRelative() throws {
        // 0.99995 is not below 1 * (1 - 1e-4): no improvement; 0.9998 is.
        var p = try ReduceLROnPlateau(options: .init(patience: 0))
        XCTAssertEqual(factors(&p, [1.0, 0.99995]), [1, 0.1])
        var q = try ReduceLROnPlateau(options: .init(patience: 0))
        XCTAssertEqual(factors(&q, [1.0, 0.9998]), [1, 1])
    }

    func testAbsoluteThresholdInMaxMode() throws {
        // Accuracy must rise by more than 0.01.
        var p = try ReduceLROnPlateau(options: .init(mode: .max, factor: 0.5, patience: 0, threshold: 0.01, thresholdMode: .abs))
        XCTAssertEqual(factors(&p, [0.80, 0.82, 0.825, 0.84]), [1, 1, 0.5, 0.5])
    }

    func testCooldown() throws {
        // After a reduction, 2 epochs of cooldown count no bad epochs.
        var p = try ReduceLROnPlateau(options: .init(factor: 0.5, patience: 0, cooldown: 2))
        XCTAssertEqual(factors(&p, [1, 2, 2, 2, 2, 2]), [1, 0.5, 0.5, 0.5, 0.25, 0.25])
    }

    func testMinimumFactor() throws {
        // 1 -> 0.1 -> max(0.01, 0.05) = 0.05, then it stays.
        var p = try ReduceLROnPlateau(options: .init(patience: 0, minimumFactor: 0.05))
        XCTAssertEqual(factors(&p, [1, 1, 1, 1]), [1, 0.1, 0.05, 0.05])
    }

    func testNaNIsABadEpoch() throws {
        var p = try ReduceLROnPlateau(options: .init(patience: 1))
        XCTAssertEqual(factors(&p, [.nan, .nan, 1]), [1, 0.1, 0.1])
        XCTAssertEqual(p.state.best, 1)
    }

    func testStateRoundTripsThroughJSON() throws {
        var a = try ReduceLROnPlateau(options: .init(factor: 0.5, patience: 1, cooldown: 3))
        _ = factors(&a, [1, 2, 2])
        let data = try JSONEncoder().encode(a.state)
        var b = try ReduceLROnPlateau(options: a.options)
        try b.restore(JSONDecoder().decode(ReduceLROnPlateau.State.self, from: data))
        XCTAssertEqual(factors(&a, [3, 3, 3, 3, 0.5, 3]), factors(&b, [3, 3, 3, 3, 0.5, 3]))
        XCTAssertEqual(a.state, b.state)
        // Fresh state has no best: nothing infinite for JSON to choke on.
        XCTAssertNoThrow(try JSONEncoder().encode(ReduceLROnPlateau.State()))
    }

    func testRestoreRejectsImpossibleState() throws {
        var p = try ReduceLROnPlateau(options: .init(cooldown: 1, minimumFactor: 0.01))
        var s = ReduceLROnPlateau.State()
        s.currentFactor = 2
        XCTAssertEqual(thrownMessage { try p.restore(s) }, "plateau state: factor 2.0 is outside [0.01, 1]")
        s = ReduceLROnPlateau.State()
        s.cooldownRemaining = 5
        XCTAssertEqual(thrownMessage { try p.restore(s) }, "plateau state: negative counters or cooldown 5 above 1")
    }

    func testPlanMultipliesScheduleAndPlateau() throws {
        var plan = LearningRatePlan(schedule: StepDecaySchedule(base: 1, stepSize: 10, gamma: 0.5),
                                    plateau: try ReduceLROnPlateau(options: .init(factor: 0.1, patience: 0)))
        XCTAssertEqual(plan.learningRate(at: 10), 0.5)
        XCTAssertFalse(plan.record(metric: 1))
        XCTAssertTrue(plan.record(metric: 1))
        XCTAssertEqual(plan.learningRate(at: 10), 0.05, accuracy: 1e-9)
        var resumed = LearningRatePlan(schedule: plan.schedule, plateau: try ReduceLROnPlateau(options: .init(factor: 0.1, patience: 0)))
        try resumed.restore(plan.state)
        XCTAssertEqual(resumed.learningRate(at: 10), plan.learningRate(at: 10))
        var plain = LearningRatePlan(schedule: ConstantSchedule(rate: 1))
        XCTAssertEqual(thrownMessage { try plain.restore(plan.state) },
                       "schedule state: has a plateau state but this schedule has no plateau")
    }
}
