import Cohort
import CohortData
import CohortTrain

/// Inference throughput of a model: batches of the test set through `predict` (no tape, eval
/// mode) for at least `seconds`, after one warm-up batch. Samples per second on this process's
/// BLAS threads.
public enum InferenceSpeed {
    public static func measure(batchSize: Int = 256, seconds: Double = 1.0, dataset: Dataset, normalization: Normalization,
                               predict: (Tensor) throws -> Void) throws -> Double {
        let loader = try BatchLoader(dataset: dataset, batchSize: batchSize, normalization: normalization)
        let batch = try loader.load(Array(0..<min(batchSize, dataset.count)))
        try predict(batch)
        var samples = 0
        let start = Runtime.now()
        var elapsed = 0.0
        repeat {
            try predict(batch)
            samples += batch.shape[0]
            elapsed = Runtime.now() - start
        } while elapsed < seconds
        return Double(samples) / elapsed
    }
}
