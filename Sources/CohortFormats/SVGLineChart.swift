import Foundation

/// Renders line charts (loss, accuracy, learning rate, throughput) as standalone SVG documents.
///
/// Each series is drawn over its own points: a line through them in order, broken only where a
/// measured value is not finite. Where points are far apart (or a point has no neighbour to join)
/// each gets a marker, so a series of a few points is never invisible. The legend sits to the right
/// of the plot, outside it, so it never hides a curve.
public enum SVGLineChart {
    /// Points closer than this (pixels, on average) make a line dense enough to read without markers.
    static let markerSpacing = 10.0

    /// An SVG document with the series drawn over labelled axes, a legend and a title. Axes span
    /// the finite points of all series, rounded out to tick values (and down to 0 with
    /// `yIncludesZero`, for quantities such as a rate whose size matters more than its wiggles).
    public static func render(title: String, series: [ChartSeries], xLabel: String = "", yLabel: String = "",
                              yIncludesZero: Bool = false, width: Int = 720, height: Int = 420) -> String {
        let chartWidth = Double(max(width, 200)), height = Double(max(height, 150))
        let left = 72.0, right = 20.0, top = 44.0, bottom = 56.0
        let plotWidth = chartWidth - left - right, plotHeight = height - top - bottom
        let legendWidth = series.isEmpty ? 0 : min(series.map { SVGDocument.textWidth(legendName($0)) }.max()! + 48, 320)

        let points = series.flatMap(\.finitePoints)
        let xTicks = AxisTicks(minimum: points.map(\.x).min() ?? 0, maximum: points.map(\.x).max() ?? 1)
        let yLow = points.map(\.y).min() ?? 0, yHigh = points.map(\.y).max() ?? 1
        let yTicks = AxisTicks(minimum: yIncludesZero ? min(yLow, 0) : yLow, maximum: yIncludesZero ? max(yHigh, 0) : yHigh)
        func px(_ x: Double) -> Double { left + (x - xTicks.lower) / (xTicks.upper - xTicks.lower) * plotWidth }
        func py(_ y: Double) -> Double { top + (1 - (y - yTicks.lower) / (yTicks.upper - yTicks.lower)) * plotHeight }
        let f = SVGDocument.number, escape = SVGDocument.escape

        var svg = SVGDocument(width: chartWidth + legendWidth, height: height, title: title)
        // Grid lines and tick labels.
        svg.append(##"<g stroke="#e0e0e0" stroke-width="1">"##)
        for t in xTicks.values { svg.append(##"<line x1="\##(f(px(t)))" y1="\##(f(top))" x2="\##(f(px(t)))" y2="\##(f(top + plotHeight))"/>"##) }
        for t in yTicks.values { svg.append(##"<line x1="\##(f(left))" y1="\##(f(py(t)))" x2="\##(f(left + plotWidth))" y2="\##(f(py(t)))"/>"##) }
        svg.append("</g>")
        svg.append(##"<g fill="#333">"##)
        for t in xTicks.values {
            svg.append(##"<text x="\##(f(px(t)))" y="\##(f(top + plotHeight + 16))" text-anchor="middle">\##(escape(xTicks.label(t)))</text>"##)
        }
        for t in yTicks.values {
            svg.append(##"<text x="\##(f(left - 6))" y="\##(f(py(t) + 4))" text-anchor="end">\##(escape(yTicks.label(t)))</text>"##)
        }
        svg.append("</g>")
        svg.append(##"<rect x="\##(f(left))" y="\##(f(top))" width="\##(f(plotWidth))" height="\##(f(plotHeight))" fill="none" stroke="#333"/>"##)
        if !xLabel.isEmpty {
            svg.append(##"<text x="\##(f(left + plotWidth / 2))" y="\##(f(height - 14))" text-anchor="middle">\##(escape(xLabel))</text>"##)
        }
        if !yLabel.isEmpty {
            svg.append(##"<text transform="translate(18 \##(f(top + plotHeight / 2))) rotate(-90)" text-anchor="middle">\##(escape(yLabel))</text>"##)
        }

        var marked: [Bool] = []
        for (i, s) in series.enumerated() {
            let color = self.color(s, i)
            let pieces = segments(s)
            let finite = pieces.joined().map { (px($0.x), py($0.y)) }
            let spacing = finite.count > 1 ? abs(finite.last!.0 - finite.first!.0) / Double(finite.count - 1) : 0
            let sparse = spacing >= markerSpacing
            marked.append(sparse || pieces.contains { $0.count == 1 })
            svg.append(##"<g class="series" data-name="\##(escape(s.name))">"##)
            let dash = s.stroke.dashArray.map { ##" stroke-dasharray="\##($0)""## } ?? ""
            for piece in pieces where piece.count > 1 {
                let d = piece.enumerated().map { "\($0.offset == 0 ? "M" : "L")\(f(px($0.element.x))) \(f(py($0.element.y)))" }
                svg.append(##"<path d="\##(d.joined(separator: " "))" fill="none" stroke="\##(color)" stroke-width="2" stroke-linejoin="round"\##(dash)/>"##)
            }
            // A point with no neighbour draws no line: it gets a marker, and so does every point of a sparse series.
            for piece in pieces where sparse || piece.count == 1 {
                for p in piece {
                    svg.append(##"<circle cx="\##(f(px(p.x)))" cy="\##(f(py(p.y)))" r="\##(piece.count == 1 ? "4" : "3")" fill="\##(color)"/>"##)
                }
            }
            svg.append("</g>")
        }

        if !series.isEmpty {
            let x0 = chartWidth
            svg.appendLegend(series.enumerated().map { ($0.element.name, legendName($0.element), color($0.element, $0.offset)) }, x: x0, y: top, width: legendWidth) { i, y in
                let s = series[i], color = self.color(s, i)
                let dash = s.stroke.dashArray.map { ##" stroke-dasharray="\##($0)""## } ?? ""
                var swatch = [##"<line x1="\##(f(x0 + 8))" y1="\##(f(y - 4))" x2="\##(f(x0 + 32))" y2="\##(f(y - 4))" stroke="\##(color)" stroke-width="2"\##(dash)/>"##]
                if marked[i] { swatch.append(##"<circle cx="\##(f(x0 + 20))" cy="\##(f(y - 4))" r="3" fill="\##(color)"/>"##) }
                return swatch
            }
        }
        return svg.text()
    }

    /// The series' finite points in runs between its measured non-finite values (the gaps).
    static func segments(_ s: ChartSeries) -> [[(x: Double, y: Double)]] {
        var pieces: [[(x: Double, y: Double)]] = [[]]
        for (x, y) in zip(s.x, s.y) {
            if x.isFinite && y.isFinite {
                pieces[pieces.count - 1].append((x, y))
            } else if !pieces[pieces.count - 1].isEmpty {
                pieces.append([])
            }
        }
        return pieces.filter { !$0.isEmpty }
    }

    static func color(_ s: ChartSeries, _ index: Int) -> String {
        ChartSeries.palette[(s.color ?? index) % ChartSeries.palette.count]
    }

    /// The legend says so when a series has nothing to draw, rather than naming an invisible line.
    static func legendName(_ s: ChartSeries) -> String {
        s.finitePoints.isEmpty ? "\(s.name) (no finite value)" : s.name
    }
}
