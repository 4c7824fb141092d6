import ArgumentParser
import Cohort
import CohortData
import CohortTrain
import Foundation

struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Apply a checkpoint (float, pruned or int8) to new inputs: a CSV row per input with the predicted class and every class's probability, or the predicted value.")

    @Argument(help: "A checkpoint or model file (.safetensors) written by cohort train, distill or compress.")
    var checkpoint: String

    @Argument(help: "The inputs: a CSV file with the training's feature columns (by name), a .npy array [N, ...], or an IDX image file.")
    var input: String

    @Option(help: "Write the predictions to this CSV file (default: standard output).")
    var output: String?

    @Option(help: "Inputs per batch (the file streams through in batches).")
    var batch: Int = 256

    @Flag(help: "Write each class's logit (the network's raw output) instead of its probability.")
    var logits = false

    func run() throws {
        try failOnError {
            guard batch > 0 else { throw CohortError.invalid("predict: --batch must be positive, got \(batch)") }
            let predictor = try Predictor(checkpoint: checkpoint)
            predictor.writesLogits = logits
            let stream = try openSampleStream(input, featureNames: predictor.saved.data.featureNames)
            try predictor.check(stream)
            let sink = try PredictionSink(path: output)
            let bar = PredictionProgress(total: stream.sampleCount)
            try sink.write(predictor.header + "\n")
            let count = try predictor.run(stream, batchSize: batch, write: sink.write, progress: bar.update)
            try sink.close()
            bar.finish(count, into: output)
        }
    }
}

/// Where predictions go: a file written to a temporary name and renamed at the end (a failed run
/// leaves no half file), or standard output.
final class PredictionSink {
    let path: String?
    private let handle: FileHandle
    private let temporary: String?

    init(path: String?) throws {
        self.path = path
        guard let path else {
            handle = FileHandle.standardOutput
            temporary = nil
            return
        }
        let temporary = path + ".partial"
        guard FileManager.default.createFile(atPath: temporary, contents: nil), let h = FileHandle(forWritingAtPath: temporary) else {
            throw CohortError.invalid("\(path): cannot write the predictions here (\(String(cString: strerror(errno))))")
        }
        handle = h
        self.temporary = temporary
    }

    func write(_ text: String) throws {
        do { try handle.write(contentsOf: Data(text.utf8)) } catch {
            throw CohortError.invalid("\(path ?? "standard output"): cannot write the predictions: \(error.localizedDescription)")
        }
    }

    func close() throws {
        guard let path, let temporary else { return }
        try handle.close()
        guard rename(temporary, path) == 0 else {
            throw CohortError.invalid("\(path): cannot write the predictions: \(String(cString: strerror(errno)))")
        }
    }
}

/// A count of the inputs done on standard error, redrawn in place when it is a terminal.
final class PredictionProgress {
    let total: Int?
    let isTerminal = isatty(STDERR_FILENO) != 0
    let started = Runtime.now()
    var lastDraw = 0.0

    init(total: Int?) { self.total = total }

    func update(_ done: Int) {
        let now = Runtime.now()
        guard isTerminal, now - lastDraw > 0.1 || done == total else { return }
        lastDraw = now
        let rate = Double(done) / max(now - started, 1e-9)
        let of = total.map { " of \($0) (\(100 * done / max($0, 1))%)" } ?? ""
        FileHandle.standardError.write(Data(String(format: "\rpredicted %d%@, %.0f inputs/s ", done, of, rate).utf8))
    }

    func finish(_ done: Int, into output: String?) {
        if isTerminal { FileHandle.standardError.write(Data("\n".utf8)) }
        if let output { print(String(format: "predicted %d inputs in %.1f s: %@", done, Runtime.now() - started, output)) }
    }
}
