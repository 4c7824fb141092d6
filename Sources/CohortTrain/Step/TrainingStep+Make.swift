import Cohort
import CohortData
import CohortDistributed
import CohortNN
import CohortOptim

extension TrainingStep {
    /// The one way Cohort puts a training step together (`cohort train`, `cohort distill`, the
    /// bench, a user's loop): the gradient synchronisation `distributed` asks for over the model's
    /// parameters (`GradientSyncFactory`), the optimizer (private to this process, in Hogwild too),
    /// the session over a gradient arena in the synchronisation's memory, and the step. `training`
    /// gives the regularisation, the non-finite policy and the micro-batches; `precision` how the
    /// products multiply (`TrainingConfig.matmulPrecision()`).
    public static func make(model: Model, loader: BatchLoader, optimizer: OptimizerConfig, topology: NodeTopology,
                            distributed: DistributedConfig = DistributedConfig(), training: TrainingConfig = TrainingConfig(),
                            precision: MatmulPrecision = .fp32, objective: TrainingObjective = .labels, seed: UInt64,
                            mixing: BatchMixing = .none) throws -> TrainingStep {
        let sync = try GradientSyncFactory.make(distributed, parameters: model.parameters, topology: topology)
        // Optimizer state is private to each process, in Hogwild too: sharing momentum would need
        // locks or let one process's stale moments drag the others (docs/ARCHITECTURE.md).
        let optimizer = try optimizer.makeOptimizer(parameterCount: model.parameters.count, decayRanges: model.parameters.decayRanges)
        let session = TrainingSession(model: model, optimizer: optimizer, seed: seed, regularization: Regularization(training),
                                      gradientStorage: sync.gradientStorage, precision: precision)
        return try TrainingStep(session: session, loader: loader, sync: sync, objective: objective, nonFinite: training.nonFinite,
                                microBatches: training.accumulate, randomness: RandomStream(seed: seed), mixing: mixing)
    }
}
