import Cohort
import CohortDistributed
import CohortFormats
import Foundation

/// The synchronous loop (DESIGN.md's data-parallel step): every rank takes its shard of each
/// global batch, the step's `GradientSync` averages the gradients, and every rank applies the same
/// update, so N ranks train the model one process would with an N-times larger batch.
extension Trainer {
    func runSynchronous() throws -> Evaluation {
        let t = config.training
        telemetry.begin(at: state.step)
        var skippedInARow = 0
        epochs: while state.epoch < t.epochs && state.step < data.totalSteps {
            let indices = data.sampler.indices(epoch: state.epoch)
            while state.batchInEpoch < data.stepsPerEpoch && state.step < data.totalSteps {
                watchdog?.beat(step: state.step + 1)
                let lr = plan.learningRate(at: state.step)
                // Randomness per (step, rank, micro-batch): a resumed run draws exactly what it would have.
                let stream = (UInt64(state.step) << 16 | UInt64(comm.rank)) &* 64
                let outcome: TrainingStep.Outcome
                do {
                    outcome = try step.run(positions: data.positions(indices, batch: state.batchInEpoch), stream: stream,
                                           number: state.step + 1, learningRate: lr)
                } catch {
                    telemetry.progress.interrupt()
                    throw error
                }
                telemetry.traceStep(step.clock, sync: step.sync.kind)
                if outcome.applied {
                    telemetry.count(outcome, clock: step.clock)
                    skippedInARow = 0
                } else {
                    state.skippedSteps += 1
                    skippedInARow += 1
                    try checkSkipped(skippedInARow)
                }
                state.step += 1
                state.batchInEpoch += 1
                telemetry.progress.update(step: state.step, epoch: state.epoch + 1, loss: outcome.loss, learningRate: lr, logEvery: t.logEvery)
                if state.step % t.logEvery == 0 || state.step == data.totalSteps { try logTraining(learningRate: lr) }
                if t.checkpointSteps > 0 && state.step % t.checkpointSteps == 0 { try saveLatest() }
                if config.distributed.checkEvery > 0 && state.step % config.distributed.checkEvery == 0 {
                    try Consistency.checkSameParameters(session.parameters, comm, step: state.step)
                }
                if let signal = try agreedStopSignal() {
                    telemetry.progress.interrupt()
                    try saveLatest()
                    throw RunStopped(signal: signal, step: state.step, totalSteps: data.totalSteps, folder: folderPath)
                }
            }
            if state.batchInEpoch >= data.stepsPerEpoch {
                state.epoch += 1
                state.batchInEpoch = 0
                telemetry.progress.interrupt()
                try Consistency.averageBuffers(session.model, comm)
                let stop = try epochEvaluation(of: session.model, communicator: comm)
                if t.checkpointEvery > 0 && state.epoch % t.checkpointEvery == 0 { try saveLatest() }
                if stop { break epochs }
            }
        }
        try Consistency.checkSameParameters(session.parameters, comm, step: state.step)
        return try finish(seconds: Runtime.now() - telemetry.started)
    }

    /// The training metrics since the last log line: this rank's in its rank log, the mean over
    /// ranks in the metrics files and the history (collective).
    private func logTraining(learningRate: Float) throws {
        let w = telemetry.takeWindow()
        if telemetry.hasRankLog {
            telemetry.logRank(String(format: "step %d epoch %d rank %d: loss %.5f (mean of its last %d steps), accuracy %.4f, %.1f s",
                                     state.step, state.epoch, comm.rank, w.loss / Double(Swift.max(w.steps, 1)), w.steps,
                                     Double(w.correct) / Double(Swift.max(w.examples, 1)), Runtime.now() - telemetry.started))
        }
        var sums = w.sums
        try comm.allreduce(&sums)
        let all = RunTelemetry.Window(sums: sums)
        // Every rank's examples over the time a rank spent in its steps (evaluation and checkpoints
        // are not steps); the wait per step is the mean over ranks, and exists only with several.
        let waits = comm.size > 1 && step.sync.kind != .none
        try recordTraining(all, learningRate: learningRate,
                           samplesPerSecond: all.stepSeconds > 0 ? Double(all.examples) * Double(comm.size) / all.stepSeconds : nil,
                           gradientWaitMs: waits ? all.waitSeconds / Double(all.steps) * 1e3 : nil)
    }

    /// Whether a rank was asked to stop (SIGINT, SIGTERM, SIGUSR1), agreed by every rank at the
    /// same step: every step in one process, every 10 steps across ranks (a one-word allgather),
    /// so the check costs nothing measurable and the run stops within 10 steps of the signal.
    private func agreedStopSignal() throws -> Int32? {
        guard state.step < data.totalSteps else { return nil }  // finished anyway
        guard comm.size > 1 else { return StopSignal.pending }
        guard state.step % 10 == 0, state.step < data.totalSteps else { return nil }
        let signal = try comm.allgather(UInt64(StopSignal.pending ?? 0)).max()!
        return signal == 0 ? nil : Int32(signal)
    }

    /// The latest checkpoint, with BatchNorm statistics averaged over ranks (collective).
    private func saveLatest() throws {
        try Consistency.averageBuffers(session.model, comm)
        try checkpoints.save(.latest, model: session.model, optimizer: session.optimizer, state: state, plan: plan)
    }
}
