import Cohort
import CohortData
import CohortDistributed
import CohortNN
import CohortOptim
import Foundation

/// `cohort bench train`: training throughput of the reference workloads on Fashion-MNIST batches.
///   mlp: 784-512-512-10 ReLU, batch 128, SGD momentum 0.9
///   cnn: conv3x3(1->32)-ReLU-maxpool2-conv3x3(32->64)-ReLU-maxpool2-Linear(1600->128)-ReLU-Linear(128->10), batch 64
/// Timed inside the process, after warm-up, with data loading included.
public enum ThroughputBench {
    public struct Result: Codable, Sendable {
        public var workload: String
        public var mode: String
        public var ranks: Int
        public var threads: Int
        public var batchPerRank: Int
        public var steps: Int
        public var samplesPerSecond: Double
        /// Model FLOPs per step (forward + backward, per rank) over the step time.
        public var stepGFLOPs: Double
        public var flopsPerStep: Double
        /// Mean time per step spent waiting for gradient allreduces after backward (sync, N > 1).
        public var communicationWaitMs: Double
        /// Mean time per step that bucket allreduces were in flight (start to completion; MPI reducer),
        /// and the part of it before backward ended (hidden behind computation).
        public var allreduceInFlightMs: Double?
        public var allreduceOverlappedMs: Double?
        public var stepMs: Double
        /// Heap allocations per step after warm-up (when the allocation counter is linked in).
        public var allocationsPerStep: Double?
        public var peakMemoryMB: Double
    }

    public static func model(_ workload: String) throws -> (ModelSpec, Int) {
        func l(_ type: String, _ out: Int? = nil, kernel: Int? = nil, size: Int? = nil) -> LayerSpec {
            LayerSpec(type: type, out: out, kernel: kernel, size: size)
        }
        switch workload {
        case "mlp":
            return (ModelSpec(layers: [l("flatten"), l("linear", 512), l("relu"), l("linear", 512), l("relu"), l("linear", 10)]), 128)
        case "cnn":
            return (ModelSpec(layers: [l("conv2d", 32, kernel: 3), l("relu"), l("maxpool", size: 2), l("conv2d", 64, kernel: 3), l("relu"),
                                       l("maxpool", size: 2), l("flatten"), l("linear", 128), l("relu"), l("linear", 10)]), 64)
        default:
            throw CohortError.invalid("bench train: unknown workload '\(workload)' (known: mlp, cnn)")
        }
    }

    /// Multiply-add FLOPs of a training step: forward, weight gradients, and input gradients of
    /// every layer but the first (whose input needs none).
    public static func flopsPerStep(_ model: Sequential, input: [Int]) throws -> Double {
        var shape = input, total = 0.0, first = true
        for layer in model.layers {
            let out = try layer.outputShape(for: shape)
            var forward = 0.0
            if let linear = layer as? Linear {
                forward = 2 * Double(shape[0] * linear.inFeatures * linear.outFeatures)
            } else if let conv = layer as? Conv2d {
                forward = 2 * Double(out[0] * out[2] * out[3] * conv.outChannels * conv.inChannels * conv.kernel.0 * conv.kernel.1)
            }
            if forward > 0 {
                total += forward * (first ? 2 : 3)
                first = false
            }
            shape = out
        }
        return total
    }

