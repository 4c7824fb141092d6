import Cohort
import Foundation

/// Everything a run produces, in one folder: `<output.directory>/<name>/`
///   config.yaml            the resolved config (after --set overrides)
///   metrics.jsonl          one JSON object per logged step / evaluation
///   events.out.tfevents.*  TensorBoard scalars
///   checkpoints/latest.safetensors, checkpoints/best.safetensors
///   report.md, report.json     the final figures (Report, RunSummary)
///   loss.svg, accuracy.svg (rmse.svg), learning-rate.svg, throughput.svg, gradient-wait.svg,
///   confusion-matrix.svg       the charts (ReportCharts)
public struct RunFolder {
    public let url: URL
    public var checkpoints: URL { url.appendingPathComponent("checkpoints") }
    public var latestCheckpoint: URL { checkpoints.appendingPathComponent("latest.safetensors") }
    public var bestCheckpoint: URL { checkpoints.appendingPathComponent("best.safetensors") }
    public var metrics: URL { url.appendingPathComponent("metrics.jsonl") }
    public var config: URL { url.appendingPathComponent("config.yaml") }
    public var report: URL { url.appendingPathComponent("report.json") }

    public init(directory: String, name: String) {
        url = URL(fileURLWithPath: directory).appendingPathComponent(name)
    }

    public init(url: URL) {
        self.url = url
    }

    /// Creates the folders. A fresh run refuses to overwrite a folder that already has checkpoints
    /// (that would lose them): resume it, or choose another name.
    public func prepare(resuming: Bool) throws {
        let fm = FileManager.default
        if !resuming, fm.fileExists(atPath: latestCheckpoint.path) {
            throw CohortError.invalid("\(url.path): a run with this name already has checkpoints; use --resume to continue it, or --set name=OTHER")
        }
        if resuming, !fm.fileExists(atPath: latestCheckpoint.path) {
            throw CohortError.invalid("\(latestCheckpoint.path): no checkpoint to resume from")
        }
        do {
            try fm.createDirectory(at: checkpoints, withIntermediateDirectories: true)
        } catch {
            throw CohortError.invalid("\(url.path): cannot create the run folder: \(error.localizedDescription)")
        }
    }
}
