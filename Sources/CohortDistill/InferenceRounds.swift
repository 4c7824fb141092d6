import Cohort
import CohortData
import CohortDistributed

/// Inference speeds that can be compared row with row: every model measured in turn, round after
/// round (so a slow minute of a shared machine falls on all of them alike), at each batch size, on
/// one thread, by rank 0 alone while the other ranks wait; the medians with their ranges, sent to
/// every rank.
enum InferenceRounds {
    static let batches = [1, 256]
    static let rounds = 5

    /// `[model][batch]` spreads of `predictors` on batches of `dataset`; the threads are restored after.
    static func measure(_ predictors: [(Tensor) throws -> Void], dataset: Dataset, normalization: Normalization,
                        rounds: Int = InferenceRounds.rounds, seconds: Double = 0.1, communicator: Communicator) throws -> [[InferenceSpread]] {
        var flat = [Double](repeating: 0, count: predictors.count * batches.count * 3)
        if communicator.rank == 0 {
            let threads = BLAS.threads
            GEMM.setThreads(1)
            defer { GEMM.setThreads(threads) }
            var samples = [[[Double]]](repeating: [[Double]](repeating: [], count: batches.count), count: predictors.count)
            for _ in 0..<rounds {
                for (m, predict) in predictors.enumerated() {
                    for (b, batch) in batches.enumerated() {
                        samples[m][b].append(try InferenceSpeed.measure(batchSize: batch, seconds: seconds, dataset: dataset,
                                                                        normalization: normalization, predict: predict))
                    }
                }
            }
            for m in predictors.indices {
                for b in batches.indices {
                    let s = InferenceSpread(samples[m][b]), at = (m * batches.count + b) * 3
                    (flat[at], flat[at + 1], flat[at + 2]) = (s.median, s.low, s.high)
                }
            }
        }
        try communicator.allreduce(&flat)  // rank 0's figures; the others add zeros
        return predictors.indices.map { m in
            batches.indices.map { b in
                let at = (m * batches.count + b) * 3
                return InferenceSpread(median: flat[at], low: flat[at + 1], high: flat[at + 2])
            }
        }
    }
}

/// Samples/s of one model at one batch size over the rounds: the median and the range.
public struct InferenceSpread: Codable, Equatable, Sendable {
    public let median: Double, low: Double, high: Double

    public init(median: Double, low: Double, high: Double) {
        self.median = median
        self.low = low
        self.high = high
    }

    init(_ values: [Double]) {
        let sorted = values.sorted()
        let n = sorted.count
        median = n == 0 ? 0 : n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
        low = sorted.first ?? 0
        high = sorted.last ?? 0
    }
}
