import CohortFormats
import Foundation
import XCTest

final class ClassificationReportTests: XCTestCase {
    // labels:      0 0 0 1 1 2 2 2 2
    // predictions: 0 0 1 1 2 2 2 0 2
    let labels = [0, 0, 0, 1, 1, 2, 2, 2, 2]
    let predictions = [0, 0, 1, 1, 2, 2, 2, 0, 2]

    func testScoresAgainstHandComputedValues() throws {
        let report = try ClassificationReport(predictions: predictions, labels: labels, classCount: 4,
                                              classNames: ["cat", "dog", "bird", "fish"])
        XCTAssertEqual(report.sampleCount, 9)
        XCTAssertEqual(report.correctCount, 6)
        XCTAssertEqual(report.errorCount, 3)
        XCTAssertEqual(report.accuracy, 6.0 / 9, accuracy: 1e-12)
        XCTAssertEqual(report.confusion, [[2, 1, 0, 0], [0, 1, 1, 0], [1, 0, 3, 0], [0, 0, 0, 0]])
        let cat = report.classes[0], dog = report.classes[1], bird = report.classes[2], fish = report.classes[3]
        XCTAssertEqual(cat.name, "cat")
        XCTAssertEqual(cat.precision, 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(cat.recall, 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(dog.precision, 0.5, accuracy: 1e-12)
        XCTAssertEqual(dog.recall, 0.5, accuracy: 1e-12)
        XCTAssertEqual(bird.precision, 0.75, accuracy: 1e-12)
        XCTAssertEqual(bird.recall, 0.75, accuracy: 1e-12)
        XCTAssertEqual(bird.f1, 0.75, accuracy: 1e-12)
        XCTAssertEqual([cat.support, dog.support, bird.support, fish.support], [3, 2, 4, 0])
        // A class never seen nor predicted scores 0 and still counts in the macro averages.
        XCTAssertEqual([fish.precision, fish.recall, fish.f1], [0, 0, 0])
        XCTAssertEqual(report.macroPrecision, (2.0 / 3 + 0.5 + 0.75) / 4, accuracy: 1e-12)
        XCTAssertEqual(report.macroRecall, (2.0 / 3 + 0.5 + 0.75) / 4, accuracy: 1e-12)
        XCTAssertEqual(report.macroF1, (2.0 / 3 + 0.5 + 0.75) / 4, accuracy: 1e-12)
    }

    func testF1IsHarmonicMeanWhenPrecisionAndRecallDiffer() throws {
        let report = try ClassificationReport(predictions: [0, 0, 0, 1], labels: [0, 1, 1, 1], classCount: 2)
        XCTAssertEqual(report.classes[0].precision, 1.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(report.classes[0].recall, 1)
        XCTAssertEqual(report.classes[0].f1, 0.5, accuracy: 1e-12)
        XCTAssertEqual(report.classes[1].name, "1")
    }

    func testMarkdown() throws {
        let report = try ClassificationReport(predictions: predictions, labels: labels, classCount: 4,
                                              classNames: ["cat", "dog", "bird", "a|b"])
        let markdown = report.markdown(title: "Test set")
        XCTAssertTrue(markdown.hasPrefix("## Test set\n\nAccuracy **66.67%** on 9 samples (3 errors).\n"), markdown)
        XCTAssertTrue(markdown.contains("| cat | 0.6667 | 0.6667 | 0.6667 | 3 |"), markdown)
        XCTAssertTrue(markdown.contains("| a\\|b | 0.0000 | 0.0000 | 0.0000 | 0 |"), markdown)
        XCTAssertTrue(markdown.contains("| **macro average** | 0.4792 | 0.4792 | 0.4792 | 9 |"), markdown)
        XCTAssertTrue(markdown.contains("| true \\ predicted | cat | dog | bird | a\\|b |\n|---|---:|---:|---:|---:|\n| cat | 2 | 1 | 0 | 0 |"), markdown)
        XCTAssertTrue(markdown.contains("| bird | 1 | 0 | 3 | 0 |"), markdown)
    }

    func testJSONRoundTrips() throws {
        let report = try ClassificationReport(predictions: predictions, labels: labels, classCount: 3)
        let data = try report.jsonData()
        XCTAssertEqual(try JSONDecoder().decode(ClassificationReport.self, from: data), report)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertEqual(object["errorCount"] as? Int, 3)
        XCTAssertEqual(object["confusion"] as? [[Int]], [[2, 1, 0], [0, 1, 1], [1, 0, 3]])
    }

    func testInvalidInputs() {
        XCTAssertEqual(thrownMessage(try ClassificationReport(predictions: [0], labels: [0, 1], classCount: 2)),
                       "classification report: 1 predictions but 2 labels")
        XCTAssertEqual(thrownMessage(try ClassificationReport(predictions: [0, 5], labels: [0, 1], classCount: 2)),
                       "classification report: sample 1 has label 1 and prediction 5, outside 0..<2")
        XCTAssertThrowsError(try ClassificationReport(predictions: [-1], labels: [0], classCount: 2))
        XCTAssertThrowsError(try ClassificationReport(predictions: [], labels: [], classCount: 0))
        XCTAssertThrowsError(try ClassificationReport(predictions: [], labels: [], classCount: 2, classNames: ["a"]))
        XCTAssertEqual(try ClassificationReport(predictions: [], labels: [], classCount: 2).accuracy, 0)
    }
}
