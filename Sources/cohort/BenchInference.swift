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
    @Flag(help: "Also export every model to ONNX and time it in onnxruntime (python3), right after Cohort in each round, with the same threads and the same batch of raw inputs.")
    var onnxruntime = false

    func run() throws {
        try failOnError {
            guard !models.isEmpty, batch > 0, threads > 0, seconds > 0, rounds > 0 else {
                throw CohortError.invalid("bench inference: give model files, and positive --batch, --threads, --seconds and --rounds")
            }
            GEMM.setThreads(threads)
            print("float products: \(GEMM.fp32BackendReason), threads: \(threads); int8 products: \(Int8Weights.kernelDescription); int8 convolutions: \(Int8Weights.convolutionDescription)")
            let loaded = try models.map { path -> (String, Model, DataSplits) in
                let saved = try SavedRun.open(path)
                let data = try DataSplits.load(saved.config.data, task: saved.config.task, seed: saved.config.seed, saved: saved.data)
                // The model as deployed: batch norms folded into the layers before them, as int8 files and ONNX exports are.
                return (path, try BatchNormFolding.deployed(try saved.model()), data)
            }
            let peer = try onnxruntime ? Self.onnxruntimePeer(models, test: loaded.map(\.2.test), batch: batch, threads: threads, seconds: seconds) : nil
            if let peer { print("onnxruntime \(peer.version), intra-op threads: \(threads)") }
            var speeds = [[Double]](repeating: [], count: loaded.count), peers = speeds
            for _ in 0..<rounds {
                for (i, (_, model, data)) in loaded.enumerated() {
                    speeds[i].append(try InferenceSpeed.measure(batchSize: batch, seconds: seconds, dataset: data.test,
                                                                normalization: data.normalization) { _ = try model.predict($0) })
                    if let peer { peers[i].append(try peer.measure(i)) }
                }
            }
            let list = { (s: [Double]) in s.map { String(format: "%.0f", $0) }.joined(separator: ", ") }
            for (i, (path, _, _)) in loaded.enumerated() {
                print("\(path): \(list(speeds[i])) samples/s (batch \(batch))")
                guard peer != nil else { continue }
                let ratios = zip(speeds[i], peers[i]).map { String(format: "%.2f", $0 / $1) }.joined(separator: ", ")
                print("  onnxruntime: \(list(peers[i])) samples/s; Cohort / onnxruntime per round: \(ratios)")
            }
        }
    }

    /// The models exported to ONNX beside the first `batch` raw test inputs of each (one batch file
    /// when, as usual, they share their test set), and a worker holding a session for each.
    static func onnxruntimePeer(_ models: [String], test: [Dataset], batch: Int, threads: Int, seconds: Double) throws -> OnnxRuntimePeer {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cohort-bench-onnx-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }  // the worker has read them once it is ready
        var exported: [String] = []
        for (i, path) in models.enumerated() {
            let onnx = dir.appendingPathComponent("model\(i).onnx").path
            try ONNXExport.write(try SavedRun.open(path), to: onnx)
            exported.append(onnx)
        }
        guard Set(test.map(\.sampleShape)).count == 1 else {
            throw CohortError.invalid("bench inference --onnxruntime: the models take inputs of different shapes")
        }
        let n = min(batch, test[0].count)
        let raw = (0..<n).flatMap { test[0].rawValues($0) }
        let input = dir.appendingPathComponent("batch.npy").path
        try NPYArray(shape: [n] + test[0].sampleShape, values: .float32(raw)).write(to: input)
        return try OnnxRuntimePeer(models: exported, batch: input, threads: threads, seconds: seconds)
    }
}
