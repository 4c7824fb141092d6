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

    /// Hogwild resumed on other ranks: the same share of training (steps scale by old / new ranks)
    /// and the samplers from the place every old rank had passed (the fewest positions taken at
    /// the earliest epoch, times the old ranks, over the new).
    func testHogwildKeepsItsShareOfTrainingAndItsPlace() {
        let from4 = ElasticResume.Written(ranks: 4, globalBatch: 256), from2 = ElasticResume.Written(ranks: 2, globalBatch: 128)
        var r = ElasticResume.hogwild(step: 25, places: [[0, 100], [0, 96], [0, 104], [0, 100]], from: from4, ranks: 2)
        XCTAssertEqual(r.step, 50)
        XCTAssertEqual(r.places, [[0, 192], [0, 192]])
        r = ElasticResume.hogwild(step: 25, places: [[1, 8], [0, 500], [1, 0], [0, 480]], from: from4, ranks: 2)
        XCTAssertEqual(r.places, [[0, 960], [0, 960]], "the earliest epoch's slowest rank")
        r = ElasticResume.hogwild(step: 30, places: [[0, 64], [0, 70]], from: from2, ranks: 4)
        XCTAssertEqual(r.step, 15)
        XCTAssertEqual(r.places, [[0, 32], [0, 32], [0, 32], [0, 32]])
        r = ElasticResume.hogwild(step: 30, places: nil, from: from2, ranks: 4)
        XCTAssertEqual(r.step, 15)
        XCTAssertNil(r.places, "no places (a checkpoint taken while training across nodes): the epoch's start")
    }

    /// A 4-rank Hogwild run stopped at step 50 goes on on 2 ranks at step 100 of the 2-rank run's
    /// steps and applies exactly the updates left (2 x (total - 100)).
    func testAHogwildRunResumesOnAnotherNumberOfRanks() throws {
        try XCTSkipUnless(CLI.hasMPI, "mpirun is not installed (launch/setup installs openmpi-bin)")
        try XCTSkipUnless(CLI.hasFashionMNIST, "Fashion-MNIST is not installed (launch/setup installs it)")
        let dir = try CLI.temporaryDirectory()
        let path = try CLI.writeSmallConfig(in: dir, name: "hogwild", extra: "distributed: {mode: hogwild}\n")
        func train(_ ranks: Int, _ extra: [String]) throws -> CLI.Output {
            try CLI.run(["/usr/bin/mpirun", "-np", String(ranks), "--oversubscribe", "--bind-to", "none", CLI.binary.path, "train", path, "--quiet"] + extra)
        }
        let first = try train(4, ["--set", "training.max_steps=50"])
        XCTAssertEqual(first.status, 0, first.stderr)
        let resumed = try train(2, ["--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        let line = try XCTUnwrap(resumed.stdout.split(separator: "\n").first { $0.hasPrefix("resumed on 2 ranks from a Hogwild checkpoint written by 4: step 50 -> 100 of ") },
                                 resumed.stdout)
        XCTAssertTrue(line.contains("(the same share of training), every sampler from example "), String(line))
        let total = try XCTUnwrap(Int(line.split(separator: " ")[16]), String(line))
        XCTAssertTrue(resumed.stdout.contains("hogwild: 2 ranks applied \(2 * (total - 100)) updates"), resumed.stdout)
    }

    /// A 4-rank checkpoint resumed on 2 ranks and a 2-rank one resumed on 4, each for 100 more
    /// steps, end where the uninterrupted run does: every tensor within 1e-5 of it in relative L2
    /// norm (the summation order of the gradient average differs; measured 2e-7 to 3e-7 on an AVX2
    /// EPYC), where a wrong batch, sample order or rate is off by far more. 3 ranks are refused.
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
            let r = try CLI.run(["/usr/bin/mpirun", "-np", String(ranks), "--oversubscribe", "--bind-to", "none", CLI.binary.path] + args)
            return r
        }
        func parameters(_ name: String) throws -> SafetensorsFile {
            let file = try Safetensors.read(from: dir.appendingPathComponent("\(name)/checkpoints/latest.safetensors"))
            XCTAssertEqual(file.metadata["step"], "120", name)
            return file
        }
        let cases: [(name: String, ranks: Int, batch: Int, resumedOn: Int, line: String)] = [
            ("from4", 4, 32, 2, "resumed on 2 ranks from a checkpoint written by 4: training.batch_size 32 -> 32 per rank, training.accumulate 1 -> 2 (global batch 128 kept)"),
            ("from2", 2, 64, 4, "resumed on 4 ranks from a checkpoint written by 2: training.batch_size 64 -> 32 per rank, training.accumulate 1 -> 1 (global batch 128 kept)"),
        ]
        for c in cases {
            let whole = try train(c.ranks, try config("\(c.name)-whole", batch: c.batch), steps: 120)
            XCTAssertEqual(whole.status, 0, whole.stderr)
            let path = try config(c.name, batch: c.batch)
            let first = try train(c.ranks, path, steps: 20)
            XCTAssertEqual(first.status, 0, first.stderr)
            let resumed = try train(c.resumedOn, path, steps: 120, resume: true)
            XCTAssertEqual(resumed.status, 0, resumed.stderr)
            XCTAssertTrue(resumed.stdout.contains(c.line), resumed.stdout)
            let reference = try parameters("\(c.name)-whole"), other = try parameters(c.name)
            for tensor in reference.names where !tensor.hasPrefix("optimizer.") {
                let x = try reference.floatTensor(tensor).scalars, y = try other.floatTensor(tensor).scalars
                let difference = zip(x, y).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }.squareRoot()
                let norm = x.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
                XCTAssertLessThan(difference / norm, 1e-5, "\(c.name) \(tensor): relative difference \(difference / norm)")
            }
        }

        let three = try train(3, try config("from2", batch: 64), steps: 140, resume: true)
        XCTAssertNotEqual(three.status, 0)
        XCTAssertTrue(three.stderr.contains("--resume on 3 ranks: the checkpoint's global batch of 128 (written by 4 ranks) is not a multiple of 3"), three.stderr)
    }
}
