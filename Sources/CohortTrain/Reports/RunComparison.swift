import Cohort
import CohortData
import CohortFormats
import Foundation

/// `cohort compare`: finished runs side by side. Reads each run folder's report.json (figures and
/// history) and config.yaml (resolved), and writes one report: a table of the final figures, the
/// config keys whose values differ, and the curves of every run overlaid in one chart per quantity.
public struct RunComparison {
    public struct Run: Sendable {
        public let folder: URL
        public let summary: RunSummary
        public let config: ResolvedConfig
        /// The name its row and series carry (the run's name, or its folder when two share a name).
        public let label: String
    }

    /// One row of the table (report.json's "runs"): the figures a comparison reads first.
    public struct Row: Codable, Sendable {
        public let label: String
        public let folder: String
        public let task: Task
        public let testLoss: Double
        public let testAccuracy: Double?, testErrors: Int?
        public let testRMSE: Double?, testMAE: Double?
        public let bestValidationAccuracy: Double?, bestValidationRMSE: Double?
        public let seconds: Double
        public let samplesPerSecond: Double?, gradientWaitMs: Double?
        public let ranks: Int
        public let mode: DistributedMode
        public let precision: String
        public let steps: Int
    }

    public let runs: [Run]
    /// The config keys whose values differ between the runs, `name` aside (it always does).
    public let differences: [ResolvedConfig.Difference]
    static let ignoredKeys: Set<String> = ["name"]

    public var task: Task { runs[0].summary.task }

    /// The runs in `paths`; any folder that is not a finished run is one error naming it.
    public static func load(_ paths: [String]) throws -> RunComparison {
        guard paths.count >= 2 else { throw CohortError.invalid("compare: give two or more run folders (got \(paths.count))") }
        var seen: Set<String> = []
        for path in paths where !seen.insert(URL(fileURLWithPath: path).standardizedFileURL.path).inserted {
            throw CohortError.invalid("\(path): given twice")
        }
        let loaded = try paths.map(loadRun)
        for (path, run) in zip(paths.dropFirst(), loaded.dropFirst()) where run.summary.task != loaded[0].summary.task {
            throw CohortError.invalid("\(path): a \(run.summary.task.rawValue) run, and \(paths[0]) a \(loaded[0].summary.task.rawValue) run: compare runs of one task")
        }
        let names = loaded.map(\.summary.name)
        let runs = zip(paths, loaded).map { path, run in
            Run(folder: run.folder, summary: run.summary, config: run.config,
                label: names.filter { $0 == run.summary.name }.count > 1 ? path : run.summary.name)
        }
        return RunComparison(runs: runs, differences: ResolvedConfig.differences(runs.map(\.config), ignoring: ignoredKeys))
    }

    static func loadRun(_ path: String) throws -> (folder: URL, summary: RunSummary, config: ResolvedConfig) {
        let folder = URL(fileURLWithPath: path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CohortError.invalid("\(path): no such folder")
        }
        let configURL = RunFolder(url: folder).config, reportURL = RunFolder(url: folder).report
        guard let yaml = try? String(contentsOf: configURL, encoding: .utf8) else {
            throw CohortError.invalid("\(path): not a run folder (no config.yaml)")
        }
        guard let json = try? Data(contentsOf: reportURL) else {
            throw CohortError.invalid("\(path): no report.json: the run has not finished")
        }
        let summary: RunSummary
        do { summary = try TrainState.jsonDecoder().decode(RunSummary.self, from: json) } catch let error as DecodingError {
            var why = ConfigLoader.describe(error)
            if case .keyNotFound = error { why += " (reports written before cohort compare have no curves: train the run again)" }
            throw CohortError.invalid("\(reportURL.path): \(why)")
        } catch {
            throw CohortError.invalid("\(reportURL.path): not JSON: \(ConfigLoader.oneLine("\(error)"))")
        }
        return (folder, summary, try ResolvedConfig(yaml: yaml, source: configURL.path))
    }

    /// Where the comparison goes by default: beside the first run, named after the runs.
    public static func defaultFolder(for paths: [String], comparison: RunComparison) -> URL {
        defaultFolder(for: paths, names: comparison.runs.map(\.summary.name))
    }

