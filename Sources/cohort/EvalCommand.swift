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
            print(String(format: "%@: test accuracy %.4f (%d errors of %d), loss %.4f", r.name, e.accuracy, e.errors, e.count, e.loss))
            if let predictions {
                let text = r.predictions.map(String.init).joined(separator: "\n") + "\n"
                do { try text.write(toFile: predictions, atomically: true, encoding: .utf8) } catch {
                    throw CohortError.invalid("\(predictions): cannot write predictions: \(error.localizedDescription)")
                }
            }
        }
    }
}
