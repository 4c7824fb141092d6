import Cohort
import CohortData
import CohortDistributed
import CohortFormats
import CohortNN
import CohortOptim
import Foundation

/// `cohort eval`: rebuilds the model a checkpoint was trained with (its config is in the
/// metadata), loads the weights and evaluates it on the test set.
public enum CheckpointEvaluation {
    public struct Result {
        public let evaluation: Evaluation
        public let predictions: [Int]
        public let name: String
    }

    public static func run(checkpoint path: String, communicator: Communicator = SingleProcessCommunicator()) throws -> Result {
        let url = URL(fileURLWithPath: path)
        let file = try Safetensors.read(from: url)
        guard file.metadata["format"] == Checkpoint.format, let yaml = file.metadata["config"] else {
            throw CohortError.invalid("\(path): not a Cohort checkpoint (no format/config metadata)")
        }
        let config = try ConfigLoader.decode(RunConfig.self, yaml: yaml, source: "\(path) (embedded config)")
        let data = try DataSplits.load(config.data, seed: config.seed)
        let model = try config.model.build(inputShape: data.test.sampleShape)
        let optimizer = try config.optimizer.makeOptimizer(parameterCount: ParameterArena.layoutCount(model.namedParameters()))
        let session = TrainingSession(model: model, optimizer: optimizer, seed: config.seed)
        try Checkpoint.loadModel(file, into: session.parameters, session.buffers)
        let evaluator = try Evaluator(dataset: data.test, batchSize: 500, normalization: data.normalization)
        var predictions: [Int] = []
        let evaluation = try evaluator.evaluate(session, communicator: communicator) { predictions.append($0) }
        return Result(evaluation: evaluation, predictions: predictions, name: config.name)
    }
}
