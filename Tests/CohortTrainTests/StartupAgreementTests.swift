import XCTest
@testable import CohortTrain

/// The facts ranks compare before training are the resolved config's key paths as `cohort compare`
/// flattens them, empty maps and lists included.
final class StartupAgreementTests: XCTestCase {
    func testEmptyMapsAndListsAreFactsAndTheirDifferenceIsNamed() throws {
        let with = try StartupAgreement.facts(configYAML: "name: a\ndata: {augment: {}}\nmodel: {layers: []}\n", resume: false)
        let without = try StartupAgreement.facts(configYAML: "name: a\ndata: {}\nmodel: {layers: []}\n", resume: false)
        XCTAssertTrue(with.contains { $0 == ("data.augment", "{}") }, "\(with)")
        XCTAssertTrue(with.contains { $0 == ("model.layers", "[]") }, "\(with)")
        XCTAssertEqual(try ResolvedConfig(yaml: "data: {augment: {}}\n", source: "x").entries.map(\.key), ["data.augment"])
        let encode = { (facts: [(String, String)]) in facts.map { "\($0.0)\u{1}\($0.1)" }.joined(separator: "\u{0}") }
        let difference = try XCTUnwrap(StartupAgreement.firstDifference([encode(with), encode(without)]))
        XCTAssertEqual(difference.0, 1)
        XCTAssertTrue(difference.1.contains("data.augment is {} on rank 0 but (not set) on rank 1"), difference.1)
    }
}
