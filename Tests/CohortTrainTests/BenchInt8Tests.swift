import XCTest
import Foundation

/// `cohort bench int8` runs on every CPU: Cohort's int8 kernel against the fp32 product of each
/// shape (and oneDNN's int8 where it is exact), after a line with this core's ceiling, measured
/// for the vector paths and said to be absent for the portable one (COHORT_CPU=portable in CI's
/// capped pass).
final class BenchInt8Tests: XCTestCase {
    func testRunsOnThisCPUWithItsCeiling() throws {
        let r = try CLI.run(["cohort", "bench", "int8", "--rounds", "1", "--seconds", "0.002", "--batches", "2", "--threads", "1"],
                            timeout: 300)
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        let ceiling = try XCTUnwrap(lines.first { $0.hasPrefix("ceiling") }, r.stdout)
        let path = try XCTUnwrap(lines.first?.split(separator: ",").first?.split(separator: " ").last, r.stdout)
        if path == "portable" {
            XCTAssertTrue(ceiling.contains("none measured for the portable path"), ceiling)
        } else {
            let ratio = try XCTUnwrap(ceiling.split(separator: " ").last.flatMap { Double($0) }, ceiling)
            XCTAssertGreaterThan(ratio, 0.1, ceiling)
        }
        // One row per Linear shape, each with a ratio against fp32 (the first rival).
        let rows = lines.filter { $0.hasPrefix("student") || $0.hasPrefix("mlp") }
        XCTAssertEqual(rows.count, 5, r.stdout)
        for row in rows { XCTAssertGreaterThanOrEqual(row.split(separator: "|").count, 5, row) }
    }
}
