import XCTest
@testable import CohortTrain

/// The progress display: a redrawn bar on a terminal, plain lines in logs. Under mpirun the ranks'
/// stdout is Open MPI's pseudo-terminal whatever mpirun writes to, so COHORT_PROGRESS decides.
final class ProgressTests: XCTestCase {
    override func tearDown() { unsetenv("COHORT_PROGRESS") }

    func testCohortProgressOverridesTheTerminalTest() {
        setenv("COHORT_PROGRESS", "lines", 1)
        XCTAssertFalse(Progress.drawsBar)
        setenv("COHORT_PROGRESS", "bar", 1)
        XCTAssertTrue(Progress.drawsBar)
        unsetenv("COHORT_PROGRESS")
        XCTAssertEqual(Progress.drawsBar, isatty(STDOUT_FILENO) != 0)
    }

    /// launch/train run with its output in a file writes step lines, never a carriage return.
    func testLaunchTrainIntoAFileWritesLines() throws {
        try XCTSkipUnless(CLI.hasFashionMNIST && CLI.hasMPI, "Fashion-MNIST or mpirun is not installed (launch/setup installs them)")
        let dir = try CLI.temporaryDirectory()
        let config = dir.appendingPathComponent("p.yaml")
        try CLI.smallConfig(name: "p", extra: "output: {directory: \(dir.path)}\n").write(to: config, atomically: true, encoding: .utf8)
        // The package root, three folders above this file (Tests/CohortTrainTests/ProgressTests.swift).
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let r = try CLI.run([root.appendingPathComponent("launch/train").path, "--no-setup", "-n", "2", config.path,
                             "--set", "training.max_steps=20", "--set", "training.log_every=10"],
                            environment: ["COHORT_BIN": CLI.binary.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertFalse(r.stdout.contains("\r"), "a bar redrawn into a file")
        XCTAssertTrue(r.stdout.contains("step 20/20"), r.stdout)
    }
}
