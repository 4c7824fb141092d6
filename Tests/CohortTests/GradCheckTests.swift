import XCTest
@testable import Cohort

final class GradCheckTests: XCTestCase {
    func testEveryOpMatchesFiniteDifferences() throws {
        for check in OpChecks.all() {
            let r = try check.run()
            XCTAssertLessThan(r.worstRelativeError, 1e-2, "\(r.name)")
            XCTAssertGreaterThan(r.elements, 0, r.name)
        }
    }

    /// The checker must catch a wrong gradient: x * stop(x) has true derivative 2x, autodiff sees x.
    func testGradCheckCatchesAWrongGradient() throws {
        let x = Tensor(shape: [3], repeating: 0.7)
        let check = GradCheck("wrong", inputs: [x]) { t, v in
            try t.mul(v[0], Var(v[0].value))  // the second factor is a constant copy: gradient lost
        }
        XCTAssertGreaterThan(try check.run().worstRelativeError, 0.3)
    }
}
