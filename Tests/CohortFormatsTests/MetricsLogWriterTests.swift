import CohortFormats
import Foundation
import XCTest

final class MetricsLogWriterTests: XCTestCase {
    func testLinesKeepKeyOrderAndAreVisibleImmediately() throws {
        let url = try makeTemporaryDirectory(self).appendingPathComponent("metrics.jsonl")
        let log = try MetricsLogWriter(url: url)
        try log.append(["step": 100, "epoch": 1, "split": "train", "loss": 0.412, "accuracy": 0.87, "lr": 0.01])
        // No flush or close: each line is already in the file.
        XCTAssertEqual(try String(contentsOf: url, encoding: .utf8),
                       #"{"step":100,"epoch":1,"split":"train","loss":0.412,"accuracy":0.87,"lr":0.01}"# + "\n")
        try log.append([("split", .string("eval \"quoted\"\n")), ("loss", .double(.nan)), ("tiny", .double(1e-7)), ("step", .int(-2))])
        try log.close()
        XCTAssertThrowsError(try log.append(["step": 1]))

        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(lines.count, 3)
        XCTAssertEqual(lines[2], "")
        XCTAssertEqual(lines[1], #"{"split":"eval \"quoted\"\n","loss":null,"tiny":1e-07,"step":-2}"#)
        // Every line is valid JSON and reads back the same values.
        let second = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as? [String: Any])
        XCTAssertEqual(second["split"] as? String, "eval \"quoted\"\n")
        XCTAssertTrue(second["loss"] is NSNull)
        XCTAssertEqual(second["tiny"] as? Double, 1e-7)
    }

    func testReopeningAppendsAndDuplicateKeysCollapse() throws {
        let url = try makeTemporaryDirectory(self).appendingPathComponent("m.jsonl")
        try MetricsLogWriter(url: url).append(["step": 1])
        let log = try MetricsLogWriter(url: url)
        try log.append(["step": 2, "loss": 1.0, "step": 3])
        XCTAssertEqual(try String(contentsOf: url, encoding: .utf8), "{\"step\":1}\n{\"step\":3,\"loss\":1.0}\n")
    }

    func testMissingDirectoryNamesTheFile() {
        let message = thrownMessage(try MetricsLogWriter(url: URL(fileURLWithPath: "/nonexistent-dir/metrics.jsonl")))
        XCTAssertEqual(message, "/nonexistent-dir/metrics.jsonl: cannot open: No such file or directory")
    }
}
