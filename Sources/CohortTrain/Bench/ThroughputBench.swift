import Cohort
import CohortData
import CohortDistributed
import CohortFormats
import CohortNN
import CohortOptim
import Foundation

/// `cohort bench train`: training throughput of the reference workloads on Fashion-MNIST batches,
/// through the same `TrainingStep` (and `GradientSyncFactory`) that `cohort train` runs.
/// Timed inside the process, after warm-up, with data loading included.
public enum ThroughputBench {
    /// The reference workloads, each a shipped config (what `torch_peer.py` runs too).
    public enum Workload: String, ConfigChoice {
        /// configs/bench-mlp.yaml: 784-512-512-10 ReLU, batch 128, SGD momentum 0.9.
        case mlp
        /// configs/bench-cnn.yaml: conv3x3(1->32)-ReLU-maxpool2-conv3x3(32->64)-ReLU-maxpool2-Linear(1600->128)-ReLU-Linear(128->10), batch 64.
        case cnn
        /// configs/fashion-resnet.yaml: conv3x3(1->32)-BN-ReLU-maxpool2, one basic block per stage at
        /// 32x14x14, 64x7x7 and 128x4x4 (stride 2 and a 1x1 projection entering the last two),
        /// global average pooling, Linear(128->10); batch 64.
        case resnet

        public var configFile: String {
            switch self {
            case .mlp: return "bench-mlp.yaml"
            case .cnn: return "bench-cnn.yaml"
            case .resnet: return "fashion-resnet.yaml"
            }
        }

