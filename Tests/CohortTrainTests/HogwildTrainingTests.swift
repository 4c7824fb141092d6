import XCTest
import Cohort
import CohortFormats
@testable import CohortTrain

/// Hogwild under `mpirun -np 2`: shared memory, convergence, and no segment left behind.
final class HogwildTrainingTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(CLI.hasMPI, "mpirun is not installed (launch/setup installs openmpi-bin)")
        try XCTSkipUnless(CLI.hasFashionMNIST, "Fashion-MNIST is not installed (launch/setup installs it)")
    }

    func mpirun(_ arguments: [String], timeout: Double = 300, environment: [String: String] = [:]) throws -> CLI.Output {
        try CLI.run(["/usr/bin/mpirun", "-np", "2", "--oversubscribe", "--bind-to", "none", CLI.binary.path] + arguments,
                    timeout: timeout, environment: environment)
    }

    func cohortSegments() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/dev/shm")) ?? []).filter { $0.hasPrefix("cohort-") }
    }

    func config(_ dir: URL, _ name: String) throws -> String {
        let url = dir.appendingPathComponent("\(name).yaml")
        try CLI.smallConfig(name: name, extra: "output: {directory: \(dir.path)}\ndistributed: {mode: hogwild}\n")
            .write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func testAWriteByOneRankIsVisibleToTheOtherWithoutAMessage() throws {
        let r = try mpirun(["check-shared-memory"], timeout: 60)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("rank 0: saw rank 1's write at arena[777] = 1234.5"), r.stdout)
        XCTAssertTrue(r.stdout.contains("unlinked: yes"), r.stdout)
    }

    func testBothProcessesUpdateOneArenaAndTrainingConverges() throws {
        let before = cohortSegments()
        let dir = try CLI.temporaryDirectory()
        // lr 0.02: at the shared config's 0.05 one epoch ends anywhere in 0.78-0.83, even in one
        // process; at 0.02 it lands in 0.83-0.85, so the bound below tests Hogwild, not luck.
        let r = try mpirun(["train", try config(dir, "hog"), "--set", "optimizer.lr=0.02", "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        // One epoch: 59000 examples / 2 ranks / batch 64 = 460 steps per rank, 920 updates in all.
        XCTAssertTrue(r.stdout.contains("hogwild: 2 ranks applied 920 updates"), r.stdout)
        let line = r.stdout.split(separator: "\n").first { $0.hasPrefix("test accuracy") }!
        let accuracy = Double(line.split(separator: " ")[2])!
        XCTAssertGreaterThan(accuracy, 0.78, "one Hogwild epoch should train the small MLP")
        XCTAssertEqual(cohortSegments(), before)
    }

    func testResumeContinuesTheUpdateCountFromTheSnapshot() throws {
        let dir = try CLI.temporaryDirectory()
        let config = try config(dir, "resumed")
        let limit = ["--set", "data.train_limit=6400", "--quiet"]  // 50 steps per rank and epoch
        let first = try mpirun(["train", config] + limit)
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertTrue(first.stdout.contains("applied 100 updates"), first.stdout)
        let second = try mpirun(["train", config, "--resume", "--set", "training.epochs=3"] + limit)
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertTrue(second.stdout.contains("applied 200 updates"), second.stdout)
        // The report's curves run over both sessions; Hogwild waits for no gradients, so that chart is absent.
        let splits = ["train", "validation", "test"]
        let run = dir.appendingPathComponent("resumed")
        try RenderedChart.assertCharts(in: run, [("loss.svg", splits), ("accuracy.svg", splits), ("learning-rate.svg", ["learning rate"]),
                                                 ("throughput.svg", ["samples/s"])], absent: ["gradient-wait.svg"])
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("report.json"))) as! [String: Any]
        let history = report["history"] as! [[String: Any]]
        // Hogwild's rank 0 validates when the shared count crosses into a new epoch, so the run's last
        // epoch ends with the final test instead: here the end of epoch 2 (in the resumed session).
        XCTAssertEqual(history.compactMap { $0["validationAccuracy"] }.count, 1)
        XCTAssertEqual(history.compactMap { $0["testAccuracy"] }.count, 2, "each session's final test")
        XCTAssertEqual(report["mode"] as? String, "hogwild")
        let checkpoint = try Safetensors.read(from: dir.appendingPathComponent("resumed/checkpoints/latest.safetensors"))
        XCTAssertEqual(checkpoint.metadata["step"], "150")
    }

    func testAKilledRankEndsTheJobAndLeavesNoSegment() throws {
        let before = cohortSegments()
        let dir = try CLI.temporaryDirectory()
        let start = Date()
        let r = try mpirun(["train", try config(dir, "killed"), "--quiet"], timeout: 60, environment: ["COHORT_INJECT_KILL": "1:20"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertLessThan(Date().timeIntervalSince(start), 30)
        XCTAssertEqual(cohortSegments(), before)
    }

    func testAFailingRankAbortsTheHogwildJob() throws {
        let before = cohortSegments()
        let dir = try CLI.temporaryDirectory()
        let r = try mpirun(["train", try config(dir, "nan"), "--quiet"], timeout: 60, environment: ["COHORT_INJECT_NAN": "1:10"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("rank 1: error: step"), r.stderr)
        XCTAssertEqual(cohortSegments(), before)
    }
}
