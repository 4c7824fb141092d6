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
        let t = config.training
        let totalUpdates = data.totalSteps * node.size
        if node.rank == 0 { shared.resetUpdates(to: UInt64(state.step * node.size)) }
        // The one synchronisation of the run: the arenas are initialised (or restored).
        try comm.barrier()
        let averaging = topology.spansNodes ? topology.leaders.map {
            HogwildAveraging(leaders: $0, arena: shared.storage, count: session.parameters.count,
                             every: config.distributed.averageEvery ?? DistributedConfig.defaultAverageEvery, totalSteps: data.totalSteps - state.step)
        } : nil

        // Rank 0 evaluates a private copy, so the others never wait for it.
        let snapshot = isLeader ? try Model(spec: config.model, inputShape: session.model.inputShape) : nil
        // A resumed run goes on where each rank's sampler was (or, from a checkpoint that holds no
        // places, at the start of the checkpoint's epoch).
        let resumed = state.hogwildPositions.flatMap { $0.count == comm.size ? $0[comm.rank] : nil }
        var myEpoch = resumed?[0] ?? state.epoch, position = resumed?[1] ?? 0, myUpdates = 0, mySteps = 0
        var indices = data.sampler.indices(epoch: myEpoch)
        var lastEvaluatedEpoch = state.epoch, skippedInARow = 0
        let firstStep = state.step
        telemetry.begin(at: state.step)
        // Throughput from the shared update counter: every process's updates of the node, times the nodes.
        var logged = (updates: state.step * node.size, time: Runtime.now())
        func samplesPerSecond(updates: Int) -> Double? {
            defer { logged = (updates, Runtime.now()) }
            let seconds = Runtime.now() - logged.time
            return seconds > 0 ? Double((updates - logged.updates) * data.batchSize * topology.nodeCount) / seconds : nil
        }
        while true {
            if let signal = StopSignal.pending { shared.requestStop(code: UInt64(signal)) }
            let claimed = Int(shared.addUpdates(1))
            if claimed >= totalUpdates || shared.stopRequested { break }
            let globalStep = claimed / node.size  // in units of "one step of every rank of the node", as the schedule counts
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
            // A node leader averages with the other nodes when its node reaches the next multiple of average_every.
            let averaged = try averaging?.averageIfDue(nodeStep: globalStep + 1 - firstStep, stopCode: shared.stopCode) ?? false
            if let averaging, averaging.agreedStop != 0 { shared.requestStop(code: averaging.agreedStop) }
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
            // Across nodes rank 0 evaluates the first average of each new epoch; on one node the arena itself.
            if epoch > lastEvaluatedEpoch && (averaging == nil || averaged) {
                lastEvaluatedEpoch = epoch
                state.epoch = epoch
                telemetry.progress.interrupt()
                if try snapshotEndOfEpoch(snapshot, average: averaging?.average) { shared.requestStop() }
            }
        }
        publishPosition(epoch: myEpoch, position: position)
        watchdog?.finished()  // out of updates: not a stalled peer while the others finish theirs
        try node.barrier()  // every process of the node has stopped writing
        if let averaging {
            try averaging.finish(stopCode: shared.stopCode)
            if averaging.agreedStop != 0 { shared.requestStop(code: averaging.agreedStop) }
        }
        try comm.barrier()  // every node's arena holds the final average, and its stop code
        var counts = [Double(myUpdates)]
        try comm.allreduce(&counts)
        state.hogwildPositions = try gatherPositions(epoch: myEpoch, position: position)
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
            let nodes = topology.spansNodes ? String(format: " on %d nodes, averaged %d times", topology.nodeCount, averaging?.done ?? 0) : ""
            print(String(format: "hogwild: %d ranks applied %.0f updates (this rank %d)%@ in %.1f s", comm.size, counts[0], myUpdates, nodes,
                         Runtime.now() - telemetry.started))
        }
        return test
    }

    /// This rank's sampler place, where the node's rank 0 can read it for a checkpoint (words 4 and
    /// 5 of the node's heartbeat board; in one process, the state itself).
    private func publishPosition(epoch: Int, position: Int) {
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
    private func snapshotEndOfEpoch(_ snapshot: Model, average: Storage?) throws -> Bool {
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
