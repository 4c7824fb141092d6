import XCTest
import Cohort
import CohortFormats

/// The multi-node paths across separate hosts (`FakeHosts`: 2 hosts x 2 ranks), launched as a user
/// would with `launch/train --hostfile` from the first host: the nodes are the ones MPI reports
/// (no `ranks_per_node`), each host's ranks share its own /dev/shm, and nothing is left in it.
final class FakeHostTrainingTests: XCTestCase {
    var dir = URL(fileURLWithPath: "/")

    override func setUpWithError() throws {
        try XCTSkipUnless(CLI.hasMPI, "mpirun is not installed (launch/setup installs openmpi-bin)")
        try XCTSkipUnless(CLI.hasFashionMNIST, "Fashion-MNIST is not installed (launch/setup installs it)")
        dir = try CLI.temporaryDirectory()
    }

    func config(_ name: String, _ extra: String = "") throws -> String { try CLI.writeSmallConfig(in: dir, name: name, extra: extra) }

    func assertNothingLeft(_ hosts: FakeHosts, _ what: String) throws {
        for host in hosts.names { XCTAssertEqual(try hosts.sharedMemory(host), [], "\(what): \(host)'s /dev/shm") }
    }

    /// Across 2 hosts the hierarchical reducer (auto) holds the parameters of the flat MPI reducer
    /// after 100 steps (1e-5 relative, as on fake nodes of one host), 16-bit gradients travel
    /// between the hosts, and Hogwild trains on each host's arena and ends on their average.
    func testSyncAndHogwildAcrossTwoHosts() throws {
        let hosts = try FakeHosts.make(2)
        defer { hosts.remove() }
        let common = ["--set", "training.max_steps=100", "--set", "distributed.check_every=10", "--quiet"]
        let hierarchical = try hosts.train(try config("hierarchical"), common)
        XCTAssertEqual(hierarchical.status, 0, hierarchical.stderr + hierarchical.stdout)
        let flat = try hosts.train(try config("flat"), common + ["--set", "distributed.reducer=mpi"])
        XCTAssertEqual(flat.status, 0, flat.stderr + flat.stdout)
        let report = try String(contentsOf: dir.appendingPathComponent("hierarchical/report.md"), encoding: .utf8)
        XCTAssertTrue(report.contains("| ranks | 4 on 2 nodes (sync, hierarchical reducer, fp32 on the wire) |"), report)
        let h = try CLI.checkpointTensors(in: dir, run: "hierarchical"), f = try CLI.checkpointTensors(in: dir, run: "flat")
        for (name, x) in h {
            let y = try XCTUnwrap(f[name])
            var worst: Float = 0
            for (u, v) in zip(x, y) { worst = max(worst, abs(u - v) / max(abs(u), abs(v), 1e-3)) }
            XCTAssertLessThan(worst, 1e-5, "\(name): hierarchical against flat MPI across hosts")
        }
        try assertNothingLeft(hosts, "sync")

        let bf16 = try hosts.train(try config("bf16"), common + ["--set", "distributed.wire=bf16"])
        XCTAssertEqual(bf16.status, 0, bf16.stderr + bf16.stdout)
        let bf16Report = try String(contentsOf: dir.appendingPathComponent("bf16/report.md"), encoding: .utf8)
        XCTAssertTrue(bf16Report.contains("| ranks | 4 on 2 nodes (sync, hierarchical reducer, bf16 on the wire) |"), bf16Report)

        let hogwild = try hosts.train(try config("hogwild", "distributed: {mode: hogwild, average_every: 20}\n"),
                                      ["--set", "optimizer.lr=0.02", "--quiet"])
        XCTAssertEqual(hogwild.status, 0, hogwild.stderr + hogwild.stdout)
        XCTAssertTrue(hogwild.stdout.contains("hogwild: 4 ranks applied 920 updates") && hogwild.stdout.contains("on 2 nodes, averaged 12 times"),
                      hogwild.stdout)
        try assertNothingLeft(hosts, "hogwild")
    }

