import Cohort
import CohortDistributed
import CohortNN
import Foundation

/// Hogwild (Niu, Recht, Ré & Wright 2011): every process of the node reads and updates ONE
/// parameter arena in shared memory, without locks and without messages. Each process draws its
/// own shard and runs its own `TrainingStep` (tape, gradients, optimizer state); the step's update
/// writes straight into the shared arena. A shared atomic counter hands out update numbers;
/// training ends when it reaches epochs x steps-per-epoch x ranks. Rank 0 also evaluates and
/// checkpoints a snapshot copy of the arena while the others keep training.
extension Trainer {
    func runHogwild() throws -> Evaluation {
        let shared = self.shared!
        let t = config.training
        let totalUpdates = data.totalSteps * comm.size
        if comm.rank == 0 { shared.resetUpdates(to: UInt64(state.step * comm.size)) }
        // The one synchronisation of the run: the arena is initialised (or restored) by rank 0.
        try comm.barrier()

        // Rank 0 evaluates a private copy, so the others never wait for it.
        let snapshot = isLeader ? try Model(spec: config.model, inputShape: session.model.inputShape) : nil
        // A resumed run goes on where each rank's sampler was.
        let resumed = state.hogwildPositions.flatMap { $0.count == comm.size ? $0[comm.rank] : nil }
        var myEpoch = resumed?[0] ?? 0, position = resumed?[1] ?? 0, myUpdates = 0, mySteps = 0
        var indices = data.sampler.indices(epoch: myEpoch)
        var lastEvaluatedEpoch = state.epoch, skippedInARow = 0
        telemetry.begin(at: state.step)
        // Throughput from the shared update counter: every process's updates, not rank 0's alone.
        var logged = (updates: state.step * comm.size, time: Runtime.now())
        func samplesPerSecond(updates: Int) -> Double? {
            defer { logged = (updates, Runtime.now()) }
            let seconds = Runtime.now() - logged.time
            return seconds > 0 ? Double((updates - logged.updates) * data.batchSize) / seconds : nil
        }
        while true {
            if let signal = StopSignal.pending { shared.requestStop(code: UInt64(signal)) }
            let claimed = Int(shared.addUpdates(1))
            if claimed >= totalUpdates || shared.stopRequested { break }
            let globalStep = claimed / comm.size  // in units of "one step of every rank", as the schedule counts
            if position + data.batchSize > indices.count {
                myEpoch += 1
                indices = data.sampler.indices(epoch: myEpoch)  // disjoint shards, a new order every pass
                position = 0
            }
            let lr = plan.learningRate(at: globalStep)
            // Ranks step independently, so a step's number in messages and fault injection is this rank's own.
            mySteps += 1
            watchdog?.beat(step: mySteps)
            let outcome: TrainingStep.Outcome
            do {
                outcome = try step.run(positions: indices[position..<(position + data.batchSize)], stream: UInt64(claimed),
                                       number: mySteps, learningRate: lr)
            } catch {
                shared.requestStop()
                telemetry.progress.interrupt()
                throw error
            }
            position += data.batchSize
            publishPosition(epoch: myEpoch, position: position)
            guard outcome.applied else {
                skippedInARow += 1
                do { try checkSkipped(skippedInARow) } catch { shared.requestStop(); throw error }
                continue
            }
            skippedInARow = 0
            myUpdates += 1
            telemetry.count(outcome, clock: step.clock)
            if telemetry.hasRankLog && myUpdates % t.logEvery == 0 {
                telemetry.logRank(String(format: "update %d (global %d) rank %d: loss %.5f, %.1f s", myUpdates, claimed + 1, comm.rank,
                                         outcome.loss, Runtime.now() - telemetry.started))
            }
            guard let snapshot else { continue }
            state.step = globalStep + 1
            telemetry.progress.update(step: state.step, epoch: globalStep / data.stepsPerEpoch + 1, loss: outcome.loss, learningRate: lr,
                                      logEvery: t.logEvery)
            if myUpdates % t.logEvery == 0 {
                try recordTraining(telemetry.takeWindow(), learningRate: lr, samplesPerSecond: samplesPerSecond(updates: claimed + 1),
                                   gradientWaitMs: nil)
            }
            let epoch = globalStep / data.stepsPerEpoch
            if epoch > lastEvaluatedEpoch {
                lastEvaluatedEpoch = epoch
                state.epoch = epoch
                telemetry.progress.interrupt()
                if try snapshotEndOfEpoch(snapshot) { shared.requestStop() }
            }
        }
        publishPosition(epoch: myEpoch, position: position)
        watchdog?.finished()  // out of updates: not a stalled peer while the others finish theirs
        try comm.barrier()  // every process has stopped writing
        var counts = [Double(myUpdates)]
        try comm.allreduce(&counts)
        state.hogwildPositions = samplerPositions()
        if shared.stopCode > 1 {
            // Asked to stop: the checkpoint holds the updates applied so far and every sampler's place.
            state.step = Swift.min(data.totalSteps, Int(counts[0]) / comm.size)
            state.epoch = state.step / data.stepsPerEpoch
            try Consistency.averageBuffers(session.model, comm)
            try checkpoints.save(.latest, model: session.model, optimizer: session.optimizer, state: state, plan: plan)
            throw RunStopped(signal: Int32(shared.stopCode), step: state.step, totalSteps: data.totalSteps, folder: folderPath)
        }
        state.step = data.totalSteps
        state.epoch = Swift.max(state.epoch, data.totalSteps / data.stepsPerEpoch)
        if isLeader {
            // The steps since the last log line, so the curves reach the end of the run.
            try recordTraining(telemetry.takeWindow(), learningRate: plan.learningRate(at: state.step - 1),
                               samplesPerSecond: samplesPerSecond(updates: Swift.min(Int(shared.updates), totalUpdates)), gradientWaitMs: nil)
        }
        let test = try finish(seconds: Runtime.now() - telemetry.started)
        if isLeader {
            print(String(format: "hogwild: %d ranks applied %.0f updates (this rank %d) in %.1f s", comm.size, counts[0], myUpdates,
                         Runtime.now() - telemetry.started))
        }
        return test
    }

    /// This rank's sampler place, where rank 0 can read it for a checkpoint (words 4 and 5 of the
    /// node's heartbeat board; in one process, the state itself).
    private func publishPosition(epoch: Int, position: Int) {
        if let board {
            board.publishPosition(rank: comm.rank, epoch: epoch, position: position)
        } else {
            state.hogwildPositions = [[epoch, position]]
        }
    }

    /// Every rank's [epoch, position], as published.
    private func samplerPositions() -> [[Int]]? {
        guard let board else { return state.hogwildPositions }
        return (0..<comm.size).map { board.position(rank: $0) }
    }

    /// Rank 0 alone: validation and test on a snapshot of the shared arena, best/latest
    /// checkpoints, early stopping. True: stop.
    private func snapshotEndOfEpoch(_ snapshot: Model) throws -> Bool {
        snapshot.assign(from: session.model)
        state.hogwildPositions = samplerPositions()
        let stop = try epochEvaluation(of: snapshot, communicator: SingleProcessCommunicator())
        let every = config.training.checkpointEvery
        if every > 0 && state.epoch % every == 0 {
            try checkpoints.save(.latest, model: snapshot, optimizer: session.optimizer, state: state, plan: plan)
        }
        return stop
    }
}
