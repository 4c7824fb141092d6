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
    /// Held by rank 0 while the run lives (nil on the other ranks).
    let lock: RunFolderLock?
    /// The ranks' published progress on this node (nil for one process).
    let board: HeartbeatBoard?
    /// The job's nodes: the node's ranks, the node leaders (`distributed.ranks_per_node` or MPI's).
    let topology: NodeTopology
    var watchdog: Watchdog? { (comm as? WatchedCommunicator)?.watchdog }
    /// Where the loop is, and the learning-rate plan (with its plateau state): saved in checkpoints.
    var state = TrainState()
    var plan: LearningRatePlan

    public var session: TrainingSession { step.session }
    /// The model being trained.
    public var model: Model { step.session.model }
    public var totalSteps: Int { data.totalSteps }
    /// The steps taken so far (restored by a resume).
    public var currentStep: Int { state.step }
    public var folderPath: String { checkpoints.folder.url.path }
    var isLeader: Bool { comm.rank == 0 }
    /// Called after every applied update (pruning holds masked weights at zero here).
    public var afterUpdate: (() -> Void)? {
        get { step.afterUpdate }
        set { step.afterUpdate = newValue }
    }

    /// `data`: the splits when the caller has loaded them already (else they are loaded from the
    /// config); `input`: what a scratch student of `cohort distill` trains on instead of the
    /// training split with `data.augment`; `distillation`: the transfer set and teacher that make
    /// this a distillation.
    public init(config given: RunConfig, configYAML givenYAML: String, communicator: Communicator, resume: Bool, showProgress: Bool = true,
                data preloaded: DataSplits? = nil, input override: TrainingInput? = nil, distillation: DistillationSetup? = nil) throws {
        var config = given, configYAML = givenYAML
        comm = communicator
        if given.training.threads > 0 { GEMM.setThreads(given.training.threads) }
        let precision = try given.training.matmulPrecision()
        try Self.checkCombinations(config, communicator: communicator)
        let folder = RunFolder(directory: config.output.directory, name: config.name)
        // One run per folder: rank 0 holds its lock for the whole run.
        lock = communicator.rank == 0 ? try RunFolderLock.acquire(folder.url) : nil
        // Ranks started differently would meet in mismatched collectives: compare before any.
        let watchdog = (communicator as? WatchedCommunicator)?.watchdog
        watchdog?.timeout = config.distributed.timeout
        try StartupAgreement.check(configYAML: configYAML, resume: resume, communicator)
        // Resumed on another number of ranks: a synchronous run keeps the checkpoint's global batch
        // (a Hogwild one its share of training and its samplers' place, once restored below).
        var written: ElasticResume.Written?
        if resume {
            written = try ElasticResume.written(folder.latestCheckpoint, communicator)
            if config.distributed.mode == .sync, let written, let training = try ElasticResume.rebatch(given.training, from: written, ranks: communicator.size) {
                if communicator.rank == 0 { print(ElasticResume.describe(given.training, training, from: written, ranks: communicator.size)) }
                config.training = training
                (config, configYAML) = try ConfigLoader.resolved(config, source: "\(given.name) (resumed)")
            }
        }
        self.config = config
        let t = config.training
        topology = try NodeTopology(world: communicator, ranksPerNode: config.distributed.ranksPerNode)
        // The ranks of a node publish their progress, so a stalled one is named.
        board = communicator.size > 1 ? try HeartbeatBoard(node: topology.node, worldRank: communicator.rank) : nil
        watchdog?.use(board, watchPeers: config.distributed.mode == .hogwild)

        let splits = try preloaded ?? DataSplits.load(config.data, task: config.task, seed: config.seed)
        data = try TrainingData(config: config, splits: splits,
                                input: distillation?.input ?? override ?? TrainingInput(examples: splits.train, augmentation: splits.augmentation),
                                communicator: communicator)
        let model: Model
        (model, shared) = try Self.makeModel(config, splits: splits, topology: topology)
        step = try TrainingStep.make(model: model, loader: data.loader, optimizer: config.optimizer, topology: topology,
                                     distributed: config.distributed, training: t, precision: precision,
                                     objective: distillation.map { .distillation($0) } ?? TrainingObjective(config.task), seed: config.seed,
                                     mixing: data.input.mixing)
        // Faults go into a fresh run only, so that a run restarted from its checkpoint can finish.
        step.faults = resume ? FaultInjection() : FaultInjection.fromEnvironment(rank: communicator.rank)

        // The linear scaling rule (Goyal et al. 2017): N times the batch, N times the rate, reached
        // by the schedule's warm-up (warmup_steps) when the config has one.
        // The ranks the rule counts are those of the global batch (the checkpoint's, when a resume kept it).
        let keptBatch = config.distributed.mode == .sync ? written?.globalBatch : nil
        let ranksOfBatch = Float(keptBatch ?? t.batchSize * t.accumulate * communicator.size) / Float(given.training.batchSize * given.training.accumulate)
        let baseLR = config.optimizer.learningRate * (config.distributed.scaleLR ? ranksOfBatch : 1)
        plan = try (config.schedule ?? ScheduleConfig.constant).makePlan(baseLR: baseLR, stepsPerEpoch: data.stepsPerEpoch)
        evaluation = try RunEvaluation(splits: splits, training: t)
        checkpoints = RunCheckpoints(folder: folder, configYAML: configYAML, data: splits.description, isWriter: communicator.rank == 0)
        telemetry = RunTelemetry(progress: Progress(totalSteps: data.totalSteps, enabled: showProgress && communicator.rank == 0))

        if resume { state = try checkpoints.restore(into: session, plan: &plan, communicator: communicator) }
        if config.distributed.mode == .hogwild, let written, written.ranks != communicator.size {
            let (step, places) = ElasticResume.hogwild(step: state.step, places: state.hogwildPositions, from: written, ranks: communicator.size)
            if communicator.rank == 0 {
                print(ElasticResume.describeHogwild(from: written, ranks: communicator.size, step: state.step, newStep: step,
                                                    totalSteps: data.totalSteps, places: places))
            }
            state.step = min(step, data.totalSteps)
            state.hogwildPositions = places
        }
        state.worldSize = communicator.size
        state.globalBatch = t.batchSize * t.accumulate * communicator.size
        // Every rank starts from rank 0's parameters, whatever its own initialisation was (in
        // Hogwild they are one buffer per node already: the leaders pass them on).
        if shared == nil {
            try communicator.broadcast(model.parameters.values.pointer, count: model.parameters.count, root: 0)
        } else if topology.spansNodes, let leaders = topology.leaders {
            try leaders.broadcast(model.parameters.values.pointer, count: model.parameters.count, root: 0)
        }
        try communicator.broadcast(model.buffers.values.pointer, count: model.buffers.count, root: 0)
        if isLeader {
            try folder.prepare(resuming: resume)
            try configYAML.write(to: folder.config, atomically: true, encoding: .utf8)
            telemetry.logger = try RunLogger(folder: folder, resuming: resume)
        }
    }

    /// The config's model for the data, initialised from the seed. In Hogwild its parameter arena
    /// is the node's shared segment, which the node's rank 0 alone initialises (collective).
    static func makeModel(_ config: RunConfig, splits: DataSplits, topology: NodeTopology) throws -> (Model, SharedArena?) {
        let communicator = topology.world
        let network = try config.model.build(inputShape: splits.train.sampleShape)
        let shared = config.distributed.mode == .hogwild
            ? try SharedArena.hogwild(floats: ParameterArena.layoutCount(network.namedParameters()), node: topology.node) : nil
        let model = try Model(network: network, inputShape: splits.train.sampleShape, parameterStorage: shared?.storage, spec: config.model)
        guard model.outputCount == splits.train.outputCount else {
            let want = splits.task == .regression ? "\(splits.train.outputCount) target values" : "\(splits.train.classCount) classes"
            throw CohortError.invalid("model: the last layer gives \(model.outputCount) values per example, but the data has \(want)")
        }
        if shared != nil { try communicator.barrier() }  // every arena points at the segment before its node's rank 0 writes it
        if shared == nil || topology.isLeader { model.initialize(rng: RandomStream(seed: config.seed).split("init")) }
        return (model, shared)
    }

    /// Whether the config's run folder holds a latest checkpoint, as rank 0 sees it (every rank
    /// gets rank 0's answer: ranks need not share a file system).
    public static func hasLatestCheckpoint(_ config: RunConfig, _ comm: Communicator) throws -> Bool {
        let folder = RunFolder(directory: config.output.directory, name: config.name)
        let seen = Tensor(zeros: [1])
        if comm.rank == 0 && FileManager.default.fileExists(atPath: folder.latestCheckpoint.path) { seen.pointer[0] = 1 }
        try comm.broadcast(seen.pointer, count: 1, root: 0)
        return seen.pointer[0] == 1
    }

    /// Whether the restored run had ended (its latest checkpoint is the final one), so `run()` would
    /// train nothing; checkpoints written before the flag existed count as ended at their last step.
    public var hasFinished: Bool { state.finished ?? (state.step >= data.totalSteps) }

    /// The test evaluation of the model as it stands (collective): for a run that `hasFinished`,
    /// what its `run()` returned.
    public func testEvaluation() throws -> Evaluation {
        try evaluation.tester.evaluate(model, communicator: comm)
    }

    /// Settings that do not go together, refused before any rank waits on another.
    static func checkCombinations(_ config: RunConfig, communicator: Communicator) throws {
        let d = config.distributed
        _ = try GradientSyncFactory.kind(d, worldSize: communicator.size,
                                         spansNodes: NodeTopology.spansNodes(ranksPerNode: d.ranksPerNode, world: communicator))
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
        state.finished = nil  // training again (a resumed run given more epochs): `finish` sets it at the end
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

    /// Logs the training metrics of a window of steps (summed over ranks, or rank 0's in Hogwild)
    /// and adds them to the history: the mean loss, accuracy or RMSE, the rate, and the window's
    /// throughput and gradient wait as the loop measured them.
    func recordTraining(_ w: RunTelemetry.Window, learningRate: Float, samplesPerSecond: Double?, gradientWaitMs: Double?) throws {
        guard w.steps > 0 else { return }
        let meanLoss = w.loss / Double(w.steps)
        // An evaluation may already have made a point at this step (Hogwild's rank 0 can log twice at one global step).
        var point = state.history.last?.step == state.step ? state.history.removeLast() : TrainState.HistoryPoint(step: state.step)
        point.trainLoss = meanLoss
        if data.splits.task == .regression {
            point.trainRMSE = meanLoss.squareRoot()
        } else {
            point.trainAccuracy = Double(w.correct) / Double(Swift.max(w.examples, 1))
        }
        point.learningRate = Double(learningRate)
        point.samplesPerSecond = samplesPerSecond
        point.gradientWaitMs = gradientWaitMs
        try telemetry.logger?.trainStep(point, epoch: state.epoch)
        state.history.append(point)
    }

    /// The final test evaluation, checkpoint and report, once every rank has stopped training.
    func finish(seconds: Double) throws -> Evaluation {
        let model = session.model
        // Bytes all ranks sent over MPI per step of this session (collective).
        let steps = state.step - telemetry.progress.startStep
        var sent = [Double(step.sync.bytesSent)]
        try comm.allreduce(&sent)
        try Consistency.averageBuffers(model, comm)
        let test = try evaluation.tester.evaluate(model, communicator: comm)
        state.record(test, split: .test)
        state.finished = true
        try checkpoints.save(.latest, model: model, optimizer: session.optimizer, state: state, plan: plan)
        if isLeader {
            try telemetry.logger?.evaluation(step: state.step, epoch: state.epoch, split: .test, result: test)
            let summary = try RunSummary(config: config, configYAML: checkpoints.configYAML, test: test, state: state,
                                         classNames: data.splits.classNames, parameterCount: model.parameters.parameterCount,
                                         seconds: seconds, ranks: comm.size, nodes: topology.nodeCount, synchronization: step.sync.kind,
                                         wireBytesPerStep: steps > 0 && [.mpi, .hierarchical].contains(step.sync.kind) ? sent[0] / Double(steps) : nil)
            try Report.write(summary, to: checkpoints.folder.url)
        }
        return test
    }
}
