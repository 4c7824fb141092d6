import Cohort
import CohortDistributed
import CohortFormats
import Foundation

/// The synchronous run (DESIGN.md's data-parallel step): every rank takes its shard of each
/// global batch (`EpochSteps`), the step's `GradientSync` averages the gradients, and every rank
/// applies the same update, so N ranks train the model one process would with an N-times larger
/// batch. After each step `SynchronousRun` logs, checkpoints, checks, agrees on stopping, and
/// ends epochs.
extension Trainer {
    func runSynchronous() throws -> Evaluation {
        telemetry.begin(at: state.step)
        let observer = SynchronousRun(self)
        do {
            // A checkpoint of an epoch's last step (training.checkpoint_steps) was taken before that epoch ended.
            let atEpochEnd = state.batchInEpoch >= data.stepsPerEpoch && state.epoch < config.training.epochs && state.step < data.totalSteps
            let stoppedEarly = try atEpochEnd && observer.endEpoch()
            if !stoppedEarly {
                let source = try EpochSteps(sampler: data.sampler, examplesPerStep: data.batchSize * data.microBatches,
                                            epochs: config.training.epochs, totalSteps: data.totalSteps,
                                            start: (state.step, state.epoch, state.batchInEpoch))
                let loop = makeLoop(source)
                loop.observers = [observer]
                try loop.run()
            }
        } catch {
            telemetry.progress.interrupt()
            throw error
        }
        try Consistency.checkSameParameters(session.parameters, comm, step: state.step)
        return try finish(seconds: Runtime.now() - telemetry.started)
    }

    /// The run loop over this run's step, schedule, skip policy and watchdog.
    func makeLoop(_ source: StepSource) -> RunLoop {
        let loop = RunLoop(step: step, source: source) { [unowned self] in self.plan.learningRate(at: $0) }
        loop.maxSkippedInARow = config.training.maxSkipped
        loop.watchdog = watchdog
        return loop
    }

    /// The latest checkpoint, with BatchNorm statistics averaged over ranks (collective).
    func saveLatest() throws {
        try Consistency.averageBuffers(session.model, comm)
        try checkpoints.save(.latest, model: session.model, optimizer: session.optimizer, state: state, plan: plan)
    }
}

/// The path after every synchronous step, the same on every rank (its collectives line up).
final class SynchronousRun: StepObserver {
    unowned let trainer: Trainer

    init(_ trainer: Trainer) {
        self.trainer = trainer
    }

    func stepFinished(_ planned: PlannedStep, _ outcome: TrainingStep.Outcome, learningRate: Float) throws -> LoopControl {
        let t = trainer, training = t.config.training
        t.telemetry.traceStep(t.step.clock, sync: t.step.sync.kind)
        if outcome.applied { t.telemetry.count(outcome, clock: t.step.clock) } else { t.state.skippedSteps += 1 }
        t.state.step = planned.scheduleStep + 1
        t.state.batchInEpoch = (planned.place?.batch ?? t.state.batchInEpoch) + 1
        let step = t.state.step
        t.telemetry.progress.update(step: step, epoch: t.state.epoch + 1, loss: outcome.loss, learningRate: learningRate, logEvery: training.logEvery)
        if step % training.logEvery == 0 || step == t.data.totalSteps { try logTraining(learningRate: learningRate) }
        if training.checkpointSteps > 0 && step % training.checkpointSteps == 0 { try t.saveLatest() }
        if t.config.distributed.checkEvery > 0 && step % t.config.distributed.checkEvery == 0 {
            try Consistency.checkSameParameters(t.session.parameters, t.comm, step: step)
        }
        if let signal = try agreedStopSignal() {
            t.telemetry.progress.interrupt()
            try t.saveLatest()
            throw RunStopped(signal: signal, step: step, totalSteps: t.data.totalSteps, folder: t.folderPath)
        }
        return try planned.place?.isLast == true && endEpoch() ? .stop : .proceed
    }

    /// The end of an epoch: BatchNorm statistics averaged, validation (early stopping) and test,
    /// the epoch's checkpoint (collective). True: stop early.
    func endEpoch() throws -> Bool {
        let t = trainer
        t.state.epoch += 1
        t.state.batchInEpoch = 0
        t.telemetry.progress.interrupt()
        try Consistency.averageBuffers(t.session.model, t.comm)
        let stop = try t.epochEvaluation(of: t.session.model, communicator: t.comm)
        let every = t.config.training.checkpointEvery
        if every > 0 && t.state.epoch % every == 0 { try t.saveLatest() }
        return stop
    }

    /// The training metrics since the last log line: this rank's in its rank log, the mean over
    /// ranks in the metrics files and the history (collective).
    private func logTraining(learningRate: Float) throws {
        let t = trainer, comm = t.comm
        let w = t.telemetry.takeWindow()
        if t.telemetry.hasRankLog {
            t.telemetry.logRank(String(format: "step %d epoch %d rank %d: loss %.5f (mean of its last %d steps), accuracy %.4f, %.1f s",
                                       t.state.step, t.state.epoch, comm.rank, w.loss / Double(Swift.max(w.steps, 1)), w.steps,
                                       Double(w.correct) / Double(Swift.max(w.examples, 1)), Runtime.now() - t.telemetry.started))
        }
        var sums = w.sums
        try comm.allreduce(&sums)
        let all = RunTelemetry.Window(sums: sums)
        // Every rank's examples over the time a rank spent in its steps (evaluation and checkpoints
        // are not steps); the wait per step is the mean over ranks, and exists only with several.
        let waits = comm.size > 1 && t.step.sync.kind != .none
        try t.recordTraining(all, learningRate: learningRate,
                             samplesPerSecond: all.stepSeconds > 0 ? Double(all.examples) * Double(comm.size) / all.stepSeconds : nil,
                             gradientWaitMs: waits ? all.waitSeconds / Double(all.steps) * 1e3 : nil)
    }

    /// Whether a rank was asked to stop (SIGINT, SIGTERM, SIGUSR1), agreed by every rank at the
    /// same step: every step in one process, every 10 steps across ranks (a one-word allgather),
    /// so the check costs nothing measurable and the run stops within 10 steps of the signal.
    private func agreedStopSignal() throws -> Int32? {
        let t = trainer, step = t.state.step
        guard step < t.data.totalSteps else { return nil }  // finished anyway
        guard t.comm.size > 1 else { return StopSignal.pending }
        guard step % 10 == 0 else { return nil }
        let signal = try t.comm.allgather(UInt64(StopSignal.pending ?? 0)).max()!
        return signal == 0 ? nil : Int32(signal)
    }
}
