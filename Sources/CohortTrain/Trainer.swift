import Cohort
import CohortData
import CohortDistributed
import CohortFormats
import CohortNN
import CohortOptim
import Foundation

/// The synchronous training loop, for one process or N ranks under mpirun (DESIGN.md's step):
/// every rank trains on its shard of each global batch, the reducer averages gradients during
/// backward, and every rank applies the same update. Only rank 0 writes files and prints.
public final class Trainer {
    public let config: RunConfig
    public let configYAML: String
    let comm: Communicator
    let folder: RunFolder
    let isLeader: Bool
    public let session: TrainingSession
    let data: DataSplits
    let sampler: DistributedSampler
    let loader: BatchLoader
    let validator: Evaluator?
    let tester: Evaluator
    var plan: LearningRatePlan
    let reducer: GradientReducer?
    let perRankBatch: Int
    let stepsPerEpoch: Int
    public let totalSteps: Int
    var state = TrainState()
    var logger: RunLogger?
    let progress: Progress
    /// Spans for `--trace` (nil: not tracing).
    public private(set) var trace: StepTrace?

    /// Per-rank log (`--rank-logs`): every rank appends its own loss and step time to rank-N.log.
    var rankLog: FileHandle?

    /// Opens `<run folder>/rank-<N>.log` on every rank.
    public func enableRankLog() throws {
        try FileManager.default.createDirectory(at: folder.url, withIntermediateDirectories: true)
        let url = folder.url.appendingPathComponent("rank-\(comm.rank).log")
        _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        guard let handle = try? FileHandle(forWritingTo: url) else {
            throw CohortError.invalid("\(url.path): cannot open the rank log")
        }
        handle.seekToEndOfFile()
        rankLog = handle
    }

    func logRank(_ line: String) {
        rankLog?.write(Data((line + "\n").utf8))
    }

    /// Records forward+backward, each bucket's allreduce, the wait and the optimizer per step.
    public func enableTrace() {
        let t = StepTrace(rank: comm.rank)
        trace = t
        reducer?.onBucketStart = { t.bucketStarted($0) }
        reducer?.onBucketDone = { t.bucketDone($0) }
    }
    public var folderPath: String { folder.url.path }
    /// Hogwild: the node's shared parameter segment.
    let shared: SharedArena?
    /// Sync on one node: gradients averaged through shared memory.
    let nodeReducer: SharedMemoryReducer?
    /// Fault injection for tests: COHORT_INJECT_NAN="RANK:STEP" makes that rank's input NaN at that
    /// step; COHORT_INJECT_KILL="RANK:STEP" makes that rank die by SIGKILL there.
    let faultStep: Int?
    let killStep: Int?

    static func injectedFault(_ variable: String, rank: Int) -> Int? {
        guard let spec = ProcessInfo.processInfo.environment[variable] else { return nil }
        let parts = spec.split(separator: ":").compactMap { Int($0) }
        return parts.count == 2 && parts[0] == rank ? parts[1] : nil
    }

    /// Applies the injected faults for the step about to run (1-based).
    func injectFaults(step: Int, input: Var) {
        if faultStep == step { input.value.pointer[0] = .nan }
        if killStep == step { kill(getpid(), SIGKILL) }
    }

    /// Distillation (`cohort distill`): the transfer set and the teacher's soft targets.
    let distillation: DistillationSetup?
    /// Labels of the current batch with -1 where a transfer example has none (reused).
    var distillLabels: [Int32] = []
    /// Called after every applied update (pruning holds masked weights at zero here).
    public var afterUpdate: (() -> Void)?

