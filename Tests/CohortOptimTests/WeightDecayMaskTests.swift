import XCTest
@testable import CohortOptim

final class WeightDecayMaskTests: XCTestCase {
    func testRangesBecomeACoveringPartition() throws {
        let mask = try WeightDecayMask(ranges: [8..<10, 2..<4, 3..<6, 6..<6], count: 12)
        XCTAssertEqual(mask.runs.map(\.range), [0..<2, 2..<6, 6..<8, 8..<10, 10..<12])
        XCTAssertEqual(mask.runs.map(\.decays), [false, true, false, true, false])
    }

    func testAllAndNone() throws {
        XCTAssertEqual(WeightDecayMask.all(5).runs.map(\.range), [0..<5])
        let none = try WeightDecayMask(ranges: [], count: 5)
        XCTAssertEqual(none.runs.map(\.decays), [false])
    }

    func testOutOfRange() {
        XCTAssertEqual(thrownMessage { _ = try WeightDecayMask(ranges: [-1..<2], count: 5) },
                       "weight decay range -1..<2 is outside the arena of 5 floats")
    }
}
