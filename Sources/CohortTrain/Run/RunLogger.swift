import CohortFormats
import Foundation

/// Metrics of a run, as JSON lines and TensorBoard scalars (rank 0 only).
public final class RunLogger {
    let jsonl: MetricsLogWriter
    let events: TensorBoardEventWriter
    /// Seconds since the logger started, recorded with every line (time-to-accuracy comparisons).
    let started = Runtime.now()

    public init(folder: RunFolder, resuming: Bool) throws {
        if !resuming { try? FileManager.default.removeItem(at: folder.metrics) }
        jsonl = try MetricsLogWriter(url: folder.metrics)
        events = try TensorBoardEventWriter(directory: folder.url)
    }

    public func trainStep(step: Int, epoch: Int, loss: Double, accuracy: Double, learningRate: Double) throws {
        try jsonl.append(["step": .int(step), "epoch": .int(epoch), "split": .string("train"), "loss": .double(loss),
                          "accuracy": .double(accuracy), "lr": .double(learningRate), "seconds": .double(Runtime.now() - started)])
        try events.addScalars([("train/loss", Float(loss)), ("train/accuracy", Float(accuracy)), ("train/lr", Float(learningRate))],
                              step: Int64(step))
        try events.flush()
    }

    public func evaluation(step: Int, epoch: Int, split: String, result: Evaluation) throws {
        try jsonl.append(["step": .int(step), "epoch": .int(epoch), "split": .string(split), "loss": .double(result.loss),
                          "accuracy": .double(result.accuracy), "examples": .int(result.count), "seconds": .double(Runtime.now() - started)])
        try events.addScalars([("\(split)/loss", Float(result.loss)), ("\(split)/accuracy", Float(result.accuracy))], step: Int64(step))
        try events.flush()
    }
}