    /// `data`: the splits when the caller has loaded them already (else they are loaded from the config).
    public init(config: RunConfig, configYAML: String, communicator: Communicator, resume: Bool, showProgress: Bool = true,
                data preloaded: DataSplits? = nil, trainSet override: Dataset? = nil, distillation: DistillationSetup? = nil) throws {
        self.distillation = distillation
        self.config = config
        self.configYAML = configYAML
        comm = communicator
        isLeader = communicator.rank == 0
        folder = RunFolder(directory: config.output.directory, name: config.name)
        let t = config.training
        if t.threads > 0 { BLAS.setThreads(t.threads) }
        // batch_size is per rank (as in PyTorch DDP and Horovod): N ranks train with an N-times larger batch.
        perRankBatch = t.batchSize

        data = try preloaded ?? DataSplits.load(config.data, seed: config.seed)
        // `trainSet`: what a scratch student of `cohort distill` trains on instead of data.train.
        let trainSet = distillation?.transfer ?? override ?? data.train
        let model = try config.model.build(inputShape: data.train.sampleShape)
        let outShape = try model.outputShape(for: [1] + data.train.sampleShape)
        guard outShape == [1, data.train.classCount] else {
            throw CohortError.invalid("model: the last layer gives \(shapeString(Array(outShape.dropFirst()))) per example, but the data has \(data.train.classCount) classes")
        }
        let parameterCount = ParameterArena.layoutCount(model.namedParameters())
        let decay = ParameterArena.layoutDecayRanges(model.namedParameters())
        // Optimizer state is private to each process, in Hogwild too: sharing momentum would need
        // locks or make one process's stale moments drag the others (see docs/ARCHITECTURE.md).
        let optimizer = try config.optimizer.makeOptimizer(parameterCount: parameterCount, decayRanges: decay)
        if config.distributed.mode == "hogwild" {
            shared = try Trainer.sharedArena(floats: parameterCount, communicator)
            nodeReducer = nil
            session = TrainingSession(model: model, optimizer: optimizer, seed: config.seed, parameterStorage: shared!.storage)
            try communicator.barrier()  // every rank's arena points at the segment before rank 0 writes it
            if communicator.rank == 0 { session.parameters.initialize(rng: RandomStream(seed: config.seed).split("init")) }
        } else {
            shared = nil
            let d = config.distributed
            if communicator.size > 1 && (d.reducer == "shm" || (d.reducer == "auto" && communicator.localSize == communicator.size)) {
                nodeReducer = try SharedMemoryReducer(count: parameterCount, communicator: communicator)
            } else {
                nodeReducer = nil
            }
            session = TrainingSession(model: model, optimizer: optimizer, seed: config.seed, gradientStorage: nodeReducer?.gradientStorage)
            session.parameters.initialize(rng: RandomStream(seed: config.seed).split("init"))
        }
        session.labelSmoothing = t.labelSmoothing
        session.clipNorm = t.clipNorm
        session.l1 = t.l1; session.l2 = t.l2

        sampler = try DistributedSampler(count: trainSet.count, rank: communicator.rank, worldSize: communicator.size,
                                     seed: config.seed, shuffle: true, dropLast: false)
        if t.accumulate > 1 && config.distributed.mode == "hogwild" {
            throw CohortError.invalid("training.accumulate: gradient accumulation is for sync training; Hogwild applies every batch")
        }
        if config.schedule?.name == "plateau" && config.distributed.mode == "hogwild" {
            throw CohortError.invalid("schedule.name: plateau follows rank 0's validation, which would change only rank 0's rate in Hogwild; use another schedule")
        }
        stepsPerEpoch = sampler.samplesPerRank / (perRankBatch * t.accumulate)
        guard stepsPerEpoch > 0 else {
            throw CohortError.invalid("training.batch_size: \(t.batchSize) is larger than the \(trainSet.count) training examples")
        }
        totalSteps = t.maxSteps > 0 ? min(t.maxSteps, stepsPerEpoch * t.epochs) : stepsPerEpoch * t.epochs
        loader = try BatchLoader(dataset: trainSet, batchSize: perRankBatch, normalization: data.normalization, augmentation: data.augmentation)
        let splits = data
        validator = try splits.validation.map { try Evaluator(dataset: $0, batchSize: 500, normalization: splits.normalization) }
        tester = try Evaluator(dataset: splits.test, batchSize: 500, normalization: splits.normalization)
        // The linear scaling rule (Goyal et al. 2017): N times the batch, N times the rate, reached
        // by the schedule's warm-up (warmup_steps) when the config has one.
        let baseLR = config.optimizer.learningRate * (config.distributed.scaleLR ? Float(communicator.size) : 1)
        plan = try (config.schedule ?? ScheduleConfig.constant).makePlan(baseLR: baseLR, stepsPerEpoch: stepsPerEpoch)
        faultStep = Trainer.injectedFault("COHORT_INJECT_NAN", rank: communicator.rank)
        killStep = Trainer.injectedFault("COHORT_INJECT_KILL", rank: communicator.rank)

        if communicator.size > 1 && shared == nil && nodeReducer == nil {
            let d = config.distributed
            reducer = session.makeReducer(communicator: communicator, bucketBytes: d.bucketBytes, firstBucketBytes: d.firstBucketBytes,
                                          overlap: d.overlap)
        } else {
            reducer = nil
        }
        progress = Progress(totalSteps: totalSteps, enabled: showProgress && isLeader)

        try Consistency.checkSameConfig(configYAML, communicator)
        if resume {
            state = try Checkpoint.restore(from: folder.latestCheckpoint, into: session, plan: &plan, communicator: communicator)
        }
        // Every rank starts from rank 0's parameters, whatever its own initialisation was (in
        // Hogwild they are one buffer already).
        if shared == nil { try communicator.broadcast(session.parameters.values.pointer, count: session.parameters.count, root: 0) }
        try communicator.broadcast(session.buffers.values.pointer, count: session.buffers.count, root: 0)
        if isLeader {
            try folder.prepare(resuming: resume)
            try configYAML.write(to: folder.config, atomically: true, encoding: .utf8)
            logger = try RunLogger(folder: folder, resuming: resume)
        }
    }

