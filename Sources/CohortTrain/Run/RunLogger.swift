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

    /// The training figures of a log window (`point`'s training fields): loss, accuracy for
    /// classification or RMSE for regression, the learning rate, samples/s over the window (all
    /// ranks) and, for multi-rank sync runs, the mean wait for the gradients per step.
    public func trainStep(_ point: TrainState.HistoryPoint, epoch: Int) throws {
        var line: [(String, MetricValue)] = [("step", .int(point.step)), ("epoch", .int(epoch)), ("split", .string("train"))]
        var scalars: [(String, Float)] = []
        // The same name in both: `loss` in the line is `train/loss` in TensorBoard.
        func add(_ key: String, _ value: Double?) {
            guard let value else { return }
            line.append((key, .double(value)))
            scalars.append(("train/\(key)", Float(value)))
        }
        add("loss", point.trainLoss)
        add("accuracy", point.trainAccuracy)
        add("rmse", point.trainRMSE)
        add("lr", point.learningRate)
        add("samples_per_second", point.samplesPerSecond)
        add("gradient_wait_ms", point.gradientWaitMs)
        line.append(("seconds", .double(Runtime.now() - started)))
        try jsonl.append(line)
        try events.addScalars(scalars, step: Int64(point.step))
        try events.flush()
    }

    public func evaluation(step: Int, epoch: Int, split: EvaluationSplit, result: Evaluation) throws {
        var line: [(String, MetricValue)] = [("step", .int(step)), ("epoch", .int(epoch)), ("split", .string(split.rawValue)), ("loss", .double(result.loss))]
        var scalars = [("\(split.rawValue)/loss", Float(result.loss))]
        switch result.task {
        case .classification:
            line.append(("accuracy", .double(result.accuracy)))
            scalars.append(("\(split.rawValue)/accuracy", Float(result.accuracy)))
        case .regression:
            line += [("rmse", .double(result.rmse ?? .nan)), ("mae", .double(result.mae ?? .nan))]
            scalars += [("\(split.rawValue)/rmse", Float(result.rmse ?? .nan)), ("\(split.rawValue)/mae", Float(result.mae ?? .nan))]
        }
        line += [("examples", .int(result.count)), ("seconds", .double(Runtime.now() - started))]
        try jsonl.append(line)
        try events.addScalars(scalars, step: Int64(step))
        try events.flush()
    }
}
