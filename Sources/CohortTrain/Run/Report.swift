import CohortData
import CohortFormats
import Foundation

/// The final report of a training run: report.md, report.json, loss.svg and accuracy.svg (rmse.svg
/// for regression).
public enum Report {
    public static func write(folder: RunFolder, config: RunConfig, test: Evaluation, state: TrainState,
                             classNames: [String]?, parameterCount: Int, seconds: Double) throws {
        let h = state.history
        let steps = h.map { Double($0.step) }
        let regression = test.task == .regression
        let lossChart = SVGLineChart.render(title: "\(config.name): loss", series: [
            ChartSeries(name: "train", x: steps, y: h.map(\.trainLoss)),
            ChartSeries(name: "validation", x: steps, y: h.map { $0.validationLoss ?? .nan }),
        ], xLabel: "step", yLabel: regression ? "mean squared error" : "loss")
        let metric = regression ? "rmse" : "accuracy"
        let metricChart = SVGLineChart.render(title: "\(config.name): \(regression ? "RMSE" : "accuracy")", series: [
            ChartSeries(name: "train", x: steps, y: h.map { (regression ? $0.trainRMSE : $0.trainAccuracy) ?? .nan }),
            ChartSeries(name: "validation", x: steps, y: h.map { (regression ? $0.validationRMSE : $0.validationAccuracy) ?? .nan }),
        ], xLabel: "step", yLabel: regression ? "RMSE" : "accuracy")
        try AtomicFile.write(Data(lossChart.utf8), to: folder.url.appendingPathComponent("loss.svg"))
        try AtomicFile.write(Data(metricChart.utf8), to: folder.url.appendingPathComponent("\(metric).svg"))

        var md = "# \(config.name)\n\n"
        var classification: ClassificationReport?
        if regression {
            md += String(format: "Test RMSE **%.4g**, MAE %.4g (%d examples), test loss (mean squared error) %.4g.\n\n",
                         test.rmse ?? .nan, test.mae ?? .nan, test.count, test.loss)
        } else {
            let report = try classificationReport(test, classNames: classNames)
            classification = report
            md += String(format: "Test accuracy **%.2f%%** (%d errors of %d), test loss %.4f.\n\n", test.accuracy * 100, report.errorCount,
                         report.sampleCount, test.loss)
        }
        md += "| | |\n| --- | --- |\n"
        md += "| steps | \(state.step) (\(state.epoch) epochs, \(state.skippedSteps) skipped) |\n"
        md += "| parameters | \(parameterCount) |\n"
        md += String(format: "| training time | %.1f s |\n", seconds)
        if let best = state.bestValidationScore {
            md += regression ? String(format: "| best validation RMSE | %.4g |\n", -best) : String(format: "| best validation accuracy | %.2f%% |\n", best * 100)
        }
        md += "\n![loss](loss.svg)\n![\(metric)](\(metric).svg)\n\n"
        if let classification { md += classification.markdown(title: "Test set") }
        try AtomicFile.write(Data(md.utf8), to: folder.url.appendingPathComponent("report.md"))

        struct Summary: Encodable {
            let name: String, task: String, steps: Int, epochs: Int, parameters: Int, seconds: Double
            let testLoss: Double?
            let testAccuracy: Double?, bestValidationAccuracy: Double?
            let testRMSE: Double?, testMAE: Double?, bestValidationRMSE: Double?
            let classification: ClassificationReport?
        }
        // A non-finite figure is written as null (JSON has no NaN), never as a failed report.
        func finite(_ v: Double?) -> Double? { v.flatMap { $0.isFinite ? $0 : nil } }
        let best = state.bestValidationScore
        let summary = Summary(name: config.name, task: test.task.rawValue, steps: state.step, epochs: state.epoch, parameters: parameterCount,
                              seconds: seconds, testLoss: finite(test.loss),
                              testAccuracy: regression ? nil : finite(test.accuracy), bestValidationAccuracy: regression ? nil : finite(best),
                              testRMSE: finite(test.rmse), testMAE: finite(test.mae), bestValidationRMSE: regression ? finite(best.map { -$0 }) : nil,
                              classification: classification)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(summary), to: folder.url.appendingPathComponent("report.json"))
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