    /// Runs to the end (epochs, max_steps or early stopping) and returns the final test evaluation.
    @discardableResult
    public func run() throws -> Evaluation {
        if shared != nil { return try runHogwild() }
        let t = config.training
        var x: Var?
        let baseRNG = RandomStream(seed: config.seed)
        progress.begin(at: state.step)
        let started = Runtime.now()
        var localLoss = 0.0, localSteps = 0, localCorrect = 0, localCount = 0
        epochs: while state.epoch < t.epochs && state.step < totalSteps {
            let indices = sampler.indices(epoch: state.epoch)
            while state.batchInEpoch < stepsPerEpoch && state.step < totalSteps {
                let b = state.batchInEpoch, k = t.accumulate
                session.parameters.zeroGradients()
                reducer?.prepare()
                let t0 = TraceRecorder.now()
                // k micro-batches accumulate into the gradient arena (each loss scaled by 1/k); only
                // the last one lets the reducer send anything.
                var loss: Float = 0, correct = 0
                for micro in 0..<k {
                    let first = (b * k + micro) * perRankBatch
                    // Randomness per (step, micro-batch, rank): a resumed run draws exactly what it would have.
                    let stream = (UInt64(state.step) << 16 | UInt64(comm.rank)) &* 64 &+ UInt64(micro)
                    loader.random = baseRNG.split("augment", stream)
                    let positions = indices[first..<(first + perRankBatch)]
                    let features = try loader.load(positions)
                    if x == nil || x!.value.storage !== features.storage || x!.shape != features.shape { x = Var(features) }
                    session.context.rng = baseRNG.split("dropout", stream)
                    reducer?.synchronize = micro == k - 1
                    if micro == 0 { injectFaults(step: state.step + 1, input: x!) }
                    let r: (loss: Float, correct: Int)
                    if let d = distillation {
                        let soft = try d.teacher.probabilities(positions: positions, features: features)
                        distillLabels = loader.labels
                        for (j, p) in positions.enumerated() where !d.labeled[p] { distillLabels[j] = -1 }
                        r = try session.forwardBackwardDistilled(x!, labels: distillLabels, teacher: soft, temperature: d.temperature,
                                                                 alpha: d.alpha, scale: 1 / Float(k))
                    } else {
                        r = try session.forwardBackward(x!, labels: loader.labels, scale: 1 / Float(k))
                    }
                    loss += r.loss / Float(k)
                    correct += r.correct
                }
                let labelCount = perRankBatch * k
                let t1 = TraceRecorder.now()
                if !loss.isFinite && t.nonFinite == "stop" {
                    // Stop before waiting on the other ranks: this rank's message is the one reported.
                    progress.interrupt()
                    throw CohortError.invalid("step \(state.step + 1): the loss is \(loss) on this rank's batch; lower optimizer.lr, set training.clip_norm, or training.non_finite=skip")
                }
                trace?.recorder.record(trace!.forwardBackward, start: t0, end: t1)
                if let reducer {
                    try reducer.finish()
                    trace?.recorder.record(trace!.wait, start: t1, end: TraceRecorder.now())
                } else if let nodeReducer {
                    nodeReducer.allreduce()
                    trace?.recorder.record(trace!.wait, start: t1, end: TraceRecorder.now())
                }
                let lr = plan.learningRate(at: state.step)
                let t2 = TraceRecorder.now()
                let result = session.update(learningRate: lr, loss: loss)
                trace?.recorder.record(trace!.optimizer, start: t2, end: TraceRecorder.now())
                if !result.finite {
                    if t.nonFinite == "stop" {
                        progress.interrupt()
                        throw CohortError.invalid("step \(state.step + 1): loss or gradient is NaN/Inf (loss \(loss)); lower optimizer.lr, set training.clip_norm, or training.non_finite=skip")
                    }
                    state.skippedSteps += 1
                } else {
                    afterUpdate?()
                    localLoss += Double(loss); localSteps += 1; localCorrect += correct; localCount += labelCount
                }
                state.step += 1
                state.batchInEpoch += 1
                progress.update(step: state.step, epoch: state.epoch + 1, loss: loss, learningRate: lr, logEvery: t.logEvery)
                if state.step % t.logEvery == 0 || state.step == totalSteps {
                    if rankLog != nil {
                        logRank(String(format: "step %d epoch %d rank %d: loss %.5f (mean of its last %d steps), accuracy %.4f, %.1f s",
                                       state.step, state.epoch, comm.rank, localLoss / Double(Swift.max(localSteps, 1)), localSteps,
                                       Double(localCorrect) / Double(Swift.max(localCount, 1)), Runtime.now() - started))
                    }
                    // Mean over the steps since the last log and over the ranks.
                    var sums = [localLoss, Double(localSteps), Double(localCorrect), Double(localCount)]
                    try comm.allreduce(&sums)
                    if sums[1] > 0 {
                        let meanLoss = sums[0] / sums[1], accuracy = sums[2] / Swift.max(sums[3], 1)
                        try logger?.trainStep(step: state.step, epoch: state.epoch, loss: meanLoss, accuracy: accuracy, learningRate: Double(lr))
                        state.history.append(.init(step: state.step, trainLoss: meanLoss, trainAccuracy: accuracy))
                    }
                    localLoss = 0; localSteps = 0; localCorrect = 0; localCount = 0
                }
                if t.checkpointSteps > 0 && state.step % t.checkpointSteps == 0 { try saveCheckpoint() }
                if config.distributed.checkEvery > 0 && state.step % config.distributed.checkEvery == 0 {
                    try Consistency.checkSameParameters(session.parameters, comm, step: state.step)
                }
            }
            if state.batchInEpoch >= stepsPerEpoch {
                state.epoch += 1
                state.batchInEpoch = 0
                progress.interrupt()
                if try endOfEpoch() { break epochs }
            }
        }
        try Consistency.checkSameParameters(session.parameters, comm, step: state.step)
        try averageBuffers()
        let test = try tester.evaluate(session, communicator: comm)
        try saveCheckpoint()
        if isLeader {
            try logger?.evaluation(step: state.step, epoch: state.epoch, split: "test", result: test)
            try Report.write(folder: folder, config: config, test: test, state: state, classNames: data.classNames,
                             parameterCount: session.parameters.parameterCount, seconds: Runtime.now() - started)
        }
        return test
    }