    /// `hogwild`: the ranks share one parameter arena and never communicate while stepping.
    public static func run(workload: String, steps: Int, warmup: Int = 10, hogwild: Bool = false,
                           bucketMB: Double = 4, overlap: Bool = true, sharedMemoryReducer: Bool = false, communicator comm: Communicator,
                           dataDirectory: String = FashionMNIST.defaultDirectory) throws -> Result {
        let (spec, batch) = try model(workload)
        let (train, _) = try FashionMNIST.load(directory: dataDirectory)
        let net = try spec.build(inputShape: train.sampleShape)
        let optimizerConfig = OptimizerConfig(name: "sgd", lr: 0.05, momentum: 0.9)
        let count = ParameterArena.layoutCount(net.namedParameters())
        let shared = hogwild && comm.size > 1 ? try Trainer.sharedArena(floats: count, comm) : nil
        let nodeReducer = !hogwild && sharedMemoryReducer && comm.size > 1 ? try SharedMemoryReducer(count: count, communicator: comm) : nil
        let session = TrainingSession(model: net, optimizer: try optimizerConfig.makeOptimizer(parameterCount: count), seed: 1,
                                      parameterStorage: shared?.storage, gradientStorage: nodeReducer?.gradientStorage)
        try comm.barrier()
        if shared == nil || comm.rank == 0 { session.parameters.initialize(rng: RandomStream(seed: 1).split("init")) }
        if shared == nil { try comm.broadcast(session.parameters.values.pointer, count: session.parameters.count, root: 0) }
        var reducer: GradientReducer?
        if comm.size > 1 && !hogwild && nodeReducer == nil {
            reducer = session.makeReducer(communicator: comm, bucketBytes: Int(bucketMB * 1_048_576),
                                          firstBucketBytes: min(1 << 20, Int(bucketMB * 1_048_576)), overlap: overlap)
        }
        // Bucket timings: how long each allreduce was in flight, and how much of that was before
        // backward ended (overlapped with computation).
        var bucketStart = [Double](repeating: 0, count: reducer?.buckets.count ?? 0)
        var inFlight = 0.0, overlapped = 0.0, backwardEnd = 0.0
        reducer?.onBucketStart = { bucketStart[$0] = Runtime.now() }
        reducer?.onBucketDone = { b in
            let now = Runtime.now()
            inFlight += now - bucketStart[b]
            overlapped += max(0, backwardEnd - bucketStart[b])
        }
        let sampler = try DistributedSampler(count: train.count, rank: comm.rank, worldSize: comm.size, seed: 1, shuffle: true, dropLast: false)
        let loader = try BatchLoader(dataset: train, batchSize: batch)
        var indices = sampler.indices(epoch: 0)
        var position = 0, epoch = 0
        var x: Var?
        var waited = 0.0
        var start = 0.0
        var allocationsAtStart = 0
        for step in 0..<(warmup + steps) {
            if step == warmup {
                try comm.barrier()
                waited = 0
                inFlight = 0
                overlapped = 0
                allocationsAtStart = AllocationCounter.count
                start = Runtime.now()
            }
            if position + batch > indices.count { epoch += 1; indices = sampler.indices(epoch: epoch); position = 0 }
            let features = try loader.load(indices[position..<(position + batch)])
            position += batch
            if x == nil || x!.value.storage !== features.storage { x = Var(features) }
            session.parameters.zeroGradients()
            reducer?.prepare()
            let (loss, _) = try session.forwardBackward(x!, labels: loader.labels)
            if let reducer {
                let t = Runtime.now()
                backwardEnd = t
                try reducer.finish()
                waited += Runtime.now() - t
            } else if let nodeReducer {
                let t = Runtime.now()
                nodeReducer.allreduce()
                waited += Runtime.now() - t
            }
            _ = session.update(learningRate: 0.05, loss: loss)
        }
        let elapsed = Runtime.now() - start
        let allocations = AllocationCounter.isActive ? Double(AllocationCounter.count - allocationsAtStart) / Double(steps) : nil
        // Every rank's samples count; the slowest rank decides the time.
        var totals = [Double(steps * batch), elapsed, waited, inFlight, overlapped]
        try comm.allreduce(&totals)
        let meanElapsed = totals[1] / Double(comm.size)
        let flops = try flopsPerStep(net, input: [batch] + train.sampleShape)
        return Result(workload: workload, mode: hogwild ? "hogwild" : (nodeReducer != nil ? "sync-shm" : "sync-mpi"), ranks: comm.size, threads: BLAS.threads, batchPerRank: batch, steps: steps,
                      samplesPerSecond: totals[0] / meanElapsed, stepGFLOPs: flops * Double(steps) / meanElapsed / 1e9,
                      flopsPerStep: flops, communicationWaitMs: totals[2] / Double(comm.size) / Double(steps) * 1e3,
                      allreduceInFlightMs: reducer == nil ? nil : totals[3] / Double(comm.size) / Double(steps) * 1e3,
                      allreduceOverlappedMs: reducer == nil ? nil : totals[4] / Double(comm.size) / Double(steps) * 1e3,
                      stepMs: meanElapsed / Double(steps) * 1e3, allocationsPerStep: allocations,
                      peakMemoryMB: peakMemoryMB())
    }

    static func peakMemoryMB() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024  // kilobytes on Linux
    }
}