        /// The workload's config: configs/ in the current directory, else the one of the checkout
        /// this binary was built from.
        public func configPath() throws -> String {
            let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().deletingLastPathComponent()
            let candidates = ["configs/" + configFile, checkout.appendingPathComponent("configs/" + configFile).path]
            guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
                throw CohortError.invalid("bench train: the \(rawValue) workload's config \(candidates[1]) is missing (or pass --config FILE)")
            }
            return found
        }
    }

    public struct Result: Codable, Sendable {
        /// The workload's name (mlp, cnn, resnet), or the name of the config benched.
        public var workload: String
        public var mode: DistributedMode
        public var sync: GradientSyncKind
        /// How gradients travelled over MPI, and over how many nodes.
        public var wire: WireFormat
        public var nodes: Int
        public var ranks: Int
        public var threads: Int
        /// How the products ran (fp32, bf16, bf16-emulated).
        public var precision: MatmulPrecision
        public var batchPerRank: Int
        public var steps: Int
        /// Every rank's samples over the slowest rank's time.
        public var samplesPerSecond: Double
        /// Model FLOPs per step (forward + backward, per rank) over the slowest rank's step time.
        public var stepGFLOPs: Double
        public var flopsPerStep: Double
        /// Floats in the gradient arena (what a reducer averages).
        public var gradientValues: Int
        /// Mean over ranks of the time per step spent waiting for the gradients to be averaged
        /// after backward (sync, N > 1).
        public var communicationWaitMs: Double
        /// Mean over ranks of the time per step that bucket allreduces were in flight (start to
        /// completion; MPI reducer), and the part of it before backward ended (hidden behind computation).
        public var allreduceInFlightMs: Double?
        public var allreduceOverlappedMs: Double?
        /// Bytes all ranks together sent over MPI per step (see `WireAllreduce`).
        public var wireBytesPerStep: Double
        /// The slowest rank's time per step.
        public var stepMs: Double
        /// Heap allocations per step after warm-up (when an allocation counter is given).
        public var allocationsPerStep: Double?
        /// Of those, the ones made while oneDNN executed its primitives (counted around each
        /// execution, `DNNL.allocationsInside`); the rest are Cohort's.
        public var oneDNNAllocationsPerStep: Double?
        /// oneDNN primitive executions per step.
        public var oneDNNExecutionsPerStep: Double
        public var peakMemoryMB: Double
        /// This rank's time per step by layer kind, then optimizer, gradient sync, data and other.
        public var timeByKind: [KindTime]

        /// "sync-shm", "sync-mpi", "sync-hierarchical-bf16", "hogwild".
        public var label: String { mode == .hogwild ? "hogwild" : "sync-\(sync.rawValue)" + (wire == .fp32 ? "" : "-\(wire.rawValue)") }
    }

    /// Milliseconds per step spent on one kind of work.
    public struct KindTime: Codable, Sendable {
        public var kind: String
        public var ms: Double
    }

    /// Multiply-add FLOPs of a training step: forward, weight gradients, and input gradients of
    /// every Linear and Conv2d but the first (whose input needs none), including those inside
    /// residual blocks (body and projection) and Maxout.
    public static func flopsPerStep(_ model: Sequential, input: [Int]) throws -> Double {
        var total = 0.0, first = true
        _ = try addFLOPs(of: model, input: input, to: &total, first: &first)
        return total
    }

    /// Adds the FLOPs of `layer` on `input` to `total`, walking into the layers that hold others;
    /// returns its output shape.
    static func addFLOPs(of layer: Layer, input: [Int], to total: inout Double, first: inout Bool) throws -> [Int] {
        let out = try layer.outputShape(for: input)
        var forward = 0.0
        switch layer {
        case let sequential as Sequential:
            var shape = input
            for child in sequential.layers { shape = try addFLOPs(of: child, input: shape, to: &total, first: &first) }
        case let block as Residual:
            _ = try addFLOPs(of: block.body, input: input, to: &total, first: &first)
            if let projection = block.projection { _ = try addFLOPs(of: projection, input: input, to: &total, first: &first) }
        case let maxout as Maxout:
            _ = try addFLOPs(of: maxout.linear, input: input, to: &total, first: &first)
        case let linear as Linear:
            forward = 2 * Double(input[0] * linear.inFeatures * linear.outFeatures)
        case let conv as Conv2d:
            forward = 2 * Double(out[0] * out[2] * out[3] * conv.outChannels * conv.inChannels * conv.kernel.0 * conv.kernel.1)
        default:
            break
        }
        if forward > 0 {
            total += forward * (first ? 2 : 3)
            first = false
        }
        return out
    }

    /// Times `steps` steps after `warmup` of `config`'s network, batch per rank, optimizer and
    /// regularisation on its training split (no augmentation or mixing: the step PyTorch's peer
    /// runs), built as `cohort train` builds them. `distributed` chooses the mode and the reducer
    /// exactly as a run config does (Hogwild: the ranks share one parameter arena and never
    /// communicate while stepping). `allocationCount` reads the process's allocation counter,
    /// where one is linked in.
    public static func run(config: RunConfig, name: String, steps: Int, warmup: Int = 10, distributed: DistributedConfig,
                           precision: MatmulPrecision = .fp32, communicator comm: Communicator,
                           allocationCount: (() -> Int)? = nil) throws -> Result {
        let splits = try DataSplits.load(config.data, task: config.task, seed: config.seed)
        let train = splits.train
        let topology = try NodeTopology(world: comm, ranksPerNode: distributed.ranksPerNode)
        var run = config
        // Hogwild on each node's own arena (the bench times steps, not the averaging between nodes).
        run.distributed.mode = distributed.mode == .hogwild && comm.size > 1 ? .hogwild : .sync
        let (model, shared) = try Trainer.makeModel(run, splits: splits, topology: topology)
        if shared == nil { try comm.broadcast(model.parameters.values.pointer, count: model.parameters.count, root: 0) }
        let batch = config.training.batchSize, perStep = batch * config.training.accumulate
        let step = try TrainingStep.make(model: model, loader: try BatchLoader(dataset: train, batchSize: batch, normalization: splits.normalization),
                                         optimizer: config.optimizer, topology: topology, distributed: distributed, training: config.training,
                                         precision: precision, objective: TrainingObjective(config.task), seed: config.seed)
        let sampler = try DistributedSampler(count: train.count, rank: comm.rank, worldSize: comm.size, seed: config.seed, shuffle: true,
                                             dropLast: false)
        let clock = BenchClock(step: step, warmup: warmup, communicator: comm, allocationCount: allocationCount)
        let rate = config.optimizer.learningRate
        let loop = RunLoop(step: step, source: FixedSteps(sampler: sampler, batch: perStep, count: warmup + steps)) { _ in rate }
        loop.observers = [clock]
        DNNL.shared?.allocationCounter = allocationCount
        defer { DNNL.shared?.allocationCounter = nil }
        if warmup == 0 { try clock.start() }
        try loop.run()
        step.session.tape.profile = nil
        let elapsed = Double(TraceRecorder.now() - clock.started) * 1e-9
        let allocations = allocationCount.map { Double($0() - clock.allocationsAtStart) / Double(steps) }
        let executions = Double((DNNL.shared?.executions ?? 0) - clock.executionsAtStart) / Double(steps)
        let oneDNNAllocations = allocationCount.map { _ in Double((DNNL.shared?.allocationsInside ?? 0) - clock.insideAtStart) / Double(steps) }
        // Every rank's samples count; the slowest rank decides the time.
        let slowest = try comm.allgather(elapsed.bitPattern).map(Double.init(bitPattern:)).max()!
        var sums = [Double(steps * perStep), Double(clock.waited) * 1e-9, Double(clock.inFlight) * 1e-9, Double(clock.overlapped) * 1e-9,
                    Double(step.sync.bytesSent - clock.bytesAtStart)]
        try comm.allreduce(&sums)
        func meanMsPerStep(_ seconds: Double) -> Double { seconds / Double(comm.size) / Double(steps) * 1e3 }
        let flops = try flopsPerStep(model.network, input: [perStep] + train.sampleShape)
        let timed = clock.reducer != nil
        return Result(workload: name, mode: distributed.mode, sync: step.sync.kind, wire: distributed.wire, nodes: topology.nodeCount,
                      ranks: comm.size, threads: BLAS.threads,
                      precision: precision, batchPerRank: perStep, steps: steps, samplesPerSecond: sums[0] / slowest,
                      stepGFLOPs: flops * Double(steps) / slowest / 1e9, flopsPerStep: flops, gradientValues: model.parameters.count,
                      communicationWaitMs: meanMsPerStep(sums[1]),
                      allreduceInFlightMs: timed ? meanMsPerStep(sums[2]) : nil,
                      allreduceOverlappedMs: timed ? meanMsPerStep(sums[3]) : nil,
                      wireBytesPerStep: sums[4] / Double(steps),
                      stepMs: slowest / Double(steps) * 1e3, allocationsPerStep: allocations,
                      oneDNNAllocationsPerStep: oneDNNAllocations, oneDNNExecutionsPerStep: executions, peakMemoryMB: peakMemoryMB(),
                      timeByKind: clock.timeByKind(steps: steps))
    }

    /// A reference workload, from its shipped config.
    public static func run(workload: Workload, steps: Int, warmup: Int = 10, distributed: DistributedConfig,
                           precision: MatmulPrecision = .fp32, communicator comm: Communicator,
                           allocationCount: (() -> Int)? = nil) throws -> Result {
        let (config, _) = try ConfigLoader.loadRun(path: try workload.configPath(), overrides: [])
        return try run(config: config, name: workload.rawValue, steps: steps, warmup: warmup, distributed: distributed,
                       precision: precision, communicator: comm, allocationCount: allocationCount)
    }

    static func peakMemoryMB() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024  // kilobytes on Linux
    }
}
