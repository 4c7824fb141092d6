import ArgumentParser
import Cohort
import CohortTrain
import Foundation

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate a checkpoint on its data set's test split.")

    @Argument(help: "A checkpoint (.safetensors) written by cohort train.")
    var checkpoint: String

    @Option(help: "Write the predicted class of every test example, one per line, to this file.")
    var predictions: String?

    func run() throws {
        try failOnError {
            let r = try CheckpointEvaluation.run(checkpoint: checkpoint)
            let e = r.evaluation
            if e.task == .regression {
                print(String(format: "%@: test RMSE %.6g, MAE %.6g (%d examples), loss %.6g", r.name, e.rmse ?? .nan, e.mae ?? .nan, e.count, e.loss))
            } else {
                print(String(format: "%@: test accuracy %.4f (%d errors of %d), loss %.4f", r.name, e.accuracy, e.errors, e.count, e.loss))
            }
            if let predictions {
                guard e.task == .classification else {
                    throw CohortError.invalid("--predictions: writes predicted classes, and \(checkpoint) is a regression model")
                }
                let text = r.predictions.map(String.init).joined(separator: "\n") + "\n"
                do { try text.write(toFile: predictions, atomically: true, encoding: .utf8) } catch {
                    throw CohortError.invalid("\(predictions): cannot write predictions: \(error.localizedDescription)")
                }
            }
        }
    }
}
