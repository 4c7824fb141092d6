import XCTest
import CohortFormats

/// launch/slurm on a real Slurm: Debian's slurm-wlm (`launch/slurm-test-cluster`: its own munged,
/// slurmctld and slurmds, every file in a temporary folder), jobs submitted with sbatch as a user
/// would. The cluster's nodes are 2 fake hosts (`FakeHosts`) with 1 CPU each, so a job's 2 ranks
/// are on separate hosts and mpirun reaches the second through Slurm alone; where fake hosts cannot
/// be made, this machine is the one node with 2 CPUs. Needs root (it installs slurm-wlm and munge
/// if missing and runs slurmd); skips, saying why, where Slurm cannot be installed or started.
final class SlurmTests: XCTestCase {
    static var script: String { FakeHosts.repository.appendingPathComponent("launch/slurm-test-cluster").path }
    var dir = URL(fileURLWithPath: "/")
    var cluster = URL(fileURLWithPath: "/")
    var hosts: FakeHosts?
    /// What a 2-rank job asks for, and what its report says of its ranks.
    var twoRanks: [String] { hosts == nil ? ["-n", "2"] : ["-N", "2", "--ntasks-per-node=1"] }
    var ranksLine: String { hosts == nil ? "| ranks | 2 (sync, shm reducer) |" : "| ranks | 2 on 2 nodes (sync, hierarchical reducer, fp32 on the wire) |" }

    override func setUpWithError() throws {
        try XCTSkipUnless(getuid() == 0, "the Slurm tests need root (they install slurm-wlm and run slurmd)")
        try XCTSkipUnless(CLI.hasMPI, "mpirun is not installed (launch/setup installs openmpi-bin)")
        try XCTSkipUnless(CLI.hasFashionMNIST, "Fashion-MNIST is not installed (launch/setup installs it)")
        dir = try CLI.temporaryDirectory()
        cluster = dir.appendingPathComponent("cluster")
        hosts = try? FakeHosts.make(2)
        // Installing slurm-wlm and munge the first time takes about half a minute.
        let up = try CLI.run(["/bin/bash", Self.script, "up", cluster.path] + (hosts.map { [$0.dir.path] } ?? []), timeout: 240)
        guard up.status == 0 else {
            tearDownCluster()
            throw XCTSkip("launch/slurm-test-cluster could not start Slurm here: \(up.stderr)")
        }
    }

    override func tearDown() {
        tearDownCluster()
        try? FileManager.default.removeItem(at: dir)
    }

    func tearDownCluster() {
        let down = try? CLI.run(["/bin/bash", Self.script, "down", cluster.path], timeout: 90)
        XCTAssertEqual(down?.status, 0, "launch/slurm-test-cluster down: \(down?.stderr ?? "did not run")")
        hosts?.remove()
        hosts = nil
    }

    /// A shell line where the test cluster's commands reach its controller, from the repository's folder.
    @discardableResult
    func slurm(_ line: String, timeout: Double = 30, environment: [String: String] = [:]) throws -> CLI.Output {
        try CLI.run([cluster.appendingPathComponent("run").path, "cd '\(FakeHosts.repository.path)' && \(line)"], timeout: timeout,
                    environment: environment.merging(["COHORT_BIN": CLI.binary.path]) { a, _ in a })
    }

    /// `sbatch --parsable OPTIONS launch/slurm --no-setup LAUNCHER CONFIG ARGS` on the binary under test, the
    /// job's output in `output`: the job id, or with --wait its end.
    func submit(_ options: [String], _ config: String, _ arguments: [String], launcher: [String] = [], output: URL, timeout: Double = 30,
                environment: [String: String] = [:]) throws -> CLI.Output {
        try slurm((["sbatch", "--parsable", "--output", output.path] + options + ["launch/slurm", "--no-setup"] + launcher + [config] + arguments)
                    .map { "'\($0)'" }.joined(separator: " "), timeout: timeout, environment: environment)
    }

    /// The nodes' states and the job's, and the controller's last lines, for a failure's message.
    func clusterState(_ job: String) -> String {
        let state = (try? slurm("sinfo -N -o '%N %t %E'; scontrol show job \(job)").stdout) ?? ""
        let log = (try? String(contentsOf: cluster.appendingPathComponent("slurmctld.log"), encoding: .utf8)) ?? ""
        return "\n" + state + log.split(separator: "\n").suffix(15).joined(separator: "\n")
    }

    func jobState(_ job: String) throws -> String {
        let r = try slurm("scontrol show job \(job)")
        return r.stdout.components(separatedBy: "JobState=").dropFirst().first?.split(separator: " ").first.map(String.init) ?? "unknown"
    }