    /// compare-<names> beside the first run (shortened when long).
    public static func defaultFolder(for paths: [String], names: [String]) -> URL {
        var name = "compare-" + names.joined(separator: "-")
        if name.count > 80 { name = "compare-\(names[0])-and-\(names.count - 1)-more" }
        return URL(fileURLWithPath: paths[0]).standardizedFileURL.deletingLastPathComponent().appendingPathComponent(name)
    }

    public var rows: [Row] {
        runs.map { r in
            let s = r.summary
            return Row(label: r.label, folder: r.folder.path, task: s.task, testLoss: s.testLoss, testAccuracy: s.testAccuracy,
                       testErrors: s.testErrors, testRMSE: s.testRMSE, testMAE: s.testMAE, bestValidationAccuracy: s.bestValidationAccuracy,
                       bestValidationRMSE: s.bestValidationRMSE, seconds: s.seconds, samplesPerSecond: s.samplesPerSecond,
                       gradientWaitMs: s.gradientWaitMs, ranks: s.ranks, mode: s.mode, precision: s.precision, steps: s.steps)
        }
    }

    /// The final figures, one row per run (also printed by `cohort compare`).
    public var table: String {
        let regression = task == .regression
        let f = Report.figure
        var md = regression
            ? "| run | test RMSE | test MAE | test loss | best validation RMSE |"
            : "| run | test accuracy | errors | test loss | best validation accuracy |"
        md += " training time | samples/s | wait for gradients (ms/step) | ranks | mode | precision | steps |\n"
        md += "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|\n"
        for r in rows {
            let figures = regression
                ? [f(r.testRMSE, "%.4g"), f(r.testMAE, "%.4g"), f(r.testLoss, "%.4g"), f(r.bestValidationRMSE, "%.4g")]
                : [f(r.testAccuracy.map { $0 * 100 }, "%.2f%%"), r.testErrors.map(String.init) ?? "-", f(r.testLoss, "%.4f"),
                   f(r.bestValidationAccuracy.map { $0 * 100 }, "%.2f%%")]
            let rest = [f(r.seconds, "%.1f s"), f(r.samplesPerSecond, "%.0f"), f(r.gradientWaitMs, "%.3f"), "\(r.ranks)", r.mode.rawValue,
                        r.precision, "\(r.steps)"]
            md += "| \(r.label) | " + (figures + rest).joined(separator: " | ") + " |\n"
        }
        return md
    }

    /// The differing config keys as a table (or a line saying there are none).
    public var differencesTable: String {
        guard !differences.isEmpty else { return "The resolved configs are the same (name aside).\n" }
        var md = "| config key | " + runs.map(\.label).joined(separator: " | ") + " |\n"
        md += "|---|" + String(repeating: "---|", count: runs.count) + "\n"
        for d in differences { md += "| `\(d.key)` | " + d.values.map { $0 ?? "(absent)" }.joined(separator: " | ") + " |\n" }
        return md
    }

    func markdown(charts: [ReportCharts.Chart]) -> String {
        var md = "# Comparison: \(runs.map(\.label).joined(separator: ", "))\n\n"
        md += table + "\n"
        md += "Samples/s and the wait for gradients are means over each run's logged windows; training time is from the start of "
        md += "the loop to the final evaluation.\n\n"
        md += "## Config keys that differ\n\n" + differencesTable + "\n"
        md += "## Curves\n\nEach run has its colour; training curves are dashed, validation solid, test dotted.\n\n"
        for chart in charts { md += "![\(chart.caption)](\(chart.file))\n" }
        return md
    }

    /// report.md, report.json and the overlaid charts in `folder` (created if needed).
    public func write(to folder: URL) throws {
        do { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) } catch {
            throw CohortError.invalid("\(folder.path): cannot create the folder: \(error.localizedDescription)")
        }
        let charts = ReportCharts.lineCharts(title: "comparison", runs: runs.map { .init(label: $0.label, history: $0.summary.history) },
                                             task: task)
        try ReportCharts.write(charts, to: folder)
        try AtomicFile.write(Data(markdown(charts: charts).utf8), to: folder.appendingPathComponent("report.md"))
        struct Written: Encodable {
            let runs: [Row]
            let differences: [ResolvedConfig.Difference]
            let charts: [String]
        }
        let json = try RunSummary.jsonEncoder().encode(Written(runs: rows, differences: differences, charts: charts.map(\.file)))
        try AtomicFile.write(json, to: folder.appendingPathComponent("report.json"))
    }
}
