import Cohort
import CohortData
import CohortDistributed
import CohortFormats
import CohortNN
import CohortOptim
import Foundation

/// A training run, for one process or N ranks under mpirun: built from a config, then `run()`
/// trains synchronously (Trainer+Synchronous.swift) or Hogwild (Trainer+Hogwild.swift), every
/// step through the one `TrainingStep`. The parts each hold one concern: the data and sampler
/// (`TrainingData`), the model in training (`TrainingSession`, inside the step), gradient
/// synchronisation (`GradientSync`, chosen by `GradientSyncFactory`), checkpoints and resume
/// (`RunCheckpoints`), logging and trace (`RunTelemetry`), validation and test (`RunEvaluation`).
/// Only rank 0 writes files and prints.
public final class Trainer {
    public let config: RunConfig
    let comm: Communicator
    let data: TrainingData
    public let step: TrainingStep
    /// Hogwild: the node's shared parameter segment, which every rank's model points at.
    let shared: SharedArena?
    let checkpoints: RunCheckpoints
    let telemetry: RunTelemetry
    let evaluation: RunEvaluation
    /// Where the loop is, and the learning-rate plan (with its plateau state): saved in checkpoints.
    var state = TrainState()
    var plan: LearningRatePlan

    public var session: TrainingSession { step.session }
    /// The model being trained.
    public var model: Model { step.session.model }
    public var totalSteps: Int { data.totalSteps }
    public var folderPath: String { checkpoints.folder.url.path }
    var isLeader: Bool { comm.rank == 0 }
    /// Called after every applied update (pruning holds masked weights at zero here).
    public var afterUpdate: (() -> Void)? {
        get { step.afterUpdate }
        set { step.afterUpdate = newValue }
    }

    /// `data`: the splits when the caller has loaded them already (else they are loaded from the
    /// config); `trainSet`: what a scratch student of `cohort distill` trains on instead of the
    /// training split; `distillation`: the transfer set and teacher that make this a distillation.
    public init(config: RunConfig, configYAML: String, communicator: Communicator, resume: Bool, showProgress: Bool = true,
                data preloaded: DataSplits? = nil, trainSet override: Dataset? = nil, distillation: DistillationSetup? = nil) throws {
        self.config = config
        comm = communicator
        let t = config.training
        if t.threads > 0 { GEMM.setThreads(t.threads) }
        let precision = try t.matmulPrecision()
        try Self.checkCombinations(config)
        // Ranks started with different configs would meet in mismatched collectives: compare first.
        try Consistency.checkSameConfig(configYAML, communicator)

        let splits = try preloaded ?? DataSplits.load(config.data, seed: config.seed)
        data = try TrainingData(config: config, splits: splits, trainSet: distillation?.transfer ?? override ?? splits.train,
                                communicator: communicator)
        let model: Model
        (model, shared) = try Self.makeModel(config, splits: splits, communicator: communicator)
        let sync = try GradientSyncFactory.make(config.distributed, parameters: model.parameters, communicator: communicator)
        // Optimizer state is private to each process, in Hogwild too: sharing momentum would need
        // locks or let one process's stale moments drag the others (docs/ARCHITECTURE.md).
        let optimizer = try config.optimizer.makeOptimizer(parameterCount: model.parameters.count, decayRanges: model.parameters.decayRanges)
        let session = TrainingSession(model: model, optimizer: optimizer, seed: config.seed, regularization: Regularization(t),
                                      gradientStorage: sync.gradientStorage, precision: precision)
        step = TrainingStep(session: session, loader: data.loader, sync: sync,
                            objective: distillation.map { .distillation($0) } ?? .labels, nonFinite: t.nonFinite,
                            microBatches: t.accumulate, randomness: RandomStream(seed: config.seed))
        step.faults = FaultInjection.fromEnvironment(rank: communicator.rank)

        // The linear scaling rule (Goyal et al. 2017): N times the batch, N times the rate, reached
        // by the schedule's warm-up (warmup_steps) when the config has one.
        let baseLR = config.optimizer.learningRate * (config.distributed.scaleLR ? Float(communicator.size) : 1)
        plan = try (config.schedule ?? ScheduleConfig.constant).makePlan(baseLR: baseLR, stepsPerEpoch: data.stepsPerEpoch)
        evaluation = try RunEvaluation(splits: splits, training: t)
        let folder = RunFolder(directory: config.output.directory, name: config.name)
        checkpoints = RunCheckpoints(folder: folder, configYAML: configYAML, isWriter: communicator.rank == 0)
        telemetry = RunTelemetry(progress: Progress(totalSteps: data.totalSteps, enabled: showProgress && communicator.rank == 0))

        if resume { state = try checkpoints.restore(into: session, plan: &plan, communicator: communicator) }
        // Every rank starts from rank 0's parameters, whatever its own initialisation was (in
        // Hogwild they are one buffer already).
        if shared == nil { try communicator.broadcast(model.parameters.values.pointer, count: model.parameters.count, root: 0) }
        try communicator.broadcast(model.buffers.values.pointer, count: model.buffers.count, root: 0)
        if isLeader {
            try folder.prepare(resuming: resume)
            try configYAML.write(to: folder.config, atomically: true, encoding: .utf8)
            telemetry.logger = try RunLogger(folder: folder, resuming: resume)
        }
    }