    /// Waits (at most `seconds`) until `done` holds; fails the test saying `what` if it never does.
    func wait(_ what: @autoclosure () -> String, _ seconds: Double, _ done: () throws -> Bool) rethrows {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try done() { return }
            usleep(100_000)
        }
        XCTFail("\(what()): not within \(seconds) s")
    }

    func metricLines(_ run: String) -> Int {
        ((try? String(contentsOf: dir.appendingPathComponent("\(run)/metrics.jsonl"), encoding: .utf8))?.split(separator: "\n").count) ?? 0
    }

    func checkpointStep(_ run: String) throws -> Int {
        let file = try Safetensors.read(from: dir.appendingPathComponent("\(run)/checkpoints/latest.safetensors"))
        return Int(try XCTUnwrap(file.metadata["step"]))!
    }

    /// `sbatch --wait launch/slurm CONFIG` for 2 tasks: mpirun takes its 2 slots from the allocation
    /// (-np from SLURM_NTASKS, no hostfile), both ranks train (on 2 nodes where there are fake
    /// hosts), and the run leaves its checkpoint.
    func testABatchJobTrainsOnTheAllocationsRanks() throws {
        let config = try CLI.writeSmallConfig(in: dir, name: "batch")
        let output = dir.appendingPathComponent("batch.out")
        let r = try submit(["--wait"] + twoRanks, config, ["--set", "training.max_steps=100", "--quiet"], output: output, timeout: 120)
        let log = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        XCTAssertEqual(r.status, 0, r.stderr + log)
        XCTAssertTrue(log.contains("launch/train: mpirun -np 2 --bind-to core -x OPENBLAS_NUM_THREADS=1"), log)
        let report = try String(contentsOf: dir.appendingPathComponent("batch/report.md"), encoding: .utf8)
        XCTAssertTrue(report.contains(ranksLine), report)
        XCTAssertEqual(try checkpointStep("batch"), 100)
        if let hosts {
            // The second host's rank came through a job step: mpirun started its daemon with srun.
            let job = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let slurmd = try String(contentsOf: cluster.appendingPathComponent("slurmd-\(hosts.names[1]).log"), encoding: .utf8)
            XCTAssertTrue(slurmd.contains("launch task StepId=\(job).0"), slurmd)
        }
    }

    /// A rank killed at step 20 (on the second host where there are fake hosts) ends the whole job
    /// promptly, naming it, and leaves no rank or daemon on any host.
    func testAKilledRankEndsTheJob() throws {
        let output = dir.appendingPathComponent("killed.out")
        let start = Date()
        let r = try submit(["--wait"] + twoRanks, try CLI.writeSmallConfig(in: dir, name: "killed"), ["--quiet"], output: output, timeout: 90,
                           environment: ["COHORT_INJECT_KILL": "1:20"])
        let log = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        XCTAssertNotEqual(r.status, 0, log)
        XCTAssertLessThan(Date().timeIntervalSince(start), 45, log)
        XCTAssertTrue(log.contains("process rank 1 with PID"), log)
        if let hosts {
            XCTAssertTrue(log.contains("on node \(hosts.names[1]) exited on signal 9"), log)
            for host in hosts.names {
                let left = try hosts.processes(host).filter { $0.contains("cohort train") || $0.contains("orted") }
                XCTAssertEqual(left, [], "\(host) still runs ranks")
            }
        }
    }

    /// `scancel --batch --signal=USR1` mid-run: every rank saves and stops; the job requeued
    /// (`scontrol requeue`) resumes from that checkpoint by itself (SLURM_RESTART_COUNT), is stopped
    /// again, and `sbatch ... --resume` finishes the run.
    func testAStoppedJobResumesWhenRequeuedAndWithResume() throws {
        let config = try CLI.writeSmallConfig(in: dir, name: "stopped")
        let steps = ["--set", "training.max_steps=1000", "--set", "training.epochs=10", "--set", "training.checkpoint_steps=100000", "--quiet"]
        let output = dir.appendingPathComponent("stopped.out")
        let log = { (try? String(contentsOf: output, encoding: .utf8)) ?? "" }
        let submitted = try submit(twoRanks, config, steps, output: output)
        XCTAssertEqual(submitted.status, 0, submitted.stderr)
        let job = submitted.stdout.trimmingCharacters(in: .whitespacesAndNewlines)

        // Stops the job once its metrics have `lines` lines (10 steps each), and waits for its end.
        func stop(after lines: Int) throws {
            wait("the job's metrics reach \(lines) lines\n" + log() + clusterState(job), 90) { metricLines("stopped") >= lines }
            XCTAssertEqual(try slurm("scancel --batch --signal=USR1 \(job)").status, 0)
            // Stopped ranks exit with 128 + SIGUSR1: the job ends FAILED.
            try wait("the job ends after SIGUSR1\n" + log(), 60) { ["FAILED", "COMPLETED", "CANCELLED"].contains(try jobState(job)) }
        }
        try stop(after: 11)
        XCTAssertTrue(log().contains("launch/train: stopping after the current step"), log())
        XCTAssertTrue(log().contains("stopped by a stop request (SIGUSR1, as launch/train sends on Ctrl-C or on a Slurm signal) after step"), log())
        let first = try checkpointStep("stopped")
        XCTAssertGreaterThanOrEqual(first, 100)
        XCTAssertLessThan(first, 1000, "stopped before the end")

        // Requeued once the nodes are idle again, its begin time (which Slurm sets 2 minutes ahead)
        // brought to now until it runs: each update is a scheduling pass, and one made while a node
        // still finished the last run would leave the job to the next periodic pass.
        try wait("the nodes are idle after the stop" + clusterState(job), 30) { try slurm("sinfo -h -N -o %t").stdout.split(separator: "\n").allSatisfy { $0 == "idle" } }
        // Slurm revokes a job's credential when it ends, to the second: a run of the same job started
        // within that second is refused ("Killing non-startable batch JobId=N: Job credential
        // revoked": it failed at once with no output, 2 times in 6 quick requeues).
        sleep(2)
        var requeue = CLI.Output(status: -1, stdout: "", stderr: "")
        try wait("scontrol requeue: \(requeue.stderr)", 30) {
            requeue = try slurm("scontrol requeue \(job)")
            return requeue.status == 0
        }
        try wait("the requeued job runs" + clusterState(job), 60) {
            if try jobState(job) == "RUNNING" { return true }
            try slurm("scontrol update JobId=\(job) StartTime=now")
            usleep(500_000)
            return false
        }
        try stop(after: first / 10 + 11)
        XCTAssertTrue(log().contains("launch/slurm: job \(job) requeued (restart 1): resuming from the latest checkpoint"), log())
        let second = try checkpointStep("stopped")
        XCTAssertGreaterThan(second, first, "the requeued job went on from step \(first)\n" + log())
        XCTAssertLessThan(second, 1000, "stopped before the end")

        let resumedOutput = dir.appendingPathComponent("resumed.out")
        let resumed = try submit(["--wait"] + twoRanks, config, steps + ["--resume"], output: resumedOutput, timeout: 150)
        XCTAssertEqual(resumed.status, 0, resumed.stderr + ((try? String(contentsOf: resumedOutput, encoding: .utf8)) ?? ""))
        XCTAssertEqual(try checkpointStep("stopped"), 1000)
    }

    /// `sbatch --no-kill -N 2 launch/slurm --elastic 1 --restarts 1` with the second host cut off once
    /// the first checkpoint is written: the job's failure ends mpirun, the probe through srun leaves
    /// that host out, and the run finishes on the first host's rank from the checkpoint, the global
    /// batch kept.
    func testAnElasticJobFinishesOnTheNodeLeft() throws {
        guard let hosts else { throw XCTSkip("fake hosts could not be made here: an elastic job needs two nodes") }
        let config = try CLI.writeSmallConfig(in: dir, name: "elastic", extra: "distributed: {timeout: 5}\n")
        let output = dir.appendingPathComponent("elastic.out")
        let log = { (try? String(contentsOf: output, encoding: .utf8)) ?? "" }
        let checkpoint = dir.appendingPathComponent("elastic/checkpoints/latest.safetensors").path
        let submitted = try submit(["--no-kill"] + twoRanks, config, ["--set", "training.checkpoint_steps=50", "--set", "training.max_steps=300", "--quiet"],
                                   launcher: ["--elastic", "1", "--restarts", "1"], output: output)
        XCTAssertEqual(submitted.status, 0, submitted.stderr)
        let job = submitted.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        wait("the first checkpoint is written\n" + log() + clusterState(job), 120) { FileManager.default.fileExists(atPath: checkpoint) }
        hosts.link(hosts.names[1], up: false)
        defer { hosts.link(hosts.names[1], up: true) }
        try wait("the job ends after the link is cut\n" + log() + clusterState(job), 180) { ["FAILED", "COMPLETED", "CANCELLED"].contains(try jobState(job)) }
        XCTAssertEqual(try jobState(job), "COMPLETED", log())
        XCTAssertTrue(log().contains("launch/train: starting on 2 hosts (\(hosts.names[0]), \(hosts.names[1])), 2 ranks"), log())
        XCTAssertTrue(log().contains("launch/train: host \(hosts.names[1]) does not answer (probed through srun): left out"), log())
        XCTAssertTrue(log().contains("launch/train: starting on 1 host (\(hosts.names[0])), 1 rank"), log())
        XCTAssertTrue(log().contains("resumed on 1 rank from a checkpoint written by 2: training.batch_size 64 -> 64 per rank, training.accumulate 1 -> 2 (global batch 128 kept)"), log())
        XCTAssertEqual(try checkpointStep("elastic"), 300)
    }
}
