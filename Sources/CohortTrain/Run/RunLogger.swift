import CohortData
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

    /// The training metrics since the last log line: accuracy for classification, RMSE for regression.
    public func trainStep(step: Int, epoch: Int, loss: Double, accuracy: Double?, rmse: Double?, learningRate: Double) throws {
        var line: [(String, MetricValue)] = [("step", .int(step)), ("epoch", .int(epoch)), ("split", .string("train")), ("loss", .double(loss))]
        var scalars = [("train/loss", Float(loss))]
        if let accuracy { line.append(("accuracy", .double(accuracy))); scalars.append(("train/accuracy", Float(accuracy))) }
        if let rmse { line.append(("rmse", .double(rmse))); scalars.append(("train/rmse", Float(rmse))) }
        line += [("lr", .double(learningRate)), ("seconds", .double(Runtime.now() - started))]
        scalars.append(("train/lr", Float(learningRate)))
        try jsonl.append(line)
        try events.addScalars(scalars, step: Int64(step))
        try events.flush()
    }

    public func evaluation(step: Int, epoch: Int, split: String, result: Evaluation) throws {
        var line: [(String, MetricValue)] = [("step", .int(step)), ("epoch", .int(epoch)), ("split", .string(split)), ("loss", .double(result.loss))]
        var scalars = [("\(split)/loss", Float(result.loss))]
        switch result.task {
        case .classification:
            line.append(("accuracy", .double(result.accuracy)))
            scalars.append(("\(split)/accuracy", Float(result.accuracy)))
        case .regression:
            line += [("rmse", .double(result.rmse ?? .nan)), ("mae", .double(result.mae ?? .nan))]
            scalars += [("\(split)/rmse", Float(result.rmse ?? .nan)), ("\(split)/mae", Float(result.mae ?? .nan))]
        }
        line += [("examples", .int(result.count)), ("seconds", .double(Runtime.now() - started))]
        try jsonl.append(line)
        try events.addScalars(scalars, step: Int64(step))
        try events.flush()
    }
}