    /// The config's model for the data, initialised from the seed. In Hogwild its parameter arena
    /// is the node's shared segment, which rank 0 alone initialises (collective).
    static func makeModel(_ config: RunConfig, splits: DataSplits, communicator: Communicator) throws -> (Model, SharedArena?) {
        let network = try config.model.build(inputShape: splits.train.sampleShape)
        let shared = config.distributed.mode == .hogwild
            ? try SharedArena.hogwild(floats: ParameterArena.layoutCount(network.namedParameters()), communicator: communicator) : nil
        let model = try Model(network: network, inputShape: splits.train.sampleShape, parameterStorage: shared?.storage)
        guard model.outputCount == splits.train.classCount else {
            throw CohortError.invalid("model: the last layer gives \(model.outputCount) values per example, but the data has \(splits.train.classCount) classes")
        }
        if shared != nil { try communicator.barrier() }  // every arena points at the segment before rank 0 writes it
        if shared == nil || communicator.rank == 0 { model.initialize(rng: RandomStream(seed: config.seed).split("init")) }
        return (model, shared)
    }

    /// Settings that do not go together, refused before any rank waits on another.
    static func checkCombinations(_ config: RunConfig) throws {
        guard config.distributed.mode == .hogwild else { return }
        if config.training.accumulate > 1 {
            throw CohortError.invalid("training.accumulate: gradient accumulation is for sync training; Hogwild applies every batch")
        }
        if config.schedule?.followsValidation == true {
            throw CohortError.invalid("schedule.name: plateau follows rank 0's validation, which would change only rank 0's rate in Hogwild; use another schedule")
        }
    }

    /// Runs to the end (epochs, max_steps or early stopping) and returns the final test evaluation.
    @discardableResult
    public func run() throws -> Evaluation {
        switch config.distributed.mode {
        case .sync: return try runSynchronous()
        case .hogwild: return try runHogwild()
        }
    }

    /// Records each step's spans for `--trace` (forward+backward, each bucket's allreduce, the wait,
    /// the optimizer).
    public func enableTrace() { telemetry.startTrace(rank: comm.rank, sync: step.sync) }
    public var trace: StepTrace? { telemetry.trace }

    /// Every rank appends its own loss and step time to `<run folder>/rank-<N>.log` (`--rank-logs`).
    public func enableRankLog() throws { try telemetry.openRankLog(folder: checkpoints.folder, rank: comm.rank) }

    /// The final test evaluation, checkpoint and report, once every rank has stopped training.
    func finish(seconds: Double) throws -> Evaluation {
        let model = session.model
        try Consistency.averageBuffers(model, comm)
        let test = try evaluation.tester.evaluate(model, communicator: comm)
        try checkpoints.save(.latest, model: model, optimizer: session.optimizer, state: state, plan: plan)
        if isLeader {
            try telemetry.logger?.evaluation(step: state.step, epoch: state.epoch, split: "test", result: test)
            try Report.write(folder: checkpoints.folder, config: config, test: test, state: state, classNames: data.splits.classNames,
                             parameterCount: model.parameters.parameterCount, seconds: seconds)
        }
        return test
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
