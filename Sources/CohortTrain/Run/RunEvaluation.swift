import Cohort
import CohortData
import CohortDistributed
import CohortNN

/// The evaluations of a run: validation at the end of every epoch (plateau schedule, best
/// checkpoint, early stopping), and the test set at the end (and every epoch with `eval_test`).
final class RunEvaluation {
    let validator: Evaluator?
    let tester: Evaluator
    /// Stop after this many epochs without a better validation accuracy (0: never).
    let patience: Int
    let testEveryEpoch: Bool

    init(splits: DataSplits, training: TrainingConfig) throws {
        validator = try splits.validation.map { try Evaluator(dataset: $0, batchSize: 500, normalization: splits.normalization) }
        tester = try Evaluator(dataset: splits.test, batchSize: 500, normalization: splits.normalization)
        patience = training.patience
        testEveryEpoch = training.evalTest
    }
}

extension Trainer {
    /// The end of an epoch for `model` (the live model, or Hogwild's snapshot): validation, the
    /// plateau schedule, the best checkpoint, early stopping and the optional test pass. True: stop.
    func epochEvaluation(of model: Model, communicator: Communicator) throws -> Bool {
        var stop = false
        if let validator = evaluation.validator {
            let v = try validator.evaluate(model, communicator: communicator)
            try telemetry.logger?.evaluation(step: state.step, epoch: state.epoch, split: .validation, result: v)
            state.record(v, split: .validation)
            _ = plan.record(metric: v.score)
            if v.score > state.bestValidationScore ?? -.infinity {
                state.bestValidationScore = v.score
                state.epochsWithoutImprovement = 0
                try checkpoints.save(.best, model: model, optimizer: session.optimizer, state: state, plan: plan)
            } else {
                state.epochsWithoutImprovement += 1
            }
            if isLeader { print(String(format: "epoch %d: validation %@, loss %.4f", state.epoch, v.headline, v.loss)) }
            if evaluation.patience > 0 && state.epochsWithoutImprovement >= evaluation.patience {
                if isLeader { print("early stopping: no improvement in \(evaluation.patience) epochs") }
                stop = true
            }
        }
        if evaluation.testEveryEpoch {
            let test = try evaluation.tester.evaluate(model, communicator: communicator)
            try telemetry.logger?.evaluation(step: state.step, epoch: state.epoch, split: .test, result: test)
            state.record(test, split: .test)
        }
        return stop
    }
}
