import Cohort
import CohortDistributed
import CohortNN
import Foundation

/// Hogwild (Niu, Recht, Ré & Wright 2011): every process of a node reads and updates ONE
/// parameter arena in shared memory, without locks and without messages. Each process draws its
/// own shard and runs its own `TrainingStep` (tape, gradients, optimizer state); the step's update
/// writes straight into the shared arena. A shared atomic counter hands out the node's update
/// numbers; a node's training ends when it reaches epochs x steps-per-epoch x its ranks. Rank 0
/// also evaluates and checkpoints a snapshot copy while the others keep training. Across nodes the
/// node leaders average the arenas every `average_every` steps (`HogwildAveraging`), and rank 0
/// evaluates the average.
extension Trainer {
    func runHogwild() throws -> Evaluation {
        let shared = self.shared!
        let node = topology.node
        if node.rank == 0 { shared.resetUpdates(to: UInt64(state.step * node.size)) }
        // The one synchronisation of the run: the arenas are initialised (or restored).
        try comm.barrier()
        let averaging = topology.spansNodes ? topology.leaders.map {
            HogwildAveraging(leaders: $0, arena: shared.storage, count: session.parameters.count,
                             every: config.distributed.averageEvery ?? DistributedConfig.defaultAverageEvery, totalSteps: data.totalSteps - state.step)
        } : nil
        // A resumed run goes on where each rank's sampler was (or, from a checkpoint that holds no
        // places, at the start of the checkpoint's epoch).
        let resumed = state.hogwildPositions.flatMap { $0.count == comm.size ? $0[comm.rank] : nil }
        let source = HogwildSteps(arena: shared, nodeSize: node.size, totalUpdates: data.totalSteps * node.size,
                                  cursor: SamplerCursor(sampler: data.sampler, batch: data.batchSize, epoch: resumed?[0] ?? state.epoch,
                                                        position: resumed?[1] ?? 0))
        let run = try HogwildRun(self, source: source, averaging: averaging)
        telemetry.begin(at: state.step)
        let loop = makeLoop(source)
        loop.observers = [run]
        do {
            try loop.run()
        } catch {
            shared.requestStop()
            telemetry.progress.interrupt()
            throw error
        }
        let (epoch, position) = (source.cursor.epoch, source.cursor.position)
        publishPosition(epoch: epoch, position: position)
        watchdog?.finished()  // out of updates: not a stalled peer while the others finish theirs
        try node.barrier()  // every process of the node has stopped writing
        if let averaging {
            try averaging.finish(stopCode: shared.stopCode)
            if averaging.agreedStop != 0 { shared.requestStop(code: averaging.agreedStop) }
        }
        try comm.barrier()  // every node's arena holds the final average, and its stop code
        var counts = [Double(run.updates)]
        try comm.allreduce(&counts)
        state.hogwildPositions = try gatherPositions(epoch: epoch, position: position)
        if shared.stopCode > 1 {
            // Asked to stop: the checkpoint holds the updates applied so far and every sampler's place.
            state.step = Swift.min(data.totalSteps, Int(counts[0]) / comm.size)
            state.epoch = state.step / data.stepsPerEpoch
            try saveLatest()
            throw RunStopped(signal: Int32(shared.stopCode), step: state.step, totalSteps: data.totalSteps, folder: folderPath)
        }
        state.step = data.totalSteps
        state.epoch = Swift.max(state.epoch, data.totalSteps / data.stepsPerEpoch)
        if isLeader {
            // The steps since the last log line, so the curves reach the end of the run.
            try recordTraining(telemetry.takeWindow(), learningRate: plan.learningRate(at: state.step - 1),
                               samplesPerSecond: run.samplesPerSecond(updates: Swift.min(Int(shared.updates), source.totalUpdates)),
                               gradientWaitMs: nil)
        }
        let test = try finish(seconds: Runtime.now() - telemetry.started)
        if isLeader {
            let nodes = topology.spansNodes ? String(format: " on %d nodes, averaged %d times", topology.nodeCount, averaging?.done ?? 0) : ""
            print(String(format: "hogwild: %d ranks applied %.0f updates (this rank %d)%@ in %.1f s", comm.size, counts[0], run.updates, nodes,
                         Runtime.now() - telemetry.started))
        }
        return test
    }

    /// This rank's sampler place, where the node's rank 0 can read it for a checkpoint (words 4 and
    /// 5 of the node's heartbeat board; in one process, the state itself).
    fileprivate func publishPosition(epoch: Int, position: Int) {
        if let board {
            board.publishPosition(epoch: epoch, position: position)
        } else {
            state.hogwildPositions = [[epoch, position]]
        }
    }

    /// Every rank's [epoch, position] while training, as published on the node's board: known to
    /// rank 0 on one node only (across nodes, checkpoints taken while training hold none).
    private func samplerPositions() -> [[Int]]? {
        guard let board else { return state.hogwildPositions }
        return topology.spansNodes ? nil : board.positions()
    }