    /// A rank on the second host killed at step 20 ends the whole job on both hosts, promptly.
    func testAKilledRankOnTheSecondHostEndsTheJob() throws {
        let hosts = try FakeHosts.make(2)
        defer { hosts.remove() }
        let start = Date()
        let r = try hosts.train(try config("killed"), ["--quiet"], timeout: 90, environment: ["COHORT_INJECT_KILL": "3:20"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertLessThan(Date().timeIntervalSince(start), 45)
        XCTAssertTrue(r.stderr.contains("rank 3") || r.stdout.contains("rank 3"), r.stderr + r.stdout)
        try assertNothingLeft(hosts, "killed")
    }

    /// The second host's link cut mid-run: the ranks cut off end on their watchdogs, and mpirun,
    /// which would wait for the unreachable host's daemon, is ended by launch/train a few seconds
    /// after rank 0 reported it: the job ends within distributed.timeout + 10 s of the cut.
    func testACutLinkEndsTheJobWithinTheTimeoutAndTenSeconds() throws {
        let hosts = try FakeHosts.make(2)
        defer { hosts.remove() }
        let cut = Collected()
        DispatchQueue.global().asyncAfter(deadline: .now() + 6) {
            cut.set(Date())
            hosts.link(hosts.names[1], up: false)
        }
        let r = try hosts.train(try config("cut", "distributed: {timeout: 5}\n"), ["--set", "training.epochs=50", "--quiet"], timeout: 120)
        let ended = Date()
        XCTAssertNotEqual(r.status, 0)
        let since = ended.timeIntervalSince(try XCTUnwrap(cut.get(), "the link was not cut: the run ended first\n" + r.stderr))
        XCTAssertLessThan(since, 15, "the job ended \(since) s after the cut\n" + r.stderr)
        XCTAssertTrue(r.stderr.contains("no progress from") && r.stderr.contains("ending the job (distributed.timeout is 5 s)"), r.stderr)
        XCTAssertTrue(r.stderr.contains("launch/train: rank ") && r.stderr.contains("(host \(hosts.names[1]) does not answer): ending it"), r.stderr)
        // The ranks cut off ended on their own watchdogs (only Open MPI's daemon, which cannot reach
        // mpirun, may wait there).
        for host in hosts.names {
            let left = try hosts.processes(host).filter { $0.contains("cohort train") }
            XCTAssertEqual(left, [], "\(host) still runs ranks")
        }
    }

    /// `launch/train --elastic 1 --restarts 1` on 2 hosts x 2 ranks, the second host cut off once the
    /// first checkpoint is written: the job fails, the host that does not answer is left out, and
    /// the run finishes on the first host's 2 ranks from that checkpoint with the global batch kept,
    /// at the test accuracy of an uninterrupted 4-rank run (within 0.3 points).
    func testAnElasticRunFinishesOnTheHostLeftAfterTheOtherIsCutOff() throws {
        let hosts = try FakeHosts.make(2)
        defer { hosts.remove() }
        let extra = "distributed: {timeout: 5}\n"
        let common = ["--set", "training.checkpoint_steps=50", "--quiet"]
        let full = try hosts.train(try config("full", extra), common)
        XCTAssertEqual(full.status, 0, full.stderr)

        let checkpoint = dir.appendingPathComponent("elastic/checkpoints/latest.safetensors").path
        let cut = Collected()
        DispatchQueue.global().async {
            let deadline = Date().addingTimeInterval(120)
            while !FileManager.default.fileExists(atPath: checkpoint) && Date() < deadline { usleep(50_000) }
            cut.set(Date())
            hosts.link(hosts.names[1], up: false)
        }
        let r = try hosts.train(try config("elastic", extra), common, launcher: ["--elastic", "1", "--restarts", "1"], timeout: 240)
        XCTAssertNotNil(cut.get(), "no checkpoint was written: the link was never cut\n" + r.stderr)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("launch/train: starting on 2 hosts (\(hosts.names[0]), \(hosts.names[1])), 4 ranks"), r.stderr)
        XCTAssertTrue(r.stderr.contains("(host \(hosts.names[1]) does not answer): ending it"), r.stderr)
        XCTAssertTrue(r.stderr.contains("launch/train: host \(hosts.names[1]) does not answer (probed through \(hosts.dir.path)/agent): left out"), r.stderr)
        XCTAssertTrue(r.stderr.contains("launch/train: starting on 1 host (\(hosts.names[0])), 2 ranks"), r.stderr)
        XCTAssertTrue(r.stdout.contains("resumed on 2 ranks from a checkpoint written by 4: training.batch_size 64 -> 64 per rank, training.accumulate 1 -> 2 (global batch 256 kept)"),
                      r.stdout)
        let a = try XCTUnwrap(CLI.testAccuracy(full), full.stdout), b = try XCTUnwrap(CLI.testAccuracy(r), r.stdout)
        XCTAssertEqual(b, a, accuracy: 0.003, "test accuracy after losing a host against an uninterrupted run")
        for host in hosts.names {
            XCTAssertEqual(try hosts.processes(host).filter { $0.contains("cohort train") }, [], "\(host) still runs ranks")
        }
    }

    /// A host that does not answer at the start is left out, and comes back at the next restart
    /// once it answers again: the job finishes on 4 ranks from the 2-rank checkpoint. (Rank 1 is
    /// stopped at step 20 of the first start, which fails on its watchdog 5 s later, time for the
    /// link to be mended; a resumed run injects no faults.)
    func testAHostThatAnswersAgainComesBackAtTheNextRestart() throws {
        let hosts = try FakeHosts.make(2)
        defer { hosts.remove() }
        hosts.link(hosts.names[1], up: false)
        let checkpoint = dir.appendingPathComponent("back/checkpoints/latest.safetensors").path
        DispatchQueue.global().async {
            let deadline = Date().addingTimeInterval(120)
            while !FileManager.default.fileExists(atPath: checkpoint) && Date() < deadline { usleep(50_000) }
            hosts.link(hosts.names[1], up: true)
        }
        let r = try hosts.train(try config("back", "distributed: {timeout: 5}\n"),
                                ["--set", "training.checkpoint_steps=10", "--set", "training.max_steps=60", "--quiet"], launcher: ["--elastic", "1", "--restarts", "1"],
                                timeout: 180, environment: ["COHORT_INJECT_STOP": "1:20"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("no progress from rank 1"), r.stderr)
        XCTAssertTrue(r.stderr.contains("launch/train: host \(hosts.names[1]) does not answer (probed through \(hosts.dir.path)/agent): left out"), r.stderr)
        XCTAssertTrue(r.stderr.contains("launch/train: starting on 1 host (\(hosts.names[0])), 2 ranks"), r.stderr)
        XCTAssertTrue(r.stderr.contains("launch/train: host \(hosts.names[1]) answers again: back in"), r.stderr)
        XCTAssertTrue(r.stderr.contains("launch/train: starting on 2 hosts (\(hosts.names[0]), \(hosts.names[1])), 4 ranks"), r.stderr)
        XCTAssertTrue(r.stdout.contains("resumed on 4 ranks from a checkpoint written by 2: training.batch_size 64 -> 32 per rank"), r.stdout)
        XCTAssertNotNil(CLI.testAccuracy(r), r.stdout)
    }

    /// --elastic refuses what it cannot use, in one line, before anything starts.
    func testElasticOptionsAreChecked() throws {
        let hostfile = dir.appendingPathComponent("hosts")
        try "localhost slots=2\n".write(to: hostfile, atomically: true, encoding: .utf8)
        let launch = FakeHosts.repository.appendingPathComponent("launch/train").path
        for (arguments, message) in [(["--elastic", "1"], "--elastic needs --hostfile"),
                                     (["--elastic", "0", "--hostfile", hostfile.path], "--elastic takes a number of hosts (at least 1), got '0'"),
                                     (["-n", "2", "--elastic", "1", "--hostfile", hostfile.path], "leave out -n")] {
            let r = try CLI.run(["/bin/bash", launch, "--no-setup"] + arguments + ["x.yaml"], timeout: 30)
            XCTAssertEqual(r.status, 2, r.stderr)
            XCTAssertTrue(r.stderr.contains(message), r.stderr)
        }
    }

    final class Collected: @unchecked Sendable {
        private var date: Date?
        private let lock = NSLock()
        func set(_ d: Date) { lock.lock(); date = d; lock.unlock() }
        func get() -> Date? { lock.lock(); defer { lock.unlock() }; return date }
    }
}
