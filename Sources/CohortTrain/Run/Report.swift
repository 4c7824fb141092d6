import CohortFormats
import Foundation

/// The final report of a training run: report.md, report.json, loss.svg and accuracy.svg.
public enum Report {
    public static func write(folder: RunFolder, config: RunConfig, test: Evaluation, state: TrainState,
                             classNames: [String]?, parameterCount: Int, seconds: Double) throws {
        // The evaluation carries a confusion matrix (summed across ranks); expand it to label pairs.
        var predictions: [Int] = [], labels: [Int] = []
        for t in 0..<test.classes {
            for p in 0..<test.classes {
                let n = Int(test.confusion[t * test.classes + p])
                predictions += Array(repeating: p, count: n)
                labels += Array(repeating: t, count: n)
            }
        }
        let report = try ClassificationReport(predictions: predictions, labels: labels, classCount: test.classes, classNames: classNames)
        let h = state.history
        let steps = h.map { Double($0.step) }
        let lossChart = SVGLineChart.render(title: "\(config.name): loss", series: [
            ChartSeries(name: "train", x: steps, y: h.map(\.trainLoss)),
            ChartSeries(name: "validation", x: steps, y: h.map { $0.validationLoss ?? .nan }),
        ], xLabel: "step", yLabel: "loss")
        let accuracyChart = SVGLineChart.render(title: "\(config.name): accuracy", series: [
            ChartSeries(name: "train", x: steps, y: h.map(\.trainAccuracy)),
            ChartSeries(name: "validation", x: steps, y: h.map { $0.validationAccuracy ?? .nan }),
        ], xLabel: "step", yLabel: "accuracy")
        try AtomicFile.write(Data(lossChart.utf8), to: folder.url.appendingPathComponent("loss.svg"))
        try AtomicFile.write(Data(accuracyChart.utf8), to: folder.url.appendingPathComponent("accuracy.svg"))

        var md = "# \(config.name)\n\n"
        md += String(format: "Test accuracy **%.2f%%** (%d errors of %d), test loss %.4f.\n\n", test.accuracy * 100, report.errorCount, report.sampleCount, test.loss)
        md += "| | |\n| --- | --- |\n"
        md += "| steps | \(state.step) (\(state.epoch) epochs, \(state.skippedSteps) skipped) |\n"
        md += "| parameters | \(parameterCount) |\n"
        md += String(format: "| training time | %.1f s |\n", seconds)
        if state.bestValidationAccuracy >= 0 { md += String(format: "| best validation accuracy | %.2f%% |\n", state.bestValidationAccuracy * 100) }
        md += "\n![loss](loss.svg)\n![accuracy](accuracy.svg)\n\n"
        md += report.markdown(title: "Test set")
        try AtomicFile.write(Data(md.utf8), to: folder.url.appendingPathComponent("report.md"))

        struct Summary: Encodable {
            let name: String, steps: Int, epochs: Int, parameters: Int, seconds: Double
            let testAccuracy: Double, testLoss: Double, bestValidationAccuracy: Double?
            let classification: ClassificationReport
        }
        let summary = Summary(name: config.name, steps: state.step, epochs: state.epoch, parameters: parameterCount, seconds: seconds,
                              testAccuracy: test.accuracy, testLoss: test.loss,
                              bestValidationAccuracy: state.bestValidationAccuracy >= 0 ? state.bestValidationAccuracy : nil,
                              classification: report)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(summary), to: folder.url.appendingPathComponent("report.json"))
    }
}