    /// Every rank's [epoch, position] at the end (collective).
    private func gatherPositions(epoch: Int, position: Int) throws -> [[Int]] {
        try comm.allgather(UInt64(epoch) << 32 | UInt64(position)).map { [Int($0 >> 32), Int($0 & 0xffff_ffff)] }
    }

    /// Rank 0 alone: validation and test on a snapshot of the shared arena (or of the nodes' latest
    /// `average`), best/latest checkpoints, early stopping. True: stop.
    fileprivate func snapshotEndOfEpoch(_ snapshot: Model, average: Storage?) throws -> Bool {
        snapshot.assign(from: session.model)
        if let average { snapshot.parameters.values.pointer.update(from: average.pointer, count: snapshot.parameters.count) }
        state.hogwildPositions = samplerPositions()
        let stop = try epochEvaluation(of: snapshot, communicator: SingleProcessCommunicator())
        let every = config.training.checkpointEvery
        if every > 0 && state.epoch % every == 0 {
            try checkpoints.save(.latest, model: snapshot, optimizer: session.optimizer, state: state, plan: plan)
        }
        return stop
    }
}

/// The path after every Hogwild step: this rank publishes its sampler's place, a node leader
/// averages with the other nodes when due, and an applied update is counted; rank 0 alone also
/// logs and, at each new epoch, evaluates and checkpoints a snapshot while the others keep training.
final class HogwildRun: StepObserver {
    unowned let trainer: Trainer
    let source: HogwildSteps
    let averaging: HogwildAveraging?
    /// Rank 0's private copy of the model, which it evaluates so the others never wait for it.
    let snapshot: Model?
    /// Updates this rank applied.
    private(set) var updates = 0
    private var lastEvaluatedEpoch: Int
    private let firstStep: Int
    /// The shared counter and the time at the last log line, for the throughput.
    private var logged: (updates: Int, time: Double)

    init(_ trainer: Trainer, source: HogwildSteps, averaging: HogwildAveraging?) throws {
        self.trainer = trainer
        self.source = source
        self.averaging = averaging
        snapshot = trainer.isLeader ? try Model(spec: trainer.config.model, inputShape: trainer.session.model.inputShape) : nil
        lastEvaluatedEpoch = trainer.state.epoch
        firstStep = trainer.state.step
        logged = (trainer.state.step * source.nodeSize, Runtime.now())
    }

    /// Throughput from the shared update counter: every process's updates of the node, times the nodes.
    func samplesPerSecond(updates: Int) -> Double? {
        defer { logged = (updates, Runtime.now()) }
        let seconds = Runtime.now() - logged.time
        return seconds > 0 ? Double((updates - logged.updates) * trainer.data.batchSize * trainer.topology.nodeCount) / seconds : nil
    }

    func stepFinished(_ planned: PlannedStep, _ outcome: TrainingStep.Outcome, learningRate: Float) throws -> LoopControl {
        let t = trainer, shared = source.arena, globalStep = planned.scheduleStep, claimed = Int(planned.stream)
        t.publishPosition(epoch: source.cursor.epoch, position: source.cursor.position)
        // A node leader averages with the other nodes when its node reaches the next multiple of average_every.
        let averaged = try averaging?.averageIfDue(nodeStep: globalStep + 1 - firstStep, stopCode: shared.stopCode) ?? false
        if let averaging, averaging.agreedStop != 0 { shared.requestStop(code: averaging.agreedStop) }
        guard outcome.applied else { return .proceed }
        updates += 1
        let logEvery = t.config.training.logEvery
        t.telemetry.count(outcome, clock: t.step.clock)
        if t.telemetry.hasRankLog && updates % logEvery == 0 {
            t.telemetry.logRank(String(format: "update %d (global %d) rank %d: loss %.5f, %.1f s", updates, claimed + 1, t.comm.rank,
                                       outcome.loss, Runtime.now() - t.telemetry.started))
        }
        guard let snapshot else { return .proceed }
        t.state.step = globalStep + 1
        t.telemetry.progress.update(step: t.state.step, epoch: globalStep / t.data.stepsPerEpoch + 1, loss: outcome.loss,
                                    learningRate: learningRate, logEvery: logEvery)
        if updates % logEvery == 0 {
            try t.recordTraining(t.telemetry.takeWindow(), learningRate: learningRate, samplesPerSecond: samplesPerSecond(updates: claimed + 1),
                                 gradientWaitMs: nil)
        }
        let epoch = globalStep / t.data.stepsPerEpoch
        // Across nodes rank 0 evaluates the first average of each new epoch; on one node the arena itself.
        if epoch > lastEvaluatedEpoch && (averaging == nil || averaged) {
            lastEvaluatedEpoch = epoch
            t.state.epoch = epoch
            t.telemetry.progress.interrupt()
            if try t.snapshotEndOfEpoch(snapshot, average: averaging?.average) { shared.requestStop() }
        }
        return .proceed
    }
}
