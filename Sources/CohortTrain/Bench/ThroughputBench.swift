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
    /// The reference workloads.
    public enum Workload: String, ConfigChoice {
        /// 784-512-512-10 ReLU, batch 128, SGD momentum 0.9.
        case mlp
        /// conv3x3(1->32)-ReLU-maxpool2-conv3x3(32->64)-ReLU-maxpool2-Linear(1600->128)-ReLU-Linear(128->10), batch 64.
        case cnn
        /// configs/fashion-resnet.yaml's network: conv3x3(1->32)-BN-ReLU-maxpool2, one basic block per
        /// stage at 32x14x14, 64x7x7 and 128x4x4 (stride 2 and a 1x1 projection entering the last
        /// two), global average pooling, Linear(128->10); batch 64.
        case resnet

        /// The model and the batch per rank.
        public var model: (ModelSpec, batch: Int) {
            func l(_ type: String, _ out: Int? = nil, kernel: Int? = nil, size: Int? = nil) -> LayerSpec {
                LayerSpec(type: type, out: out, kernel: kernel, size: size)
            }
            switch self {
            case .mlp:
                return (ModelSpec(layers: [l("flatten"), l("linear", 512), l("relu"), l("linear", 512), l("relu"), l("linear", 10)]), 128)
            case .cnn:
                return (ModelSpec(layers: [l("conv2d", 32, kernel: 3), l("relu"), l("maxpool", size: 2), l("conv2d", 64, kernel: 3), l("relu"),
                                           l("maxpool", size: 2), l("flatten"), l("linear", 128), l("relu"), l("linear", 10)]), 64)
            case .resnet:
                func conv(_ out: Int, stride: Int = 1) -> LayerSpec { LayerSpec(type: "conv2d", out: out, kernel: 3, stride: stride, padding: 1, bias: false) }
                func block(_ out: Int, stride: Int) -> [LayerSpec] {
                    [LayerSpec(type: "residual", layers: [conv(out, stride: stride), l("batchnorm"), l("relu"), conv(out), l("batchnorm")]), l("relu")]
                }
                let stem = [conv(32), l("batchnorm"), l("relu"), l("maxpool", size: 2)]
                return (ModelSpec(layers: stem + block(32, stride: 1) + block(64, stride: 2) + block(128, stride: 2)
                                  + [l("globalavgpool"), l("linear", 10)]), 64)
            }
        }
    }

    public struct Result: Codable, Sendable {
        public var workload: Workload
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

        /// "sync-shm", "sync-mpi", "sync-hierarchical-bf16", "hogwild".
        public var label: String { mode == .hogwild ? "hogwild" : "sync-\(sync.rawValue)" + (wire == .fp32 ? "" : "-\(wire.rawValue)") }
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

    /// `distributed` chooses the mode and the reducer exactly as a run config does (Hogwild: the
    /// ranks share one parameter arena and never communicate while stepping). `allocationCount`
    /// reads the process's allocation counter, where one is linked in.
    public static func run(workload: Workload, steps: Int, warmup: Int = 10, distributed: DistributedConfig,
                           precision: MatmulPrecision = .fp32, communicator comm: Communicator, allocationCount: (() -> Int)? = nil,
                           dataDirectory: String = FashionMNIST.defaultDirectory) throws -> Result {
        let (spec, batch) = workload.model
        let (train, _) = try FashionMNIST.load(directory: dataDirectory)
        let network = try spec.build(inputShape: train.sampleShape)
        let hogwild = distributed.mode == .hogwild && comm.size > 1
        let topology = try NodeTopology(world: comm, ranksPerNode: distributed.ranksPerNode)
        // Hogwild on each node's own arena (the bench times steps, not the averaging between nodes).
        let shared = hogwild ? try SharedArena.hogwild(floats: ParameterArena.layoutCount(network.namedParameters()), node: topology.node) : nil
        let model = try Model(network: network, inputShape: train.sampleShape, parameterStorage: shared?.storage)
        try comm.barrier()
        if shared == nil || topology.isLeader { model.initialize(rng: RandomStream(seed: 1).split("init")) }
        if shared == nil { try comm.broadcast(model.parameters.values.pointer, count: model.parameters.count, root: 0) }
        let sync = try GradientSyncFactory.make(distributed, parameters: model.parameters, topology: topology)
        let optimizer = try OptimizerConfig(name: "sgd", lr: 0.05, momentum: 0.9).makeOptimizer(parameterCount: model.parameters.count)
        let session = TrainingSession(model: model, optimizer: optimizer, seed: 1, gradientStorage: sync.gradientStorage,
                                      precision: precision)
        let step = try TrainingStep(session: session, loader: try BatchLoader(dataset: train, batchSize: batch), sync: sync,
                                randomness: RandomStream(seed: 1))

        // Bucket timings: how long each allreduce was in flight, and how much of that was before
        // backward ended (overlapped with computation).
        let reducer = sync as? GradientReducer
        var bucketStart = [UInt64](repeating: 0, count: reducer?.buckets.count ?? 0)
        var inFlight: UInt64 = 0, overlapped: UInt64 = 0
        reducer?.onBucketStart = { bucketStart[$0] = TraceRecorder.now() }
        reducer?.onBucketDone = { b in
            inFlight += TraceRecorder.now() - bucketStart[b]
            let backwardEnd = step.clock.backwardEnded
            if backwardEnd > bucketStart[b] { overlapped += backwardEnd - bucketStart[b] }
        }
        let sampler = try DistributedSampler(count: train.count, rank: comm.rank, worldSize: comm.size, seed: 1, shuffle: true, dropLast: false)
        var indices = sampler.indices(epoch: 0)
        var position = 0, epoch = 0
        var waited: UInt64 = 0, start: UInt64 = 0
        var allocationsAtStart = 0, executionsAtStart = 0, insideAtStart = 0, bytesAtStart = 0
        DNNL.shared?.allocationCounter = allocationCount
        defer { DNNL.shared?.allocationCounter = nil }
        for s in 0..<(warmup + steps) {
            if s == warmup {
                try comm.barrier()
                waited = 0; inFlight = 0; overlapped = 0
                executionsAtStart = DNNL.shared?.executions ?? 0
                insideAtStart = DNNL.shared?.allocationsInside ?? 0
                allocationsAtStart = allocationCount?() ?? 0
                bytesAtStart = sync.bytesSent
                start = TraceRecorder.now()
            }
            if position + batch > indices.count { epoch += 1; indices = sampler.indices(epoch: epoch); position = 0 }
            _ = try step.run(positions: indices[position..<(position + batch)], stream: UInt64(s), number: s + 1, learningRate: 0.05)
            position += batch
            waited += step.clock.synchronized - step.clock.backwardEnded
        }
        let elapsed = Double(TraceRecorder.now() - start) * 1e-9
        let allocations = allocationCount.map { Double($0() - allocationsAtStart) / Double(steps) }
        let executions = Double((DNNL.shared?.executions ?? 0) - executionsAtStart) / Double(steps)
        let oneDNNAllocations = allocationCount.map { _ in Double((DNNL.shared?.allocationsInside ?? 0) - insideAtStart) / Double(steps) }
        // Every rank's samples count; the slowest rank decides the time.
        let slowest = try comm.allgather(elapsed.bitPattern).map(Double.init(bitPattern:)).max()!
        var sums = [Double(steps * batch), Double(waited) * 1e-9, Double(inFlight) * 1e-9, Double(overlapped) * 1e-9,
                    Double(sync.bytesSent - bytesAtStart)]
        try comm.allreduce(&sums)
        func meanMsPerStep(_ seconds: Double) -> Double { seconds / Double(comm.size) / Double(steps) * 1e3 }
        let flops = try flopsPerStep(network, input: [batch] + train.sampleShape)
        return Result(workload: workload, mode: distributed.mode, sync: sync.kind, wire: distributed.wire, nodes: topology.nodeCount,
                      ranks: comm.size, threads: BLAS.threads,
                      precision: precision, batchPerRank: batch, steps: steps, samplesPerSecond: sums[0] / slowest,
                      stepGFLOPs: flops * Double(steps) / slowest / 1e9, flopsPerStep: flops, gradientValues: model.parameters.count,
                      communicationWaitMs: meanMsPerStep(sums[1]),
                      allreduceInFlightMs: reducer == nil ? nil : meanMsPerStep(sums[2]),
                      allreduceOverlappedMs: reducer == nil ? nil : meanMsPerStep(sums[3]),
                      wireBytesPerStep: sums[4] / Double(steps),
                      stepMs: slowest / Double(steps) * 1e3, allocationsPerStep: allocations,
                      oneDNNAllocationsPerStep: oneDNNAllocations, oneDNNExecutionsPerStep: executions, peakMemoryMB: peakMemoryMB())
    }

    static func peakMemoryMB() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024  // kilobytes on Linux
    }
}
