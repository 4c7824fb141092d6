import XCTest
import Cohort
import CohortFormats
@testable import CohortTrain

extension ArraySlice {
    /// Every `n`th element from the first.
    func striding(_ n: Int) -> [Element] { Swift.stride(from: startIndex, to: endIndex, by: n).map { self[$0] } }
}

/// Data-parallel training under `mpirun -np 2` (spawned by the test).
final class DistributedTrainingTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(CLI.hasMPI, "mpirun is not installed (launch/setup installs openmpi-bin)")
        try XCTSkipUnless(CLI.hasFashionMNIST, "Fashion-MNIST is not installed (launch/setup installs it)")
    }

    func mpirun(_ ranks: Int, _ arguments: [String], timeout: Double = 300, environment: [String: String] = [:]) throws -> CLI.Output {
        try CLI.run(["/usr/bin/mpirun", "-np", String(ranks), "--oversubscribe", "--bind-to", "none", CLI.binary.path] + arguments,
                    timeout: timeout, environment: environment)
    }

    func config(_ dir: URL, _ name: String, _ extra: String = "") throws -> String {
        let url = dir.appendingPathComponent("\(name).yaml")
        try CLI.smallConfig(name: name, extra: "output: {directory: \(dir.path)}\n" + extra).write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func trainLosses(_ run: URL) throws -> [Double] {
        let text = try String(contentsOf: run.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        return try text.split(separator: "\n").compactMap { line in
            let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            return o["split"] as? String == "train" ? o["loss"] as? Double : nil
        }
    }

    /// 2 ranks x batch 64 follow 1 rank x batch 128: same loss curve, same parameters (1e-4
    /// relative), and bitwise-identical parameters across ranks (checked every step).
    func testTwoRanksEqualOneRankWithTwiceTheBatch() throws {
        let dir = try CLI.temporaryDirectory()
        let common = ["--set", "training.max_steps=100", "--set", "distributed.check_every=1", "--quiet"]
        let one = try CLI.run(["cohort", "train", try config(dir, "one"), "--set", "training.batch_size=128"] + common)
        XCTAssertEqual(one.status, 0, one.stderr)
        // Through shared memory (the default on one node), MPI after backward, and MPI in 64 KB buckets
        // started from the gradient hooks during backward.
        let variants: [(String, [String])] = [
            ("two", []),
            ("mpi", ["--set", "distributed.reducer=mpi"]),
            ("overlapped", ["--set", "distributed.reducer=mpi", "--set", "distributed.overlap=true",
                            "--set", "distributed.bucket_mb=0.0625", "--set", "distributed.first_bucket_mb=0.0625"]),
            // 2 ranks x 2 accumulated micro-batches of 32: synchronised only on the second.
            ("accumulated", ["--set", "training.batch_size=32", "--set", "training.accumulate=2", "--set", "distributed.reducer=mpi",
                             "--set", "distributed.overlap=true", "--set", "distributed.bucket_mb=0.0625",
                             "--set", "distributed.first_bucket_mb=0.0625"]),
        ]
        for (name, extra) in variants {
            let two = try mpirun(2, ["train", try config(dir, name), "--set", "training.batch_size=64"] + common + extra)
            XCTAssertEqual(two.status, 0, two.stderr)

            let a = try trainLosses(dir.appendingPathComponent("one")), b = try trainLosses(dir.appendingPathComponent(name))
            XCTAssertEqual(a.count, 10)
            XCTAssertEqual(a.count, b.count)
            for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: 1e-4 * max(1, abs(x)), name) }

            let pa = try Safetensors.read(from: dir.appendingPathComponent("one/checkpoints/latest.safetensors"))
            let pb = try Safetensors.read(from: dir.appendingPathComponent("\(name)/checkpoints/latest.safetensors"))
            XCTAssertEqual(pa.metadata["step"], "100")
            for tensor in pa.names where !tensor.hasPrefix("optimizer.") {
                let x = try pa.floatTensor(tensor).scalars, y = try pb.floatTensor(tensor).scalars
                var worst: Float = 0
                for (u, v) in zip(x, y) { worst = max(worst, abs(u - v) / max(abs(u), abs(v), 1e-3)) }
                // Accumulation adds four partial sums instead of two: more rounding, amplified over 100 steps.
                // oneDNN's gemm:jit (AVX2) sums a product in an order that depends on its rows, so a
                // batch of 64 and one of 128 round apart too (1.1e-4 after 100 steps on an AVX2 EPYC,
                // against under 1e-4 with brgemm or OpenBLAS); a wrong average is off by far more.
                let bound: Float = name == "accumulated" ? 5e-4 : 2e-4
                XCTAssertLessThan(worst, bound, "\(name) \(tensor): worst relative difference \(worst)")
            }
        }
    }

    func testNaNOnOneRankEndsTheJobWithThatRanksMessage() throws {
        let dir = try CLI.temporaryDirectory()
        let start = Date()
        let r = try mpirun(2, ["train", try config(dir, "nan"), "--set", "training.max_steps=400", "--quiet"], timeout: 60,
                           environment: ["COHORT_INJECT_NAN": "1:5"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertLessThan(Date().timeIntervalSince(start), 30)
        XCTAssertTrue(r.stderr.contains("rank 1: error: step 5: the loss is nan"), r.stderr)
    }

    func testUnevenShardsFinish() throws {
        let dir = try CLI.temporaryDirectory()
        // 1001 examples over 2 ranks: one rank's shard is padded so both take the same number of steps.
        let r = try mpirun(2, ["train", try config(dir, "uneven"), "--set", "data.train_limit=1001", "--set", "training.epochs=2",
                               "--set", "training.batch_size=50", "--set", "training.log_every=5", "--rank-logs", "--quiet"], timeout: 120)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("test accuracy"), r.stdout)
        // Each rank logged its own steps: 501 samples per rank (one padded) / 50 = 10 steps per epoch.
        for rank in 0..<2 {
            let log = try String(contentsOf: dir.appendingPathComponent("uneven/rank-\(rank).log"), encoding: .utf8)
            XCTAssertTrue(log.contains("step 20 epoch 1 rank \(rank):"), log)  // epochs count from 0 while running
        }
    }

    func testRanksWithDifferentConfigsAreRejected() throws {
        let dir = try CLI.temporaryDirectory()
        let a = try config(dir, "same")
        // The same run name, a different model: rank 1 would otherwise train a different network.
        let other = dir.appendingPathComponent("other.yaml")
        try CLI.smallConfig(name: "same", extra: "output: {directory: \(dir.path)}\n").replacingOccurrences(of: "out: 32", with: "out: 16")
            .write(to: other, atomically: true, encoding: .utf8)
        let r = try CLI.run(["/usr/bin/mpirun", "--oversubscribe", "--bind-to", "none", "-np", "1", CLI.binary.path, "train", a, "--quiet",
                             ":", "-np", "1", CLI.binary.path, "train", other.path, "--quiet"], timeout: 60)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("different configs"), r.stderr)
    }

    /// With overlap on, the trace shows bucket allreduces starting while backward still runs.
    func testTraceShowsAllreduceOverlappingBackward() throws {
        let dir = try CLI.temporaryDirectory()
        let trace = dir.appendingPathComponent("trace.json").path
        let r = try mpirun(2, ["train", try config(dir, "traced"), "--set", "training.max_steps=20", "--set", "distributed.reducer=mpi",
                               "--set", "distributed.overlap=true",
                               "--set", "distributed.bucket_mb=0.001", "--set", "distributed.first_bucket_mb=0.001", "--trace", trace, "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        for rank in 0..<2 {
            let data = try Data(contentsOf: URL(fileURLWithPath: "\(trace).rank\(rank)"))
            let events = (try JSONSerialization.jsonObject(with: data) as! [String: Any])["traceEvents"] as! [[String: Any]]
            let spans = events.filter { $0["ph"] as? String == "X" }
            let compute = spans.filter { $0["name"] as? String == "forward+backward" }
            let buckets = spans.filter { ($0["name"] as? String)?.hasPrefix("allreduce bucket") == true }
            XCTAssertEqual(compute.count, 20)
            XCTAssertGreaterThan(buckets.count, 20)
            // Some bucket starts before the end of its step's forward+backward span.
            let overlapped = buckets.contains { b in
                let start = b["ts"] as! Double
                return compute.contains { c in
                    let s = c["ts"] as! Double, e = s + (c["dur"] as! Double)
                    return start > s && start < e
                }
            }
            XCTAssertTrue(overlapped, "rank \(rank): no bucket started during backward")
        }
    }

    func testAllreduceBenchmarkRuns() throws {
        let r = try mpirun(2, ["bench", "allreduce", "--max-bytes", "65536", "--seconds", "0.01"], timeout: 60)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("bus GB/s"), r.stdout)
        let rows = r.stdout.split(separator: "\n").filter { $0.contains("µs") }.map { $0.split(separator: " ").map(String.init) }
        XCTAssertEqual(rows.count, 15, "5 sizes x 3 wire types")
        // bytes, wire, time, "µs", sent/rank: each 16-bit row sends half its fp32 row's bytes.
        for (fp32, bf16, fp16) in zip(zip(rows[0...].striding(3), rows[1...].striding(3)), rows[2...].striding(3)).map({ ($0.0, $0.1, $1) }) {
            XCTAssertEqual([fp32[1], bf16[1], fp16[1]], ["fp32", "bf16", "fp16"])
            XCTAssertEqual(Double(fp32[4])!, Double(fp32[0])!, "2 ranks: each sends (2 - 1) x 2 / 2 of the values")
            XCTAssertEqual(Double(bf16[4])!, Double(fp32[4])! / 2)
            XCTAssertEqual(Double(fp16[4])!, Double(fp32[4])! / 2)
        }
    }
}
