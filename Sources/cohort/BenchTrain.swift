import ArgumentParser
import Cohort
import CohortDistributed
import CohortTrain
import Foundation

extension ThroughputBench.Workload: ExpressibleByArgument {}
extension DistributedMode: ExpressibleByArgument {}
extension ReducerChoice: ExpressibleByArgument {}
extension Precision: ExpressibleByArgument {}
extension GEMMBackend: ExpressibleByArgument {}
extension ConvolutionPath: ExpressibleByArgument {}
extension WireFormat: ExpressibleByArgument {}

struct BenchTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Training throughput of the mlp, cnn and resnet workloads: samples/s, GFLOP/s against sgemm in the same run, allocations per step, scaling over ranks.")

    @Option(help: "mlp (configs/bench-mlp.yaml), cnn (configs/bench-cnn.yaml) or resnet (configs/fashion-resnet.yaml).") var workload: ThroughputBench.Workload = .mlp
    @Option(help: "Bench this run config's network, batch per rank, optimizer and regularisation instead of a workload's (its data's training split, without augmentation).") var config: String?
    @Option(help: "Timed steps (after 10 warm-up steps).") var steps: Int = 300
    @Option(help: "OpenBLAS and oneDNN threads per process.") var threads: Int = 1
    @Option(help: "fp32, or bf16 (Linear and Conv2d products in bf16 with fp32 accumulation).") var precision: Precision = .fp32
    @Flag(help: "Run bf16 emulated on a CPU without avx512_bf16 (slow) instead of refusing.") var allowEmulatedBf16 = false
    @Option(help: "Force every fp32 product onto openblas or onednn (default: the measured choice, GEMM.measuredFP32Backend).") var fp32Backend: GEMMBackend?
    @Option(help: "Force every fp32 convolution onto im2col, onednn (direct), winograd (oneDNN's Winograd where it has it) or cohort-winograd (Cohort's Winograd for 3x3 stride 1, direct elsewhere); default: ConvolutionPath.chosen.") var convPath: ConvolutionPath?
    @Option(help: "Also run N ranks under mpirun and report the scaling against 1 rank.") var ranks: Int = 1
    @Option(help: "sync (allreduce of gradients) or hogwild (one shared arena, no messages) for the ranks run.") var mode: DistributedMode = .sync
    @Option(help: "Gradient bucket size (MB) for the sync ranks run.") var bucketMb: Double = 4
    @Option(help: "Sync reducer for the ranks run: shm (shared memory, one node), mpi, hierarchical, or auto.") var reducer: ReducerChoice = .shm
    @Option(help: "How gradients travel over MPI (mpi and hierarchical reducers): fp32, bf16 or fp16.") var wire: WireFormat = .fp32
    @Option(help: "Each N consecutive ranks form one node (the ranks run), as distributed.ranks_per_node.") var ranksPerNode: Int?
    @Flag(inversion: .prefixedNo, help: "Start bucket allreduces during backward (non-blocking) or reduce after it (blocking).") var overlap = false
    @Flag(help: "Print one JSON line instead of the table (used for the ranks run).") var json = false

    func run() throws {
        let comm = try Runtime.communicator()
        try Runtime.guarded(comm) {
            guard steps > 0, threads > 0, ranks > 0, bucketMb > 0 else {
                throw CohortError.invalid("bench train: --steps, --threads, --ranks and --bucket-mb must be positive")
            }
            GEMM.setThreads(threads)
            GEMM.fp32Override = fp32Backend
            ConvolutionPath.override = convPath
            let matmul = try MatmulPrecision.resolve(precision, allowEmulation: allowEmulatedBf16)
            var distributed = DistributedConfig()
            distributed.mode = mode
            distributed.reducer = reducer
            distributed.bucketMB = bucketMb
            distributed.firstBucketMB = min(1, bucketMb)
            distributed.overlap = overlap
            distributed.wire = wire
            // The topology is the ranks run's; the one-process baseline is a node of its own.
            distributed.ranksPerNode = comm.size > 1 ? ranksPerNode : nil
            _ = try GradientSyncFactory.kind(distributed, worldSize: comm.size,
                                             spansNodes: NodeTopology.spansNodes(ranksPerNode: distributed.ranksPerNode, world: comm))
            let path = try config ?? workload.configPath()
            let (run, _) = try ConfigLoader.loadRun(path: path, overrides: [])
            let r = try ThroughputBench.run(config: run, name: config == nil ? workload.rawValue : run.name, steps: steps, distributed: distributed,
                                            precision: matmul, communicator: comm,
                                            allocationCount: AllocationCounter.isActive ? { AllocationCounter.count } : nil)
            if comm.size > 1 || json {
                if comm.rank == 0 { print(String(decoding: try JSONEncoder().encode(r), as: UTF8.self)) }
                return
            }
            let sgemm = Self.sgemmGFLOPs()
            print("openblas core: \(BLAS.coreName), threads: \(BLAS.threads); onednn \(DNNL.version) isa: \(DNNL.isa), threads: \(DNNL.threads); precision: \(matmul.rawValue); convolutions: \(ConvolutionPath.chosen(for: matmul).rawValue)")
            let own = r.allocationsPerStep.map { a in a - (r.oneDNNAllocationsPerStep ?? 0) }
            print(String(format: "%@ %@: %.0f samples/s, %.2f ms/step, %.1f GFLOP/s = %.0f%% of sgemm (%.1f GFLOP/s), %@ allocations/step by Cohort (%@ more inside oneDNN's %.0f primitive executions), peak memory %.0f MB",
                         r.workload, matmul.rawValue, r.samplesPerSecond, r.stepMs, r.stepGFLOPs, 100 * r.stepGFLOPs / sgemm, sgemm,
                         own.map { String(format: "%.1f", $0) } ?? "?",
                         r.oneDNNAllocationsPerStep.map { String(format: "%.0f", $0) } ?? "?", r.oneDNNExecutionsPerStep, r.peakMemoryMB))
            let total = r.timeByKind.map(\.ms).reduce(0, +)
            print("time by kind, ms/step: " + r.timeByKind.filter { $0.ms >= 0.005 }
                .map { String(format: "%@ %.2f (%.0f%%)", $0.kind, $0.ms, 100 * $0.ms / max(total, 1e-9)) }.joined(separator: ", "))
            guard ranks > 1 else { return }
            let multi = try Self.runRanks(ranks, source: config.map { ["--config", $0] } ?? ["--workload", workload.rawValue], steps: steps, mode: mode,
                                          extra: ["--bucket-mb", String(bucketMb), overlap ? "--overlap" : "--no-overlap", "--reducer", reducer.rawValue,
                                                  "--precision", precision.rawValue, "--wire", wire.rawValue] + (allowEmulatedBf16 ? ["--allow-emulated-bf16"] : [])
                                                  + (fp32Backend.map { ["--fp32-backend", $0.rawValue] } ?? [])
                                                  + (convPath.map { ["--conv-path", $0.rawValue] } ?? [])
                                                  + (ranksPerNode.map { ["--ranks-per-node", String($0)] } ?? []))
            let speedup = multi.samplesPerSecond / r.samplesPerSecond
            if mode == .hogwild {
                // Every sample is one update's worth of batch: updates/s scale as samples/s.
                print(String(format: "%@ hogwild x %d processes: %.0f samples/s, %.0f updates/s (all processes' updates over the slowest one's time), %.2fx the updates/s of one process",
                             r.workload, multi.ranks, multi.samplesPerSecond, multi.samplesPerSecond / Double(multi.batchPerRank), speedup))
            } else {
                print(String(format: "%@ x %d ranks on %d node%@ (\(multi.label)): %.0f samples/s (all ranks' samples over the slowest rank's time), %.2fx one rank (scaling efficiency %.0f%%), waiting for gradients %.3f ms (mean over ranks) of the slowest rank's %.2f ms per step, %.0f bytes sent over MPI per step (all ranks)",
                             r.workload, multi.ranks, multi.nodes, multi.nodes == 1 ? "" : "s", multi.samplesPerSecond, speedup,
                             100 * speedup / Double(multi.ranks), multi.communicationWaitMs, multi.stepMs, multi.wireBytesPerStep))
                if let flight = multi.allreduceInFlightMs, let hidden = multi.allreduceOverlappedMs {
                    print(String(format: "allreduce in flight %.3f ms per step, %.3f ms of it (%.0f%%) while backward was still running",
                                 flight, hidden, flight > 0 ? 100 * hidden / flight : 0))
                }
            }
        }
    }

    /// The same benchmark under mpirun, one BLAS thread per rank.
    /// `source`: the workload or config arguments.
    static func runRanks(_ n: Int, source: [String], steps: Int, mode: DistributedMode, extra: [String]) throws -> ThroughputBench.Result {
        let line = try MPIRun.jsonLine(ranks: n, ["bench", "train"] + source + ["--steps", String(steps), "--threads", "1",
                                                  "--mode", mode.rawValue, "--json"] + extra, what: "bench train")
        return try JSONDecoder().decode(ThroughputBench.Result.self, from: line)
    }

    /// sgemm GFLOP/s at 1024^3 with the current thread count: the limit the step is compared with.
    static func sgemmGFLOPs() -> Double {
        let n = 1024
        let a = Tensor(shape: [n, n], repeating: 0.01), b = Tensor(shape: [n, n], repeating: 0.02), c = Tensor(zeros: [n, n])
        BLAS.sgemm(transA: false, transB: false, m: n, n: n, k: n, a: a.pointer, lda: n, b: b.pointer, ldb: n, beta: 0, c: c.pointer, ldc: n)
        let reps = 10
        let t = Runtime.now()
        for _ in 0..<reps {
            BLAS.sgemm(transA: false, transB: false, m: n, n: n, k: n, a: a.pointer, lda: n, b: b.pointer, ldb: n, beta: 0, c: c.pointer, ldc: n)
        }
        return 2 * Double(n * n * n) * Double(reps) / (Runtime.now() - t) / 1e9
    }
}
