import XCTest
import Cohort
import CohortFormats
@testable import CohortTrain

/// The trainer end to end through the `cohort` binary: errors, resume after SIGKILL, eval.
final class TrainCLITests: XCTestCase {
    func write(_ text: String, _ dir: URL, _ name: String = "run.yaml") throws -> String {
        let url = dir.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func testConfigErrorsAreOneLineWithTheKeyPath() throws {
        let dir = try CLI.temporaryDirectory()
        let config = try write(CLI.smallConfig(), dir)
        let cases: [([String], String)] = [
            (["--set", "optimizer.lr=-0.1"], "optimizer.lr"),
            (["--set", "training.batchsize=3"], "unknown key 'batchsize'"),
            (["--set", "model.layers.1.out=abc"], "model.layers[1].out: expected an integer"),
            (["--set", "model.layers.0.type=relu"], "model.layers[1] (linear)"),
            (["--set", "data.directory=/nonexistent"], "/nonexistent"),
        ]
        for (args, expected) in cases {
            let r = try CLI.run(["cohort", "train", config, "--set", "output.directory=\(dir.path)"] + args)
            XCTAssertNotEqual(r.status, 0, "\(args)")
            let lines = r.stderr.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(expected), "\(args): \(r.stderr)")
        }
        let missing = try CLI.run(["cohort", "train", dir.appendingPathComponent("nope.yaml").path])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("nope.yaml: cannot read"), missing.stderr)
    }

    /// bf16 on a CPU without avx512_bf16 (COHORT_CPU=avx512_vnni makes this one behave so): one line
    /// naming the feature and a non-zero exit, from `cohort train` and `bench train`, unless the
    /// emulation is allowed.
    func testBF16WithoutTheCPUFeatureIsRefusedUnlessEmulationIsAllowed() throws {
        let dir = try CLI.temporaryDirectory()
        let config = try write(CLI.smallConfig(), dir)
        let without = ["COHORT_CPU": "avx512_vnni"]
        let base = ["cohort", "train", config, "--set", "output.directory=\(dir.path)", "--set", "training.max_steps=20", "--quiet",
                    "--set", "training.precision=bf16"]
        for args in [base, ["cohort", "bench", "train", "--steps", "5", "--precision", "bf16"]] {
            let r = try CLI.run(args, environment: without)
            XCTAssertNotEqual(r.status, 0, "\(args)")
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
            XCTAssertTrue(r.stderr.contains("needs the CPU feature avx512_bf16"), r.stderr)
        }
        let emulated = try CLI.run(base + ["--set", "training.allow_emulated_bf16=true"], environment: without)
        XCTAssertEqual(emulated.status, 0, emulated.stderr)
        let saved = try String(contentsOf: dir.appendingPathComponent("small/config.yaml"), encoding: .utf8)
        XCTAssertTrue(saved.contains("precision=bf16") || saved.contains("precision: bf16"), saved)
    }

    /// Kill a run with SIGKILL after a checkpoint, resume it, and compare with an uninterrupted run.
    func testResumeAfterKillGivesTheSameParameters() throws {
        try XCTSkipUnless(CLI.hasFashionMNIST, "Fashion-MNIST is not installed (launch/setup installs it)")
        let dir = try CLI.temporaryDirectory()
        let extra = "output: {directory: \(dir.path)}\n"
        let steps = ["--set", "training.max_steps=400", "--set", "training.checkpoint_steps=10", "--quiet"]
        let whole = try write(CLI.smallConfig(name: "whole", extra: extra), dir, "whole.yaml")
        let r1 = try CLI.run(["cohort", "train", whole] + steps)
        XCTAssertEqual(r1.status, 0, r1.stderr)

        let killed = try write(CLI.smallConfig(name: "killed", extra: extra), dir, "killed.yaml")
        let p = Process()
        p.executableURL = CLI.binary
        p.arguments = ["train", killed] + steps
        p.environment = CLI.environment
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let latest = dir.appendingPathComponent("killed/checkpoints/latest.safetensors")
        // Wait for a checkpoint past step 30, then kill without warning.
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            if let f = try? Safetensors.read(from: latest), let s = Int(f.metadata["step"] ?? ""), s >= 30 { break }
            usleep(20_000)
        }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        let partial = try Safetensors.read(from: latest)
        let killedAt = Int(partial.metadata["step"]!)!
        XCTAssertLessThan(killedAt, 400, "the run finished before it could be killed")
        let r2 = try CLI.run(["cohort", "train", killed, "--resume"] + steps)
        XCTAssertEqual(r2.status, 0, r2.stderr)

        let a = try Safetensors.read(from: dir.appendingPathComponent("whole/checkpoints/latest.safetensors"))
        let b = try Safetensors.read(from: latest)
        XCTAssertEqual(b.metadata["step"], "400")
        for name in a.names {
            let same = try a.floatTensor(name).scalars == b.floatTensor(name).scalars
            XCTAssertTrue(same, "\(name) differs after resuming from step \(killedAt)")
        }
    }

    /// With a learning rate too small to change anything, validation accuracy never improves after
    /// the first epoch, so patience 1 stops the run after epoch 2 of 5.
    func testEarlyStoppingOnValidationAccuracy() throws {
        try XCTSkipUnless(CLI.hasFashionMNIST, "Fashion-MNIST is not installed")
        let dir = try CLI.temporaryDirectory()
        let config = try write(CLI.smallConfig(name: "patient", extra: "output: {directory: \(dir.path)}\n"), dir)
        let r = try CLI.run(["cohort", "train", config, "--set", "optimizer.lr=1e-12", "--set", "training.epochs=5",
                             "--set", "training.patience=1", "--set", "data.train_limit=640", "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("early stopping: no improvement in 1 epochs"), r.stdout)
        let checkpoint = try Safetensors.read(from: dir.appendingPathComponent("patient/checkpoints/latest.safetensors"))
        XCTAssertEqual(checkpoint.metadata["epoch"], "2")
    }

    func testNonFiniteLossStopsWithTheStepOrIsSkipped() throws {
        try XCTSkipUnless(CLI.hasFashionMNIST, "Fashion-MNIST is not installed")
        let dir = try CLI.temporaryDirectory()
        let config = try write(CLI.smallConfig(name: "nan", extra: "output: {directory: \(dir.path)}\n"), dir)
        let common = ["--set", "training.max_steps=20", "--quiet"]
        let stop = try CLI.run(["cohort", "train", config] + common, environment: ["COHORT_INJECT_NAN": "0:7"])
        XCTAssertNotEqual(stop.status, 0)
        XCTAssertTrue(stop.stderr.hasPrefix("cohort: error: step 7: the loss is nan"), stop.stderr)
        let skip = try CLI.run(["cohort", "train", config, "--set", "name=nanskip", "--set", "training.non_finite=skip"] + common,
                               environment: ["COHORT_INJECT_NAN": "0:7"])
        XCTAssertEqual(skip.status, 0, skip.stderr)
        let report = try String(contentsOf: dir.appendingPathComponent("nanskip/report.md"), encoding: .utf8)
        XCTAssertTrue(report.contains("1 skipped"), report)
    }

    func testEvalReproducesTheRunAndRejectsCorruptCheckpoints() throws {
        try XCTSkipUnless(CLI.hasFashionMNIST, "Fashion-MNIST is not installed")
        let dir = try CLI.temporaryDirectory()
        let config = try write(CLI.smallConfig(name: "evaluated", extra: "output: {directory: \(dir.path)}\n"), dir)
        let r = try CLI.run(["cohort", "train", config, "--set", "training.max_steps=50", "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let checkpoint = dir.appendingPathComponent("evaluated/checkpoints/latest.safetensors")
        let e = try CLI.run(["cohort", "eval", checkpoint.path])
        XCTAssertEqual(e.status, 0, e.stderr)
        // The training run's final test accuracy and eval's agree exactly.
        let trained = r.stdout.split(separator: "\n").last { $0.hasPrefix("test accuracy") }!
        let accuracy = trained.split(separator: " ")[2]
        XCTAssertTrue(e.stdout.contains("test accuracy \(accuracy)"), "\(trained) vs \(e.stdout)")

        // A truncated checkpoint is rejected with its name.
        let data = try Data(contentsOf: checkpoint)
        let bad = dir.appendingPathComponent("bad.safetensors")
        try data.prefix(data.count / 2).write(to: bad)
        let b = try CLI.run(["cohort", "eval", bad.path])
        XCTAssertNotEqual(b.status, 0)
        XCTAssertTrue(b.stderr.contains("bad.safetensors"), b.stderr)
        XCTAssertEqual(b.stderr.split(separator: "\n").count, 1, b.stderr)
    }
}
