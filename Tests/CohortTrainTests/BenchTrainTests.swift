import XCTest
import Cohort
import Foundation

/// `cohort bench train` runs the same training step as `cohort train`: after warm-up it must
/// allocate nothing, in one process and under mpirun with the shared-memory reducer or Hogwild (the
/// release build: the debug build's unoptimised code allocates where the release build does not).
/// The MPI reducer is not among them: Open MPI's allreduce mallocs its own temporary buffers.
/// oneDNN's executions malloc (their argument maps, and per implementation more: brgemm on AVX-512,
/// gemm:jit on AVX2); the bench counts the allocations made during each execution apart, exactly,
/// and Cohort's own remainder must be zero, in fp32 and bf16, whichever implementation oneDNN picks.
final class BenchTrainTests: XCTestCase {
    var release: URL {
        CLI.binary.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("release/cohort")
    }

    override func setUpWithError() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: release.path), "no release build (launch/setup makes one)")
        try XCTSkipUnless(CLI.hasFashionMNIST, "Fashion-MNIST is not installed (launch/setup installs it)")
    }

    func result(_ output: CLI.Output) throws -> [String: Any] {
        XCTAssertEqual(output.status, 0, output.stderr)
        let line = output.stdout.split(separator: "\n").last { $0.hasPrefix("{") } ?? ""
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], output.stdout)
    }

    /// Cohort's own allocations per step: all of them less those made inside oneDNN's executions.
    func own(_ r: [String: Any]) -> Double? {
        guard let all = r["allocationsPerStep"] as? Double, let library = r["oneDNNAllocationsPerStep"] as? Double else { return nil }
        return all - library
    }

    func testOneProcessStepsAllocateNothing() throws {
        let bf16 = CPUFeatures.avx512BF16 ? ["--precision", "bf16"] : ["--precision", "bf16", "--allow-emulated-bf16"]
        // resnet in fp32 only: its steps cost 4x the cnn's.
        for workload in ["mlp", "cnn", "resnet"] {
            for precision in workload == "resnet" ? [["--precision", "fp32"]] : [["--precision", "fp32"], bf16] {
                let r = try result(try CLI.run([release.path, "bench", "train", "--workload", workload, "--steps", "10", "--json"] + precision))
                XCTAssertEqual(own(r), 0, "\(workload) \(precision): \(r)")
                XCTAssertEqual(r["sync"] as? String, "none")
                XCTAssertEqual(r["precision"] as? String, precision == bf16 ? (CPUFeatures.avx512BF16 ? "bf16" : "bf16-emulated") : "fp32")
            }
        }
        // With OpenBLAS for every product, there is nothing to subtract; with oneDNN for every one
        // (whichever implementation it picks on this CPU), its executions are counted apart exactly.
        let r = try result(try CLI.run([release.path, "bench", "train", "--steps", "10", "--json", "--fp32-backend", "openblas"]))
        XCTAssertEqual(r["allocationsPerStep"] as? Double, 0, "\(r)")
        XCTAssertEqual(r["oneDNNExecutionsPerStep"] as? Double, 0, "\(r)")
        for workload in ["mlp", "cnn"] {
            let d = try result(try CLI.run([release.path, "bench", "train", "--workload", workload, "--steps", "10", "--json", "--fp32-backend", "onednn"]))
            XCTAssertEqual(own(d), 0, "\(workload) on oneDNN: \(d)")
            XCTAssertGreaterThan(d["oneDNNExecutionsPerStep"] as? Double ?? 0, 0, "\(workload) on oneDNN: \(d)")
        }
    }

    /// The step's time by layer kind: every kind the cnn has takes time, the one it lacks none,
    /// and the rows add up to the step (the run loop's own moments between steps aside).
    func testTimeByKindSplitsTheStep() throws {
        let r = try result(try CLI.run([release.path, "bench", "train", "--workload", "cnn", "--steps", "10", "--json"]))
        let rows = try XCTUnwrap(r["timeByKind"] as? [[String: Any]], "\(r)")
        let ms = Dictionary(uniqueKeysWithValues: rows.map { ($0["kind"] as? String ?? "", $0["ms"] as? Double ?? -1) })
        for kind in ["convolution", "pooling", "elementwise", "linear", "loss", "optimizer", "data and other"] {
            XCTAssertGreaterThan(ms[kind] ?? 0, 0, "\(kind) in \(rows)")
        }
        XCTAssertEqual(ms["batch/layer norm"], 0, "\(rows)")
        let step = try XCTUnwrap(r["stepMs"] as? Double)
        XCTAssertEqual(ms.values.reduce(0, +), step, accuracy: 0.1 * step, "\(rows)")
    }

    func testTwoRankStepsAllocateNothing() throws {
        try XCTSkipUnless(CLI.hasMPI, "mpirun is not installed (launch/setup installs openmpi-bin)")
        for (mode, sync) in [("sync", "shm"), ("hogwild", "none")] {
            let r = try result(try CLI.run(["/usr/bin/mpirun", "-np", "2", "--oversubscribe", "--bind-to", "none", release.path, "bench", "train",
                                            "--steps", "20", "--mode", mode, "--reducer", "shm", "--json",
                                            "--fp32-backend", "onednn"], timeout: 120))  // oneDNN's allocations counted apart under MPI too
            XCTAssertEqual(r["ranks"] as? Int, 2)
            XCTAssertEqual(r["sync"] as? String, sync)
            XCTAssertEqual(own(r), 0, "\(mode): \(r)")
        }
    }
}
