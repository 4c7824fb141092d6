import Cohort
import CohortData
import CohortDistributed
import CohortFormats
import CohortNN
import CohortOptim
import Foundation

/// Hogwild (Niu, Recht, Ré & Wright 2011): every process of the node reads and updates ONE
/// parameter arena in shared memory, without locks and without messages. Each process draws its
/// own shard, keeps its own tape, gradients and optimizer state, and writes its update straight
/// into the shared arena. A shared atomic counter hands out update numbers; training ends when it
/// reaches epochs x steps-per-epoch x ranks. Rank 0 also evaluates and checkpoints a snapshot
/// copy of the arena while the others keep training.
extension Trainer {
    static func sharedArena(floats: Int, _ comm: Communicator) throws -> SharedArena {
        guard comm.localSize == comm.size else {
            throw CohortError.invalid("distributed.mode: hogwild shares memory within one node, but the \(comm.size) ranks span several nodes; run one Hogwild job per node, or use mode: sync")
        }
        // A key all ranks agree on: rank 0's process id (unique on the node while the job runs).
        let key = String(try comm.allgather(UInt64(getpid()))[0], radix: 16)
        return try SharedArena(floats: floats, jobKey: key, isCreator: comm.rank == 0, barrier: { try comm.barrier() })
    }

    func runHogwild() throws -> Evaluation {
        let shared = self.shared!
        let t = config.training
        let totalUpdates = totalSteps * comm.size
        if comm.rank == 0 { shared.resetUpdates(to: UInt64(state.step * comm.size)) }
        // The one synchronisation of the run: the arena is initialised (or restored) by rank 0.
        try comm.barrier()

        // Rank 0 evaluates a private copy, so the others never wait for it.
        let snapshot = isLeader ? try makeSnapshotSession() : nil
        let baseRNG = RandomStream(seed: config.seed)
        var x: Var?
        var myEpoch = 0, position = 0, myUpdates = 0
        var indices = sampler.indices(epoch: 0)
        var lastEvaluatedEpoch = state.epoch
        var localLoss = 0.0, localSteps = 0, localCorrect = 0, localCount = 0
        let started = Runtime.now()
        progress.begin(at: state.step)
        while true {
            let claimed = Int(shared.addUpdates(1))
            if claimed >= totalUpdates || shared.stopRequested { break }
            let globalStep = claimed / comm.size  // in units of "one step of every rank", as the schedule counts
            if position + perRankBatch > indices.count {
                myEpoch += 1
                indices = sampler.indices(epoch: myEpoch)  // disjoint shards, a new order every pass
                position = 0
            }
            loader.random = baseRNG.split("augment", UInt64(claimed))
            let features = try loader.load(indices[position..<(position + perRankBatch)])
            position += perRankBatch
            if x == nil || x!.value.storage !== features.storage || x!.shape != features.shape { x = Var(features) }
            session.context.rng = baseRNG.split("dropout", UInt64(claimed))
            injectFaults(step: myUpdates + 1, input: x!)
            session.parameters.zeroGradients()
            let (loss, correct) = try session.forwardBackward(x!, labels: loader.labels)
            let lr = plan.learningRate(at: globalStep)
            let result = session.update(learningRate: lr, loss: loss)
            if !result.finite {
                if t.nonFinite == "stop" {
                    shared.requestStop()
                    throw CohortError.invalid("step \(globalStep + 1): loss or gradient is NaN/Inf (loss \(loss)); lower optimizer.lr or set training.clip_norm")
                }
                continue
            }
            myUpdates += 1
            localLoss += Double(loss); localSteps += 1; localCorrect += correct; localCount += perRankBatch
            if rankLog != nil && myUpdates % t.logEvery == 0 {
                logRank(String(format: "update %d (global %d) rank %d: loss %.5f, %.1f s", myUpdates, claimed + 1, comm.rank, loss, Runtime.now() - started))
            }
            guard isLeader, let snapshot else { continue }
            state.step = globalStep + 1
            progress.update(step: state.step, epoch: globalStep / stepsPerEpoch + 1, loss: loss, learningRate: lr, logEvery: t.logEvery)
            if myUpdates % t.logEvery == 0 {
                let meanLoss = localLoss / Double(localSteps), accuracy = Double(localCorrect) / Double(localCount)
                try logger?.trainStep(step: state.step, epoch: state.epoch, loss: meanLoss, accuracy: accuracy, learningRate: Double(lr))
                state.history.append(.init(step: state.step, trainLoss: meanLoss, trainAccuracy: accuracy))
                localLoss = 0; localSteps = 0; localCorrect = 0; localCount = 0
            }
            let epoch = globalStep / stepsPerEpoch
            if epoch > lastEvaluatedEpoch {
                lastEvaluatedEpoch = epoch
                state.epoch = epoch
                progress.interrupt()
                if try hogwildEndOfEpoch(snapshot) { shared.requestStop() }
            }
        }
        try comm.barrier()  // every process has stopped writing
        var counts = [Double(myUpdates)]
        try comm.allreduce(&counts)
        state.step = totalSteps
        state.epoch = Swift.max(state.epoch, totalSteps / stepsPerEpoch)
        try averageBuffers()
        let test = try tester.evaluate(session, communicator: comm)
        if isLeader, let snapshot {
            copyShared(into: snapshot)
            try Checkpoint.save(to: folder.latestCheckpoint, session: snapshot, state: state, plan: plan, configYAML: configYAML)
            try logger?.evaluation(step: state.step, epoch: state.epoch, split: "test", result: test)
            try Report.write(folder: folder, config: config, test: test, state: state, classNames: data.classNames,
                             parameterCount: session.parameters.parameterCount, seconds: Runtime.now() - started)
            print(String(format: "hogwild: %d ranks applied %.0f updates (this rank %d) in %.1f s", comm.size, counts[0], myUpdates, Runtime.now() - started))
        }
        return test
    }

    /// A model with private parameters (and an optimizer it never uses) to hold snapshots.
    private func makeSnapshotSession() throws -> TrainingSession {
        let model = try config.model.build(inputShape: data.train.sampleShape)
        let optimizer = try config.optimizer.makeOptimizer(parameterCount: ParameterArena.layoutCount(model.namedParameters()))
        return TrainingSession(model: model, optimizer: optimizer, seed: config.seed)
    }

    private func copyShared(into snapshot: TrainingSession) {
        snapshot.parameters.values.pointer.update(from: session.parameters.values.pointer, count: session.parameters.count)
        snapshot.buffers.values.pointer.update(from: session.buffers.values.pointer, count: session.buffers.count)
    }

    /// Rank 0 alone: validation and test on a snapshot, best/latest checkpoints, early stopping.
    private func hogwildEndOfEpoch(_ snapshot: TrainingSession) throws -> Bool {
        copyShared(into: snapshot)
        let stop = try epochEvaluation(of: snapshot, communicator: SingleProcessCommunicator())
        let every = config.training.checkpointEvery
        if every > 0 && state.epoch % every == 0 {
            try Checkpoint.save(to: folder.latestCheckpoint, session: snapshot, state: state, plan: plan, configYAML: configYAML)
        }
        return stop
    }
}
