import CohortData
import CohortFormats
import Foundation

/// The charts of a report, drawn from history points: one run's (report.md of a run folder), or
/// several runs overlaid (`cohort compare`: a colour per run, a stroke per split).
enum ReportCharts {
    /// One SVG file of a report.
    struct Chart {
        let file: String
        /// What it shows, for the image's alt text.
        let caption: String
        let svg: String
    }

    /// A run's curves and the name its series carry in a comparison.
    struct Run {
        let label: String
        let history: [TrainState.HistoryPoint]
    }

    /// One line of a figure: a figure of each history point (nil where it was not measured).
    struct Curve {
        let split: String
        let stroke: ChartSeries.Stroke
        let value: (TrainState.HistoryPoint) -> Double?
    }

    /// One chart: what it plots against the step.
    struct Figure {
        let file: String
        let caption: String
        let yLabel: String
        /// Rates and times start the axis at zero, so their size reads true.
        let fromZero: Bool
        let curves: [Curve]
    }

    /// The curves people expect from TensorBoard and Lightning: loss and accuracy (or RMSE) for
    /// train, validation and test, the learning rate, throughput, and for multi-rank sync runs the
    /// wait for the gradients.
    static func figures(_ task: Task) -> [Figure] {
        func splits(_ train: @escaping (TrainState.HistoryPoint) -> Double?, _ validation: @escaping (TrainState.HistoryPoint) -> Double?,
                    _ test: @escaping (TrainState.HistoryPoint) -> Double?) -> [Curve] {
            [Curve(split: "train", stroke: .dashed, value: train), Curve(split: "validation", stroke: .solid, value: validation),
             Curve(split: "test", stroke: .dotted, value: test)]
        }
        let regression = task == .regression
        return [
            Figure(file: "loss.svg", caption: "loss", yLabel: regression ? "mean squared error" : "loss", fromZero: false,
                   curves: splits(\.trainLoss, \.validationLoss, \.testLoss)),
            regression
                ? Figure(file: "rmse.svg", caption: "RMSE", yLabel: "RMSE", fromZero: false, curves: splits(\.trainRMSE, \.validationRMSE, \.testRMSE))
                : Figure(file: "accuracy.svg", caption: "accuracy", yLabel: "accuracy", fromZero: false,
                         curves: splits(\.trainAccuracy, \.validationAccuracy, \.testAccuracy)),
            Figure(file: "learning-rate.svg", caption: "learning rate", yLabel: "learning rate", fromZero: true,
                   curves: [Curve(split: "learning rate", stroke: .solid, value: \.learningRate)]),
            Figure(file: "throughput.svg", caption: "throughput", yLabel: "samples/s (all ranks)", fromZero: true,
                   curves: [Curve(split: "samples/s", stroke: .solid, value: \.samplesPerSecond)]),
            Figure(file: "gradient-wait.svg", caption: "wait for gradients", yLabel: "ms per step (mean over ranks)", fromZero: true,
                   curves: [Curve(split: "wait for gradients", stroke: .solid, value: \.gradientWaitMs)]),
        ]
    }

    /// Every figure that has something to draw for `runs` (a figure no run measured, such as the
    /// wait for gradients of a single process, is left out). One run: a colour per split; several:
    /// a colour per run and a stroke per split, and a curve that several runs share exactly (the
    /// learning rate of two seeds) drawn once and named after all of them, since the last one drawn
    /// would hide the others.
    static func lineCharts(title: String, runs: [Run], task: Task) -> [Chart] {
        figures(task).compactMap { figure in
            var series: [ChartSeries] = []
            for (c, curve) in figure.curves.enumerated() {
                var drawn: [(labels: [String], run: Int, x: [Double], y: [Double])] = []
                for (r, run) in runs.enumerated() {
                    let points = run.history.compactMap { p in curve.value(p).map { (x: Double(p.step), y: $0) } }
                    guard !points.isEmpty else { continue }
                    let x = points.map(\.x), y = points.map(\.y)
                    if let same = drawn.firstIndex(where: { $0.x == x && Self.same($0.y, y) }) {
                        drawn[same].labels.append(run.label)
                    } else {
                        drawn.append(([run.label], r, x, y))
                    }
                }
                for d in drawn {
                    let runsName = d.labels.joined(separator: ", ")
                    let name = runs.count == 1 ? curve.split : figure.curves.count == 1 ? runsName : "\(runsName) \(curve.split)"
                    series.append(ChartSeries(name: name, x: d.x, y: d.y, color: runs.count == 1 ? c : d.run,
                                              stroke: runs.count == 1 ? .solid : curve.stroke))
                }
            }
            // A run's splits side by side in the legend.
            if runs.count > 1 {
                series = series.enumerated().sorted { ($0.element.color ?? 0, $0.offset) < ($1.element.color ?? 0, $1.offset) }.map(\.element)
            }
            guard !series.isEmpty else { return nil }
            let svg = SVGLineChart.render(title: "\(title): \(figure.caption)", series: series, xLabel: "step", yLabel: figure.yLabel,
                                          yIncludesZero: figure.fromZero)
            return Chart(file: figure.file, caption: figure.caption, svg: svg)
        }
    }

    /// Equal values, NaN equal to NaN (a measured NaN in both runs is the same curve).
    static func same(_ a: [Double], _ b: [Double]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) }
    }

    /// The test set's confusion matrix as a heatmap.
    static func confusionMatrix(_ report: ClassificationReport, title: String) -> Chart {
        let names = report.classes.map(\.name)
        let svg = SVGHeatmap.render(title: "\(title): confusion matrix (test set)", counts: report.confusion, rowLabels: names,
                                    columnLabels: names, rowAxis: "true class", columnAxis: "predicted class")
        return Chart(file: "confusion-matrix.svg", caption: "confusion matrix", svg: svg)
    }

    static func write(_ charts: [Chart], to folder: URL) throws {
        for chart in charts { try AtomicFile.write(Data(chart.svg.utf8), to: folder.appendingPathComponent(chart.file)) }
    }
}
