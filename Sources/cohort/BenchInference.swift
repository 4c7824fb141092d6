import ArgumentParser
import Cohort
import CohortData
import CohortDistill
import CohortNN
import CohortTrain
import Foundation

struct BenchInference: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inference",
        abstract: "Inference samples/s of saved models (float, pruned or int8) on batches of their test set, each measured in turn in the same run.")

    @Argument(help: "Checkpoints or model files (.safetensors).")
    var models: [String]

    @Option(help: "Inputs per batch.") var batch: Int = 256
    @Option(help: "OpenBLAS threads.") var threads: Int = 1
    @Option(help: "Seconds per model and round.") var seconds: Double = 1
    @Option(help: "Rounds: every model is measured once per round, in turn.") var rounds: Int = 3

    func run() throws {
        try failOnError {
            guard !models.isEmpty, batch > 0, threads > 0, seconds > 0, rounds > 0 else {
                throw CohortError.invalid("bench inference: give model files, and positive --batch, --threads, --seconds and --rounds")
            }
            BLAS.setThreads(threads)
            print("openblas core: \(BLAS.coreName), threads: \(BLAS.threads); int8 products: \(Int8Weights.usesVNNI ? "AVX-512 VNNI" : "portable loop")")
            let loaded = try models.map { path -> (String, Model, DataSplits) in
                let saved = try SavedRun.open(path)
                let data = try DataSplits.load(saved.config.data, task: saved.config.task, seed: saved.config.seed, saved: saved.data)
                return (path, try saved.model(), data)
            }
            var speeds = [[Double]](repeating: [], count: loaded.count)
            for _ in 0..<rounds {
                for (i, (_, model, data)) in loaded.enumerated() {
                    speeds[i].append(try InferenceSpeed.measure(batchSize: batch, seconds: seconds, dataset: data.test,
                                                                normalization: data.normalization) { _ = try model.predict($0) })
                }
            }
            for ((path, _, _), s) in zip(loaded, speeds) {
                print(String(format: "%@: %@ samples/s (batch %d)", path, s.map { String(format: "%.0f", $0) }.joined(separator: ", "), batch))
            }
        }
    }
}
