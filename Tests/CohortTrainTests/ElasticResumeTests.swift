import XCTest
import Cohort
import CohortFormats
@testable import CohortTrain

/// A synchronous run resumed on another number of ranks keeps its global batch: the per-rank
/// micro-batch stays and training.accumulate makes up the difference where it can, so the run
/// goes on as it would have; a number of ranks that does not divide the global batch is refused.
final class ElasticResumeTests: XCTestCase {
    func training(batch: Int, accumulate: Int = 1) -> TrainingConfig {
        var t = TrainingConfig()
        t.batchSize = batch
        t.accumulate = accumulate
        return t
    }

    func testTheGlobalBatchIsKept() throws {
        func plan(_ t: TrainingConfig, ranks: Int, writtenBy: Int, global: Int) throws -> (Int, Int)? {
            try ElasticResume.rebatch(t, from: .init(ranks: writtenBy, globalBatch: global), ranks: ranks).map { ($0.batchSize, $0.accumulate) }
        }
        XCTAssertNil(try plan(training(batch: 64), ranks: 2, writtenBy: 2, global: 128))
        XCTAssertTrue(try plan(training(batch: 64), ranks: 1, writtenBy: 2, global: 128)! == (64, 2), "fewer ranks accumulate")
        XCTAssertTrue(try plan(training(batch: 32), ranks: 2, writtenBy: 4, global: 128)! == (32, 2))
        XCTAssertTrue(try plan(training(batch: 128), ranks: 2, writtenBy: 1, global: 128)! == (64, 1), "more ranks: smaller shards")
        XCTAssertTrue(try plan(training(batch: 24, accumulate: 2), ranks: 4, writtenBy: 2, global: 96)! == (24, 1), "the micro-batch kept")
        XCTAssertTrue(try plan(training(batch: 48, accumulate: 5), ranks: 2, writtenBy: 1, global: 240)! == (24, 5), "the accumulation kept")
        XCTAssertTrue(try plan(training(batch: 7, accumulate: 3), ranks: 2, writtenBy: 1, global: 8)! == (4, 1), "neither kept")
        XCTAssertThrowsError(try plan(training(batch: 64), ranks: 3, writtenBy: 2, global: 128)) {
            XCTAssertEqual("\($0)", "--resume on 3 ranks: the checkpoint's global batch of 128 (written by 2 ranks) is not a multiple of 3; resume on a number of ranks that divides it")
        }
    }

    /// 20 steps on 2 ranks then 20 on 1, and 20 on 1 rank then 20 on 2, end where 40 steps on 2
    /// ranks do (within the rounding of another summation order); 3 ranks are refused.
    func testResumeOnOtherRankCountsGoesOnAsTheRunWould() throws {
        try XCTSkipUnless(CLI.hasMPI, "mpirun is not installed (launch/setup installs openmpi-bin)")
        try XCTSkipUnless(CLI.hasFashionMNIST, "Fashion-MNIST is not installed (launch/setup installs it)")
        let dir = try CLI.temporaryDirectory()
        func config(_ name: String, batch: Int) throws -> String {
            let url = dir.appendingPathComponent("\(name).yaml")
            try CLI.smallConfig(name: name, extra: "output: {directory: \(dir.path)}\n")
                .replacingOccurrences(of: "batch_size: 64", with: "batch_size: \(batch)").write(to: url, atomically: true, encoding: .utf8)
            return url.path
        }
        func train(_ ranks: Int, _ path: String, steps: Int, resume: Bool = false) throws -> CLI.Output {
            let args = ["train", path, "--set", "training.max_steps=\(steps)", "--quiet"] + (resume ? ["--resume"] : [])
            return ranks == 1 ? try CLI.run(["cohort"] + args)
                : try CLI.run(["/usr/bin/mpirun", "-np", String(ranks), "--oversubscribe", "--bind-to", "none", CLI.binary.path] + args)
        }
        let whole = try train(2, try config("whole", batch: 64), steps: 40)
        XCTAssertEqual(whole.status, 0, whole.stderr)

        let fewer = try config("fewer", batch: 64)
        XCTAssertEqual(try train(2, fewer, steps: 20).status, 0)
        let one = try train(1, fewer, steps: 40, resume: true)
        XCTAssertEqual(one.status, 0, one.stderr)
        XCTAssertTrue(one.stdout.contains("resumed on 1 rank from a checkpoint written by 2: training.batch_size 64 -> 64 per rank, training.accumulate 1 -> 2 (global batch 128 kept)"), one.stdout)

        let more = try config("more", batch: 128)
        XCTAssertEqual(try train(1, more, steps: 20).status, 0)
        let two = try train(2, more, steps: 40, resume: true)
        XCTAssertEqual(two.status, 0, two.stderr)
        XCTAssertTrue(two.stdout.contains("resumed on 2 ranks from a checkpoint written by 1: training.batch_size 128 -> 64 per rank, training.accumulate 1 -> 1 (global batch 128 kept)"), two.stdout)

        let reference = try Safetensors.read(from: dir.appendingPathComponent("whole/checkpoints/latest.safetensors"))
        XCTAssertEqual(reference.metadata["step"], "40")
        for name in ["fewer", "more"] {
            let resumed = try Safetensors.read(from: dir.appendingPathComponent("\(name)/checkpoints/latest.safetensors"))
            XCTAssertEqual(resumed.metadata["step"], "40", name)
            for tensor in reference.names where !tensor.hasPrefix("optimizer.") {
                let x = try reference.floatTensor(tensor).scalars, y = try resumed.floatTensor(tensor).scalars
                var worst: Float = 0
                for (u, v) in zip(x, y) { worst = max(worst, abs(u - v) / max(abs(u), abs(v), 1e-3)) }
                // As DistributedTrainingTests bounds accumulated micro-batches against one batch; a
                // different sample order or rate would be off by orders of magnitude more.
                XCTAssertLessThan(worst, 5e-4, "\(name) \(tensor): worst relative difference \(worst)")
            }
        }

        let three = try train(3, more, steps: 60, resume: true)
        XCTAssertNotEqual(three.status, 0)
        XCTAssertTrue(three.stderr.contains("--resume on 3 ranks: the checkpoint's global batch of 128 (written by 2 ranks) is not a multiple of 3"), three.stderr)
    }
}
