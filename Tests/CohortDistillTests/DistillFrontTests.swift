import XCTest
@testable import CohortDistill

/// The front of validation accuracy against speed, and the default choice, worked by hand.
final class DistillFrontTests: XCTestCase {
    func row(_ name: String, _ role: DistillReport.Role, validation: Double?, speed: Double, student: String? = "s") -> DistillReport.Row {
        .init(name: name, role: role, accuracy: 0.5, errors: 0, parameters: 1, nonzero: 1, bytes: 1, weightBytes: 1, samplesPerSecond: speed,
              file: nil, student: role == .teacher ? nil : student, validationAccuracy: validation)
    }

    func testTheFrontIsEveryPointNoOtherBeatsOnBoth() {
        let points: [(accuracy: Double?, speed: Double)] = [(0.90, 100), (0.88, 1000), (0.87, 500), (0.88, 1000), (nil, 1e6), (0.80, 5000)]
        // (0.87, 500) is beaten by (0.88, 1000); the two equal points do not beat each other; no validation: on no front.
        XCTAssertEqual(DistillFront.front(points), [true, true, false, true, false, true])
    }

    func testTheChoiceIsTheFastestStudentWithinThePointsOfTheTeacher() throws {
        var rows = [row("teacher", .teacher, validation: 0.92, speed: 100), row("a", .distilled, validation: 0.915, speed: 2000),
                    row("a int8", .int8, validation: 0.913, speed: 3000), row("b", .distilled, validation: 0.85, speed: 50000),
                    row("c", .scratch, validation: 0.90, speed: 2500)]
        let choice = try XCTUnwrap(DistillFront.mark(&rows, within: 1.0))
        XCTAssertEqual(choice.row, "a int8", "b is faster but 7 points below; c is off the front (a int8 beats it)")
        XCTAssertTrue(choice.reason.contains("within 1.0 point of the teacher's validation accuracy (91.30% against 92.00%), 30.0x"), choice.reason)
        XCTAssertEqual(rows.map(\.onFront), [true, true, true, true, false])
        // Nothing within 0.1 point: the most accurate student on validation.
        let strict = try XCTUnwrap(DistillFront.mark(&rows, within: 0.1))
        XCTAssertEqual(strict.row, "a")
        XCTAssertTrue(strict.reason.hasPrefix("no student came within 0.1 points"), strict.reason)
        // No validation split: no choice, and no front.
        var blind = [row("teacher", .teacher, validation: nil, speed: 100), row("a", .distilled, validation: nil, speed: 2000)]
        XCTAssertNil(DistillFront.mark(&blind, within: 1))
        XCTAssertEqual(blind.map(\.onFront), [nil, nil])
    }
}
