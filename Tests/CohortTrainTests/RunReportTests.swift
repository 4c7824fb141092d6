import XCTest
import Foundation

/// The run report as a new user sees it: every chart of a real run rendered to pixels, every
/// series its legend names visible, and the figures of report.md kept in report.json.
final class RunReportTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(CLI.hasMPI, "mpirun is not installed (launch/setup installs openmpi-bin)")
        try XCTSkipUnless(CLI.hasFashionMNIST, "Fashion-MNIST is not installed (launch/setup installs it)")
    }

    static var repository: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent() }

    /// configs/fashion-mlp.yaml on 2 ranks, shortened to 2 epochs of 3,000 examples, with hidden
    /// layers of 64 (the debug build steps the 512-wide ones at one a second) and the test set
    /// evaluated every epoch: loss and accuracy show train, validation and test; the learning rate,
    /// throughput, wait for gradients and the confusion matrix are there and visible.
    func testATwoRankRunReportShowsEveryCurve() throws {
        let dir = try CLI.temporaryDirectory()
        let config = Self.repository.appendingPathComponent("configs/fashion-mlp.yaml").path
        let r = try CLI.run(["/usr/bin/mpirun", "-np", "2", "--oversubscribe", "--bind-to", "none", CLI.binary.path, "train", config,
                             "--set", "output.directory=\(dir.path)", "--set", "training.epochs=2", "--set", "schedule.t_max=2",
                             "--set", "data.train_limit=3000", "--set", "data.validation=1000", "--set", "model.layers.1.out=64",
                             "--set", "model.layers.4.out=64", "--set", "training.log_every=3", "--set", "training.eval_test=true", "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let run = dir.appendingPathComponent("fashion-mlp")
        let expected: [(String, [String])] = [
            ("loss.svg", ["train", "validation", "test"]), ("accuracy.svg", ["train", "validation", "test"]),
            ("learning-rate.svg", ["learning rate"]), ("throughput.svg", ["samples/s"]), ("gradient-wait.svg", ["wait for gradients"]),
        ]
        try RenderedChart.assertCharts(in: run, expected)
        let matrix = try RenderedChart(run.appendingPathComponent("confusion-matrix.svg"))
        XCTAssertEqual(matrix.cells.count, 100)
        XCTAssertEqual(matrix.cells.reduce(0) { $0 + $1.count }, 10_000)
        // Rendered, the diagonal (right answers, most of every row) is darker than the rest.
        func brightness(_ cells: [RenderedChart.Cell]) -> Double {
            let sums = cells.map { c -> Int in let p = matrix.image.pixel(Int(c.box.x + 3), Int(c.box.y + 3)); return p.r + p.g + p.b }
            return Double(sums.reduce(0, +)) / Double(sums.count)
        }
        XCTAssertLessThan(brightness(matrix.cells.filter { $0.row == $0.column }) + 200, brightness(matrix.cells.filter { $0.row != $0.column }))

        // Every train line of metrics.jsonl has the throughput and the wait; TensorBoard has them too.
        let lines = try String(contentsOf: run.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
            .map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        let train = lines.filter { $0["split"] as? String == "train" }
        XCTAssertFalse(train.isEmpty)
        for line in train {
            XCTAssertGreaterThan(line["samples_per_second"] as? Double ?? 0, 0, "\(line)")
            XCTAssertGreaterThanOrEqual(line["gradient_wait_ms"] as? Double ?? -1, 0, "\(line)")
        }
        let events = try FileManager.default.contentsOfDirectory(at: run, includingPropertiesForKeys: nil).first { $0.lastPathComponent.hasPrefix("events.out") }!
        let eventBytes = try Data(contentsOf: events)
        for tag in ["train/samples_per_second", "train/gradient_wait_ms", "train/lr"] {
            XCTAssertNotNil(eventBytes.range(of: Data(tag.utf8)), "no \(tag) in the event file")
        }

        // report.json holds every figure of report.md's table, and the curves.
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("report.json"))) as! [String: Any]
        XCTAssertEqual(json["ranks"] as? Int, 2)
        XCTAssertEqual(json["mode"] as? String, "sync")
        XCTAssertEqual(json["precision"] as? String, "fp32")
        for key in ["steps", "epochs", "skippedSteps", "parameters", "seconds", "samplesPerSecond", "gradientWaitMs", "finalTrainLoss",
                    "finalLearningRate", "bestValidationAccuracy", "testAccuracy", "testErrors", "testLoss", "testExamples", "classification"] {
            XCTAssertNotNil(json[key], "report.json has no \(key)")
        }
        XCTAssertEqual(json["charts"] as? [String], expected.map(\.0) + ["confusion-matrix.svg"])
        let history = json["history"] as! [[String: Any]]
        XCTAssertEqual(history.compactMap { $0["validationAccuracy"] }.count, 2, "one validation point per epoch")
        XCTAssertEqual(history.compactMap { $0["testAccuracy"] }.count, 2, "eval_test: a test point per epoch, the last one final")
        let markdown = try String(contentsOf: run.appendingPathComponent("report.md"), encoding: .utf8)
        let percent = String(format: "%.2f%%", (json["testAccuracy"] as! Double) * 100)
        XCTAssertTrue(markdown.contains("Test accuracy **\(percent)**"), markdown)
        XCTAssertTrue(markdown.contains("| ranks | 2 (sync, shm reducer) |") && markdown.contains("![wait for gradients](gradient-wait.svg)"), markdown)
    }
}
