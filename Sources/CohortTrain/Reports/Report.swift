import CohortData
import CohortFormats
import Foundation

/// The final report of a training run, written into its folder: report.md (the figures, every
/// chart, the classification report), report.json (`RunSummary`: the same figures and the
/// history), and the charts as SVG files (`ReportCharts`).
public enum Report {
    static func write(_ summary: RunSummary, to folder: URL) throws {
        var summary = summary
        var charts = ReportCharts.lineCharts(title: summary.name, runs: [.init(label: summary.name, history: summary.history)],
                                             task: summary.task)
        if let classification = summary.classification { charts.append(ReportCharts.confusionMatrix(classification, title: summary.name)) }
        try ReportCharts.write(charts, to: folder)
        summary.charts = charts.map(\.file)
        try AtomicFile.write(Data(markdown(summary, charts: charts).utf8), to: folder.appendingPathComponent("report.md"))
        try AtomicFile.write(try RunSummary.jsonEncoder().encode(summary), to: folder.appendingPathComponent("report.json"))
    }

    static func markdown(_ s: RunSummary, charts: [ReportCharts.Chart]) -> String {
        var md = "# \(s.name)\n\n"
        if s.task == .regression {
            md += "Test RMSE **\(figure(s.testRMSE, "%.4g"))**, MAE \(figure(s.testMAE, "%.4g")) (\(s.testExamples) examples), "
                + "test loss (mean squared error) \(figure(s.testLoss, "%.4g")).\n\n"
        } else {
            md += "Test accuracy **\(figure(s.testAccuracy.map { $0 * 100 }, "%.2f"))%** (\(s.testErrors ?? 0) errors of \(s.testExamples)), "
                + "test loss \(figure(s.testLoss, "%.4f")).\n\n"
        }
        md += "| | |\n| --- | --- |\n"
        for (name, value) in figures(s) { md += "| \(name) | \(value) |\n" }
        md += "\n"
        for chart in charts { md += "![\(chart.caption)](\(chart.file))\n" }
        md += "\n"
        if let classification = s.classification { md += classification.markdown(title: "Test set") }
        return md
    }

    /// "4 on 2 nodes (sync, hierarchical reducer, bf16 on the wire)".
    static func ranksDescription(_ s: RunSummary) -> String {
        var how = [s.mode.rawValue]
        if let sync = s.synchronization, sync != .none { how.append("\(sync.rawValue) reducer") }
        if let wire = s.wire { how.append("\(wire.rawValue) on the wire") }
        let nodes = (s.nodes ?? 1) > 1 ? " on \(s.nodes!) nodes" : ""
        return "\(s.ranks)\(nodes) (\(how.joined(separator: ", ")))"
    }

    /// The rows of report.md's table (report.json holds each under its own key).
    static func figures(_ s: RunSummary) -> [(String, String)] {
        var rows = [("steps", "\(s.steps) (\(s.epochs) epochs, \(s.skippedSteps) skipped)"),
                    ("ranks", ranksDescription(s)),
                    ("precision", s.precision),
                    ("parameters", "\(s.parameters)"),
                    ("training time", String(format: "%.1f s", s.seconds))]
        if let v = s.samplesPerSecond { rows.append(("samples/s (all ranks, mean over the logged windows)", String(format: "%.0f", v))) }
        if let v = s.wireBytesPerStep { rows.append(("bytes sent over MPI per step (all ranks)", String(format: "%.0f", v))) }
        if let v = s.gradientWaitMs { rows.append(("wait for gradients (ms per step, mean over ranks and windows)", String(format: "%.3f", v))) }
        if let v = s.finalTrainLoss { rows.append(("final training loss (last window)", String(format: "%.4g", v))) }
        if let v = s.finalLearningRate { rows.append(("final learning rate", String(format: "%.4g", v))) }
        if let v = s.bestValidationAccuracy { rows.append(("best validation accuracy", String(format: "%.2f%%", v * 100))) }
        if let v = s.bestValidationRMSE { rows.append(("best validation RMSE", String(format: "%.4g", v))) }
        return rows
    }

    /// A figure as text: "nan" when the measured value was, "-" when there is none.
    static func figure(_ value: Double?, _ format: String) -> String {
        value.map { String(format: format, $0) } ?? "-"
    }

    /// Per-class precision, recall and F1 from the evaluation's confusion matrix (summed across ranks).
    static func classificationReport(_ test: Evaluation, classNames: [String]?) throws -> ClassificationReport {
        var predictions: [Int] = [], labels: [Int] = []
        for t in 0..<test.classes {
            for p in 0..<test.classes {
                let n = Int(test.confusion[t * test.classes + p])
                predictions += Array(repeating: p, count: n)
                labels += Array(repeating: t, count: n)
            }
        }
        return try ClassificationReport(predictions: predictions, labels: labels, classCount: test.classes, classNames: classNames)
    }
}
