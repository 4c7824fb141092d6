import XCTest
import Cohort
import CohortFormats

/// Every multi-node path, on one machine: `mpirun -np 4` with `distributed.ranks_per_node: 2` runs
/// as 2 fake nodes x 2 ranks (shared-memory segments per node, node leaders, their communicator).
final class MultiNodeTrainingTests: XCTestCase {
    var dir = URL(fileURLWithPath: "/")

    override func setUpWithError() throws {
        try XCTSkipUnless(CLI.hasMPI, "mpirun is not installed (launch/setup installs openmpi-bin)")
        try XCTSkipUnless(CLI.hasFashionMNIST, "Fashion-MNIST is not installed (launch/setup installs it)")
        dir = try CLI.temporaryDirectory()
    }

    func mpirun(_ ranks: Int, _ arguments: [String], timeout: Double = 300, environment: [String: String] = [:]) throws -> CLI.Output {
        try CLI.run(["/usr/bin/mpirun", "-np", String(ranks), "--oversubscribe", "--bind-to", "none", CLI.binary.path] + arguments,
                    timeout: timeout, environment: environment)
    }

    func config(_ name: String, _ extra: String = "") throws -> String {
        let url = dir.appendingPathComponent("\(name).yaml")
        try CLI.smallConfig(name: name, extra: "output: {directory: \(dir.path)}\n" + extra).write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    /// Two fake nodes of two ranks each.
    let twoNodes = ["--set", "distributed.ranks_per_node=2"]

    func parameters(_ run: String) throws -> [String: [Float]] {
        let file = try Safetensors.read(from: dir.appendingPathComponent("\(run)/checkpoints/latest.safetensors"))
        var out: [String: [Float]] = [:]
        for name in file.names where !name.hasPrefix("optimizer.") { out[name] = try file.floatTensor(name).scalars }
        return out
    }

    /// The worst relative difference between two runs' parameters.
    func worstDifference(_ a: String, _ b: String) throws -> Float {
        let pa = try parameters(a), pb = try parameters(b)
        XCTAssertEqual(Set(pa.keys), Set(pb.keys))
        var worst: Float = 0
        for (name, x) in pa {
            for (u, v) in zip(x, pb[name]!) { worst = max(worst, abs(u - v) / max(abs(u), abs(v), 1e-3)) }
        }
        return worst
    }

    func report(_ run: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("\(run)/report.json"))) as! [String: Any]
    }

    func cohortSegments() -> Set<String> {
        Set(((try? FileManager.default.contentsOfDirectory(atPath: "/dev/shm")) ?? []).filter { $0.hasPrefix("cohort-") })
    }

    /// After 100 steps the hierarchical reducer (auto across 2 fake nodes) holds the parameters of
    /// the flat MPI reducer (1e-5 relative) and of one process with a 4x batch (1e-4, as 2 ranks do).
    func testHierarchicalReducerMatchesFlatMPIAndOneProcessWithFourTimesTheBatch() throws {
        let common = ["--set", "training.max_steps=100", "--set", "distributed.check_every=1", "--quiet"]
        let one = try CLI.run(["cohort", "train", try config("one"), "--set", "training.batch_size=256"] + common)
        XCTAssertEqual(one.status, 0, one.stderr)
        let hierarchical = try mpirun(4, ["train", try config("hierarchical")] + twoNodes + common)
        XCTAssertEqual(hierarchical.status, 0, hierarchical.stderr)
        let flat = try mpirun(4, ["train", try config("flat"), "--set", "distributed.reducer=mpi"] + twoNodes + common)
        XCTAssertEqual(flat.status, 0, flat.stderr)

        let h = try report("hierarchical"), f = try report("flat")
        XCTAssertEqual(h["synchronization"] as? String, "hierarchical")
        XCTAssertEqual(h["nodes"] as? Int, 2)
        XCTAssertEqual(f["synchronization"] as? String, "mpi")
        XCTAssertEqual(h["steps"] as? Int, 100)
        let flatDifference = try worstDifference("hierarchical", "flat")
        XCTAssertLessThan(flatDifference, 1e-5, "hierarchical against flat MPI")
        let oneDifference = try worstDifference("hierarchical", "one")
        XCTAssertLessThan(oneDifference, 1e-4, "hierarchical against one process with a 4x batch")
        let report = try String(contentsOf: dir.appendingPathComponent("hierarchical/report.md"), encoding: .utf8)
        XCTAssertTrue(report.contains("| ranks | 4 on 2 nodes (sync, hierarchical reducer, fp32 on the wire) |"), report)
    }

    /// bf16 on the wire sends half the bytes of fp32 per step, and a short run with it (through the
    /// hierarchical reducer, and through flat MPI with error feedback) trains as well as fp32, with
    /// other weights.
    func testBF16OnTheWireHalvesTheBytesAndTrains() throws {
        let steps = ["--set", "training.max_steps=120", "--set", "distributed.check_every=10", "--quiet"] + twoNodes
        let fp32 = try mpirun(4, ["train", try config("fp32")] + steps)
        XCTAssertEqual(fp32.status, 0, fp32.stderr)
        let reference = try XCTUnwrap(CLI.testAccuracy(fp32), fp32.stdout)
        let fp32Bytes = try XCTUnwrap(try report("fp32")["wireBytesPerStep"] as? Double)
        XCTAssertGreaterThan(fp32Bytes, 0)
        // Each bf16 value is 2 bytes; flat MPI over 4 ranks sends 2 (4 - 1) copies of the gradients'
        // worth per step where the 2 leaders send 2 (2 - 1).
        let variants: [(String, [String], Double)] = [
            ("bf16", ["--set", "distributed.wire=bf16"], 0.5),
            ("bf16-feedback", ["--set", "distributed.wire=bf16", "--set", "distributed.error_feedback=true", "--set", "distributed.reducer=mpi"], 1.5),
        ]
        for (name, extra, bytesRatio) in variants {
            let r = try mpirun(4, ["train", try config(name)] + steps + extra)
            XCTAssertEqual(r.status, 0, r.stderr)
            let accuracy = try XCTUnwrap(CLI.testAccuracy(r), r.stdout)
            XCTAssertEqual(accuracy, reference, accuracy: 0.01, "\(name): 120 steps against fp32 on the wire")
            XCTAssertGreaterThan(try worstDifference(name, "fp32"), 1e-4, "\(name): the weights should differ from fp32's")
            let summary = try report(name)
            XCTAssertEqual(summary["wire"] as? String, "bf16")
            XCTAssertEqual(summary["wireBytesPerStep"] as? Double, fp32Bytes * bytesRatio, name)
        }
    }

    /// Hogwild on each of 2 fake nodes, the leaders averaging every 20 steps: it trains, ends on one
    /// average (the checkpoint evaluates as the run did, over ranks of both nodes), and leaves no segment.
    func testHogwildOnTwoNodesAveragesAndEndsOnTheAverage() throws {
        let before = cohortSegments()
        let r = try mpirun(4, ["train", try config("hogwild", "distributed: {mode: hogwild, average_every: 20}\n"),
                               "--set", "optimizer.lr=0.02", "--quiet"] + twoNodes)
        XCTAssertEqual(r.status, 0, r.stderr)
        // 59000 examples / 4 ranks / batch 64 = 230 steps per rank: 460 updates per node, 230 node steps,
        // 11 averages while training and the final one.
        XCTAssertTrue(r.stdout.contains("hogwild: 4 ranks applied 920 updates") && r.stdout.contains("on 2 nodes, averaged 12 times"), r.stdout)
        let accuracy = try XCTUnwrap(CLI.testAccuracy(r), r.stdout)
        XCTAssertGreaterThan(accuracy, 0.78)
        let eval = try CLI.run(["cohort", "eval", dir.appendingPathComponent("hogwild/checkpoints/latest.safetensors").path])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        XCTAssertTrue(eval.stdout.contains(String(format: "%.4f", accuracy)), "the checkpoint is the model the run evaluated: \(eval.stdout) vs \(accuracy)")
        XCTAssertEqual(cohortSegments(), before)
    }

    /// A rank of the second fake node killed at step 20 ends the whole job (sync and Hogwild), and
    /// nothing is left in /dev/shm.
    func testAKilledRankOnTheSecondNodeEndsTheJob() throws {
        let before = cohortSegments()
        for (name, extra) in [("sync", [String]()), ("hogwild", ["--set", "distributed.mode=hogwild", "--set", "distributed.average_every=10"])] {
            let start = Date()
            let r = try mpirun(4, ["train", try config("killed-\(name)"), "--quiet"] + twoNodes + extra, timeout: 90,
                               environment: ["COHORT_INJECT_KILL": "3:20"])
            XCTAssertNotEqual(r.status, 0, name)
            XCTAssertLessThan(Date().timeIntervalSince(start), 45, name)
            XCTAssertTrue(r.stderr.contains("rank 3") && r.stderr.contains("signal 9"), "\(name): \(r.stderr)")
            XCTAssertEqual(cohortSegments(), before, name)
        }
    }

    /// A rank of the second node that stops making progress ends the job through the watchdog,
    /// which watches the node's barriers and the leaders' exchanges alike.
    func testAStalledRankOnTheSecondNodeEndsTheJob() throws {
        let start = Date()
        let r = try mpirun(4, ["train", try config("stalled", "distributed: {timeout: 3, ranks_per_node: 2}\n"), "--quiet"], timeout: 60,
                           environment: ["COHORT_INJECT_STOP": "3:20"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("no progress from") && r.stderr.contains("distributed.timeout is 3 s"), r.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(start), 30)
    }

    /// A topology that does not divide the ranks, a wire the reducer cannot use, and average_every
    /// outside Hogwild: one line naming the key, before any rank waits on another.
    func testBadTopologyWireAndAveragingAreRefusedByKey() throws {
        let cases: [([String], String)] = [
            (["--set", "distributed.ranks_per_node=2"], "distributed.ranks_per_node: 2 does not divide the job's 1 rank"),
            (["--set", "distributed.wire=bf16", "--set", "distributed.reducer=shm"], "distributed.wire: bf16 applies to the mpi and hierarchical reducers"),
            (["--set", "distributed.wire=fp16", "--set", "distributed.mode=hogwild"], "distributed.wire: fp16 carries the gradients of sync training"),
            (["--set", "distributed.wire=bf16", "--set", "distributed.overlap=true"], "distributed.wire: bf16 buckets are sent after backward"),
            (["--set", "distributed.error_feedback=true"], "distributed.error_feedback: needs a 16-bit distributed.wire"),
            (["--set", "distributed.average_every=10"], "distributed.average_every: averages Hogwild arenas across nodes; it does not apply to mode sync"),
            (["--set", "distributed.wire=bf32"], "distributed.wire: must be fp32, bf16 or fp16, got 'bf32'"),
        ]
        for (extra, message) in cases {
            let r = try CLI.run(["cohort", "train", try config("bad"), "--quiet"] + extra)
            XCTAssertNotEqual(r.status, 0, message)
            XCTAssertTrue(r.stderr.contains(message), "\(message): \(r.stderr)")
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        }
        // Under mpirun: 3 ranks cannot form nodes of 2; refused before the ranks exchange anything
        // (no run folder), and 4 ranks on one node with bf16 need a reducer that uses MPI.
        let r = try mpirun(3, ["train", try config("three"), "--quiet"] + twoNodes, timeout: 60)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("distributed.ranks_per_node: 2 does not divide the job's 3 ranks"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("three").path))
        let shm = try mpirun(2, ["train", try config("one-node"), "--quiet", "--set", "distributed.wire=bf16"], timeout: 60)
        XCTAssertNotEqual(shm.status, 0)
        XCTAssertTrue(shm.stderr.contains("distributed.wire: bf16 needs a reducer that sends gradients over MPI, but reducer auto on one node averages through shared memory"), shm.stderr)
    }
}
