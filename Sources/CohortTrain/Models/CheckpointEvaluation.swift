import Cohort
import CohortData
import CohortDistributed
import CohortNN
import Foundation

/// `cohort eval`: rebuilds the model a checkpoint was trained with (its config is in the
/// metadata), loads the weights and evaluates it on the test set, prepared with the saved
/// normalisation and classes.
public enum CheckpointEvaluation {
    public struct Result {
        public let evaluation: Evaluation
        public let predictions: [Int]
        public let name: String
    }

    public static func run(checkpoint path: String, communicator: Communicator = SingleProcessCommunicator()) throws -> Result {
        let saved = try SavedRun.open(path)
        let data = try DataSplits.load(saved.config.data, task: saved.config.task, seed: saved.config.seed, saved: saved.data)
        let model = try saved.model()
        let evaluator = try Evaluator(dataset: data.test, batchSize: 500, normalization: data.normalization)
        var predictions: [Int] = []
        let evaluation = try evaluator.evaluate(model, communicator: communicator) { predictions.append($0) }
        return Result(evaluation: evaluation, predictions: predictions, name: saved.config.name)
    }
}
