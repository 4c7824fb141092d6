import XCTest
import Cohort
import CohortFormats

/// What happens when things fail: a stalled rank, ranks started differently, two runs on one
/// folder, bad run names, weights that explode, a stop signal, a job restarted after a crash.
/// Nothing may hang, and every ending says what happened.
final class FailureTests: XCTestCase {
    var dir = URL(fileURLWithPath: "/")
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    override func setUpWithError() throws {
        try XCTSkipUnless(CLI.hasFashionMNIST, "Fashion-MNIST is not installed (launch/setup installs it)")
        dir = try CLI.temporaryDirectory()
    }

    func config(_ name: String, _ extra: String = "") throws -> String {
        let url = dir.appendingPathComponent("\(name).yaml")
        try CLI.smallConfig(name: name, extra: "output: {directory: \(dir.path)}\n" + extra).write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func mpirun(_ arguments: [String], _ second: [String]? = nil, environment: [String: String] = [:], timeout: Double = 120) throws -> CLI.Output {
        var command = ["/usr/bin/mpirun", "--oversubscribe", "--bind-to", "none"]
        if let second {
            command += ["-np", "1", CLI.binary.path] + arguments + [":", "-np", "1", CLI.binary.path] + second
        } else {
            command += ["-np", "2", CLI.binary.path] + arguments
        }
        return try CLI.run(command, timeout: timeout, environment: environment)
    }

    func segments() -> Set<String> {
        Set(((try? FileManager.default.contentsOfDirectory(atPath: "/dev/shm")) ?? []).filter { $0.hasPrefix("cohort-") })
    }

    /// A rank stopped by SIGSTOP at step 20 ends the job within distributed.timeout + 5 s, with a
    /// message naming it, under both reducers and in Hogwild; nothing is left in /dev/shm.
    func testAStalledRankEndsTheJobNamingIt() throws {
        try XCTSkipUnless(CLI.hasMPI, "mpirun is not installed")
        let before = segments()
        let cases: [(String, [String], String)] = [
            ("shm", [], "the shared-memory gradient average"),
            ("mpi", ["--set", "distributed.reducer=mpi"], "an MPI allreduce"),
            ("hogwild", ["--set", "distributed.mode=hogwild"], "updates to the shared Hogwild parameters"),
        ]
        for (name, extra, waiting) in cases {
            let start = Date()
            let r = try mpirun(["train", try config("stall-\(name)", "distributed: {timeout: 3}"), "--quiet"] + extra,
                               environment: ["COHORT_INJECT_STOP": "1:20"], timeout: 60)
            let seconds = Date().timeIntervalSince(start)
            XCTAssertNotEqual(r.status, 0, name)
            XCTAssertTrue(r.stderr.contains("rank 0: no progress from rank 1 for 3 s") && r.stderr.contains("(waiting for \(waiting))"),
                          "\(name): \(r.stderr)")
            // Start-up (a few seconds for two debug binaries), the 3 s timeout, and the 5 s allowed.
            XCTAssertLessThan(seconds, 3 + 5 + 8, name)
            XCTAssertEqual(segments(), before, name)
        }
    }

    /// Ranks that differ in a config key, in --resume, or in mode are refused before anything is
    /// created, naming the key and both values.
    func testRanksStartedDifferentlyAreRefusedByName() throws {
        try XCTSkipUnless(CLI.hasMPI, "mpirun is not installed")
        let before = segments()
        let c = try config("same")
        let cases: [([String], [String], String)] = [
            (["train", c, "--quiet"], ["train", c, "--quiet", "--set", "training.batch_size=32"],
             "training.batch_size is 64 on rank 0 but 32 on rank 1"),
            (["train", c, "--quiet", "--resume"], ["train", c, "--quiet"], "--resume is given on rank 0 but not given on rank 1"),
            (["train", c, "--quiet", "--set", "distributed.mode=hogwild"], ["train", c, "--quiet"],
             "distributed.mode is hogwild on rank 0 but sync on rank 1"),
        ]
        for (first, second, expected) in cases {
            let r = try mpirun(first, second, timeout: 60)
            XCTAssertNotEqual(r.status, 0, expected)
            XCTAssertTrue(r.stderr.contains("rank 0: error: the ranks were started with different"), r.stderr)
            XCTAssertTrue(r.stderr.contains(expected), "\(expected): \(r.stderr)")
        }
        XCTAssertEqual(segments(), before)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("same/checkpoints").path))
    }

    /// Two runs started on one run folder: one trains, the other stops at once naming the holder.
    func testASecondRunOnTheSameFolderIsRefused() throws {
        let c = try config("busy")
        let first = Process()
        first.executableURL = CLI.binary
        first.arguments = ["train", c, "--quiet", "--set", "training.max_steps=300"]
        first.environment = CLI.environment
        first.standardOutput = FileHandle.nullDevice
        try first.run()
        // Wait until the first holds the lock (its pid is written in the lock file).
        let lock = dir.appendingPathComponent("busy/.lock").path
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, (try? String(contentsOfFile: lock, encoding: .utf8))?.hasPrefix("\(first.processIdentifier) ") != true {
            usleep(20_000)
        }
        let second = try CLI.run(["cohort", "train", c, "--quiet", "--set", "training.max_steps=300"])
        first.waitUntilExit()
        XCTAssertEqual(first.terminationStatus, 0)
        XCTAssertNotEqual(second.status, 0)
        XCTAssertTrue(second.stderr.contains("busy: in use by process \(first.processIdentifier) on host"), second.stderr)
        XCTAssertEqual(second.stderr.split(separator: "\n").count, 1, second.stderr)
        // The first run's folder is whole: its own report and checkpoint.
        let report = try String(contentsOf: dir.appendingPathComponent("busy/report.md"), encoding: .utf8)
        XCTAssertTrue(report.contains("| steps | 300"), report)
        // Once it has ended, the folder can be resumed (the lock went with the process).
        let again = try CLI.run(["cohort", "train", c, "--quiet", "--resume", "--set", "training.max_steps=310"])
        XCTAssertEqual(again.status, 0, again.stderr)
    }

    func testRunNamesStayInsideTheOutputDirectory() throws {
        for name in ["..", "."] {
            let r = try CLI.run(["cohort", "train", try config("n"), "--set", "name=\(name)"])
            XCTAssertNotEqual(r.status, 0)
            XCTAssertTrue(r.stderr.contains("name: '\(name)' is not a folder name of its own"), r.stderr)
        }
    }

    /// With non_finite: skip, a learning rate that blows the weights up ends the run after
    /// max_skipped steps in a row, with a message; nothing fails on the NaN in the history.
    func testSkippingStopsWhenTheWeightsDoNotRecover() throws {
        let c = try config("explode")
        let r = try CLI.run(["cohort", "train", c, "--quiet", "--set", "training.non_finite=skip", "--set", "optimizer.lr=1e30",
                             "--set", "training.max_skipped=5"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("5 steps in a row had a NaN/Inf loss or gradient and were skipped (training.max_skipped is 5)"), r.stderr)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
    }

    /// SIGTERM mid-epoch: the run stops after its step, saves, and says how to resume; resuming
    /// finishes with exactly the parameters of a run that was never stopped.
    func testSIGTERMSavesAndResumeIsBitIdentical() throws {
        let steps = ["--set", "training.max_steps=400", "--quiet"]
        let whole = try CLI.run(["cohort", "train", try config("whole")] + steps)
        XCTAssertEqual(whole.status, 0, whole.stderr)

        let c = try config("stopped")
        let p = Process()
        p.executableURL = CLI.binary
        p.arguments = ["train", c] + steps
        p.environment = CLI.environment
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        // Stop it once it is well into training: its metrics have a line past step 100.
        let metrics = dir.appendingPathComponent("stopped/metrics.jsonl").path
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, ((try? String(contentsOfFile: metrics, encoding: .utf8))?.split(separator: "\n").count ?? 0) < 11 {
            usleep(10_000)
        }
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(p.terminationStatus, 143, message)
        XCTAssertTrue(message.contains("stopped by SIGTERM after step") && message.contains("--resume"), message)
        let latest = dir.appendingPathComponent("stopped/checkpoints/latest.safetensors")
        let stoppedAt = Int(try Safetensors.read(from: latest).metadata["step"]!)!
        XCTAssertLessThan(stoppedAt, 400, "stopped before the end")
        XCTAssertGreaterThan(stoppedAt, 100)

        let resumed = try CLI.run(["cohort", "train", c, "--resume"] + steps)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        try assertSameParameters(dir.appendingPathComponent("whole/checkpoints/latest.safetensors"), latest, "after a stop at \(stoppedAt)")
    }

    /// launch/train --restarts 2 with rank 1 killed at step 150: the job is restarted from its
    /// latest checkpoint and ends with the parameters of a run that never failed.
    func testRestartsFinishAKilledJobBitIdentical() throws {
        try XCTSkipUnless(CLI.hasMPI, "mpirun is not installed")
        let steps = ["--set", "training.max_steps=300", "--set", "training.checkpoint_steps=50", "--quiet"]
        let launch = root.appendingPathComponent("launch/train").path
        var environment = ["COHORT_BIN": CLI.binary.path]
        let whole = try CLI.run([launch, "--no-setup", "-n", "2", try config("whole2")] + steps, timeout: 300, environment: environment)
        XCTAssertEqual(whole.status, 0, whole.stderr)
        environment["COHORT_INJECT_KILL"] = "1:150"
        let r = try CLI.run([launch, "--no-setup", "-n", "2", "--restarts", "2", try config("restarted")] + steps, timeout: 300,
                            environment: environment)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("restart 1 of 2, from the latest checkpoint"), r.stderr)
        XCTAssertFalse(r.stderr.contains("restart 2 of 2"), r.stderr)
        try assertSameParameters(dir.appendingPathComponent("whole2/checkpoints/latest.safetensors"),
                                 dir.appendingPathComponent("restarted/checkpoints/latest.safetensors"), "after a restart")
    }

    func assertSameParameters(_ a: URL, _ b: URL, _ what: String) throws {
        let x = try Safetensors.read(from: a), y = try Safetensors.read(from: b)
        XCTAssertEqual(x.metadata["step"], y.metadata["step"])
        for name in x.names {
            XCTAssertTrue(try x.floatTensor(name).scalars == y.floatTensor(name).scalars, "\(name) differs \(what)")
        }
    }
}
