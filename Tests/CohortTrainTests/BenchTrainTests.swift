import XCTest
import Foundation

/// `cohort bench train` runs the same training step as `cohort train`: after warm-up it must
/// allocate nothing, in one process and under mpirun with the shared-memory reducer or Hogwild (the
/// release build: the debug build's unoptimised code allocates where the release build does not).
/// The MPI reducer is not among them: Open MPI's allreduce mallocs its own temporary buffers.
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

    func testOneProcessStepsAllocateNothing() throws {
        for workload in ["mlp", "cnn", "resnet"] {
            let r = try result(try CLI.run([release.path, "bench", "train", "--workload", workload, "--steps", "20", "--json"]))
            XCTAssertEqual(r["allocationsPerStep"] as? Double, 0, "\(workload): \(r)")
            XCTAssertEqual(r["sync"] as? String, "none")
        }
    }

    func testTwoRankStepsAllocateNothing() throws {
        try XCTSkipUnless(CLI.hasMPI, "mpirun is not installed (launch/setup installs openmpi-bin)")
        for (mode, sync) in [("sync", "shm"), ("hogwild", "none")] {
            let r = try result(try CLI.run(["/usr/bin/mpirun", "-np", "2", "--oversubscribe", "--bind-to", "none", release.path, "bench", "train",
                                            "--steps", "20", "--mode", mode, "--reducer", "shm", "--json"], timeout: 120))
            XCTAssertEqual(r["ranks"] as? Int, 2)
            XCTAssertEqual(r["sync"] as? String, sync)
            XCTAssertEqual(r["allocationsPerStep"] as? Double, 0, "\(mode): \(r)")
        }
    }
}
