import Cohort
import CohortData
import CohortDistributed
import CohortNN

/// A model's figures on a dataset: loss and, for classification, accuracy and the confusion matrix;
/// for regression, RMSE and MAE. Sharded across ranks (rank r takes every size-th example) and
/// summed with one allreduce, so every rank gets the same result.
public struct Evaluation: Sendable {
    public var task: Task
    /// Cross-entropy, or mean squared error.
    public var loss: Double
    public var count: Int
    /// Classification: the share of examples predicted right (0 for regression).
    public var accuracy: Double
    /// confusion[true * classes + predicted] (classification).
    public var confusion: [Double]
    public var classes: Int
    /// Regression: root mean squared error and mean absolute error over every target value.
    public var rmse: Double?
    public var mae: Double?
    public var errors: Int { count - Int(accuracy * Double(count) + 0.5) }

    /// Higher is better: the accuracy, or minus the RMSE. Early stopping, the best checkpoint
    /// and the plateau schedule follow it.
    public var score: Double { task == .regression ? -(rmse ?? .infinity) : accuracy }

    /// "accuracy 0.9012" or "RMSE 0.412, MAE 0.318", for messages.
    public var headline: String {
        task == .regression ? String(format: "RMSE %.4g, MAE %.4g", rmse ?? .nan, mae ?? .nan) : String(format: "accuracy %.4f", accuracy)
    }
}

public final class Evaluator {
    let batchSize: Int
    /// The loss is computed on a tape of its own that records nothing.
    let tape = Tape(recording: false)
    let loader: BatchLoader

    public init(dataset: Dataset, batchSize: Int, normalization: Normalization) throws {
        self.batchSize = batchSize
        loader = try BatchLoader(dataset: dataset, batchSize: batchSize, normalization: normalization, augmentation: .none)
    }

    /// `onPrediction` receives this rank's predicted classes in order (examples rank, rank + size, ...).
    public func evaluate(_ model: Model, communicator: Communicator, onPrediction: ((Int) -> Void)? = nil) throws -> Evaluation {
        loader.dataset.isRegression ? try regression(model, communicator) : try classification(model, communicator, onPrediction)
    }

    /// This rank's share of the dataset, in batches.
    private func batches(_ communicator: Communicator, _ body: (ArraySlice<Int>) throws -> Void) rethrows {
        let mine = Array(stride(from: communicator.rank, to: loader.dataset.count, by: communicator.size))
        var start = 0
        while start < mine.count {
            let end = min(start + batchSize, mine.count)
            try body(mine[start..<end])
            start = end
        }
    }

    private func classification(_ model: Model, _ communicator: Communicator, _ onPrediction: ((Int) -> Void)?) throws -> Evaluation {
        let k = loader.dataset.classCount
        var sums = [Double](repeating: 0, count: 2 + k * k)  // loss sum, example count, confusion
        try batches(communicator) { positions in
            let x = try loader.load(positions)
            let labels = loader.labels
            let logits = try model.predict(x)
            tape.reset()
            let loss = try tape.softmaxCrossEntropy(Var(logits), labels: labels)
            sums[0] += Double(loss.value.item) * Double(labels.count)
            sums[1] += Double(labels.count)
            let p = logits.pointer
            for (r, label) in labels.enumerated() {
                let row = p + r * k
                var best = row[0], at = 0
                for j in 1..<k where row[j] > best { best = row[j]; at = j }
                sums[2 + Int(label) * k + at] += 1
                onPrediction?(at)
            }
        }
        try communicator.allreduce(&sums)
        let n = max(sums[1], 1)
        var correct = 0.0
        for c in 0..<k { correct += sums[2 + c * k + c] }
        return Evaluation(task: .classification, loss: sums[0] / n, count: Int(sums[1]), accuracy: correct / n,
                          confusion: Array(sums[2...]), classes: k)
    }

    private func regression(_ model: Model, _ communicator: Communicator) throws -> Evaluation {
        var sums = [0.0, 0.0, 0.0]  // squared errors, absolute errors, target values
        var examples = 0.0
        try batches(communicator) { positions in
            let x = try loader.load(positions)
            let predicted = try model.predict(x), targets = loader.targets
            let p = predicted.pointer, t = targets.pointer
            for i in 0..<targets.count {
                let d = Double(p[i] - t[i])
                sums[0] += d * d
                sums[1] += abs(d)
            }
            sums[2] += Double(targets.count)
            examples += Double(positions.count)
        }
        sums.append(examples)
        try communicator.allreduce(&sums)
        let values = max(sums[2], 1)
        let mse = sums[0] / values
        return Evaluation(task: .regression, loss: mse, count: Int(sums[3]), accuracy: 0, confusion: [], classes: 0,
                          rmse: mse.squareRoot(), mae: sums[1] / values)
    }
}
