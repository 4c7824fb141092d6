import Cohort
import CohortData
import CohortDistributed
import CohortNN

/// Accuracy, loss and the confusion matrix of a model on a dataset, sharded across ranks (rank r
/// takes every size-th example) and summed with one allreduce, so every rank gets the same result.
public struct Evaluation: Sendable {
    public var loss: Double
    public var accuracy: Double
    public var count: Int
    /// confusion[true * classes + predicted]
    public var confusion: [Double]
    public var classes: Int
    public var errors: Int { count - Int(accuracy * Double(count) + 0.5) }
}

public final class Evaluator {
    let batchSize: Int
    let tape = Tape(recording: false)
    let loader: BatchLoader

    public init(dataset: Dataset, batchSize: Int, normalization: Normalization) throws {
        self.batchSize = batchSize
        loader = try BatchLoader(dataset: dataset, batchSize: batchSize, normalization: normalization, augmentation: .none)
    }

    /// `onPrediction` receives this rank's predicted classes in order (examples rank, rank + size, ...).
    public func evaluate(_ model: Model, communicator: Communicator, onPrediction: ((Int) -> Void)? = nil) throws -> Evaluation {
        let dataset = loader.dataset
        let k = dataset.classCount
        var sums = [Double](repeating: 0, count: 2 + k * k)  // loss sum, example count, confusion
        let mine = Array(stride(from: communicator.rank, to: dataset.count, by: communicator.size))
        var start = 0
        while start < mine.count {
            let end = min(start + batchSize, mine.count)
            let x = try loader.load(mine[start..<end])
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
            start = end
        }
        try communicator.allreduce(&sums)
        let n = max(sums[1], 1)
        var correct = 0.0
        for c in 0..<k { correct += sums[2 + c * k + c] }
        return Evaluation(loss: sums[0] / n, accuracy: correct / n, count: Int(sums[1]), confusion: Array(sums[2...]), classes: k)
    }
}