    /// Validation, plateau schedule, early stopping and the epoch checkpoint. True: stop early.
    private func endOfEpoch() throws -> Bool {
        try averageBuffers()
        let stop = try epochEvaluation(of: session, communicator: comm)
        let every = config.training.checkpointEvery
        if every > 0 && state.epoch % every == 0 { try saveCheckpoint() }
        return stop
    }

    /// Validation (plateau schedule, best checkpoint, early stopping) and the optional test pass of
    /// the end of an epoch, for `model` (the live model, or Hogwild's snapshot). True: stop early.
    func epochEvaluation(of model: TrainingSession, communicator: Communicator) throws -> Bool {
        var stop = false
        if let validator {
            let v = try validator.evaluate(model, communicator: communicator)
            try logger?.evaluation(step: state.step, epoch: state.epoch, split: "validation", result: v)
            if let i = state.history.indices.last { state.history[i].validationAccuracy = v.accuracy; state.history[i].validationLoss = v.loss }
            _ = plan.record(metric: v.accuracy)
            if v.accuracy > state.bestValidationAccuracy {
                state.bestValidationAccuracy = v.accuracy
                state.epochsWithoutImprovement = 0
                if isLeader { try Checkpoint.save(to: folder.bestCheckpoint, session: model, state: state, plan: plan, configYAML: configYAML) }
            } else {
                state.epochsWithoutImprovement += 1
            }
            if isLeader { print(String(format: "epoch %d: validation accuracy %.4f, loss %.4f", state.epoch, v.accuracy, v.loss)) }
            if config.training.patience > 0 && state.epochsWithoutImprovement >= config.training.patience {
                if isLeader { print("early stopping: no improvement in \(config.training.patience) epochs") }
                stop = true
            }
        }
        if config.training.evalTest {
            let test = try tester.evaluate(model, communicator: communicator)
            try logger?.evaluation(step: state.step, epoch: state.epoch, split: "test", result: test)
        }
        return stop
    }

    /// BatchNorm running statistics differ per rank (each saw its own shard): average them
    /// before evaluating or saving.
    func averageBuffers() throws {
        if comm.size > 1 && session.buffers.count > 1 {
            try comm.allreduce(session.buffers.values.pointer, count: session.buffers.count, average: true)
        }
    }

    func saveCheckpoint() throws {
        try averageBuffers()
        if isLeader { try Checkpoint.save(to: folder.latestCheckpoint, session: session, state: state, plan: plan, configYAML: configYAML) }
    }
}

/// Where the loop is: saved in checkpoints so `--resume` continues exactly.
public struct TrainState: Codable, Sendable {
    public var step = 0
    public var epoch = 0
    public var batchInEpoch = 0
    public var skippedSteps = 0
    public var bestValidationAccuracy = -1.0
    public var epochsWithoutImprovement = 0
    public var history: [HistoryPoint] = []

    public struct HistoryPoint: Codable, Sendable {
        public var step: Int
        public var trainLoss: Double
        public var trainAccuracy: Double
        public var validationLoss: Double?
        public var validationAccuracy: Double?
    }
}
