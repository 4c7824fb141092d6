import Foundation

/// One line of a chart: a name for the legend and its points.
public struct ChartSeries: Sendable {
    public let name: String
    public let x: [Double]
    public let y: [Double]

    /// Points `(x[i], y[i])`; the arrays must have equal length. Non-finite points break the line.
    public init(name: String, x: [Double], y: [Double]) {
        precondition(x.count == y.count, "ChartSeries '\(name)': \(x.count) x values but \(y.count) y values")
        self.name = name
        self.x = x
        self.y = y
    }

    /// Points `(i, y[i])` for i = 0, 1, ...
    public init(name: String, y: [Double]) {
        self.init(name: name, x: y.indices.map(Double.init), y: y)
    }
}

/// Renders line charts (loss and accuracy curves) as standalone SVG documents.
public enum SVGLineChart {
    private static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]

    /// An SVG document with the series drawn over labelled axes, a legend and a title.
    /// Axes span the finite points of all series, rounded out to tick values.
    public static func render(title: String, series: [ChartSeries], xLabel: String = "", yLabel: String = "",
                              width: Int = 720, height: Int = 420) -> String {
        let width = Double(max(width, 200)), height = Double(max(height, 150))
        let left = 72.0, right = 20.0, top = 44.0, bottom = 56.0
        let plotWidth = width - left - right, plotHeight = height - top - bottom

        let points = series.flatMap { zip($0.x, $0.y).filter { $0.0.isFinite && $0.1.isFinite } }
        let xTicks = AxisTicks(minimum: points.map(\.0).min() ?? 0, maximum: points.map(\.0).max() ?? 1)
        let yTicks = AxisTicks(minimum: points.map(\.1).min() ?? 0, maximum: points.map(\.1).max() ?? 1)
        func px(_ x: Double) -> Double { left + (x - xTicks.lower) / (xTicks.upper - xTicks.lower) * plotWidth }
        func py(_ y: Double) -> Double { top + (1 - (y - yTicks.lower) / (yTicks.upper - yTicks.lower)) * plotHeight }
        func f(_ v: Double) -> String { String(format: "%.2f", v) }

        var svg: [String] = []
        svg.append(##"<?xml version="1.0" encoding="UTF-8"?>"##)
        svg.append(##"<svg xmlns="http://www.w3.org/2000/svg" width="\##(Int(width))" height="\##(Int(height))" viewBox="0 0 \##(Int(width)) \##(Int(height))" font-family="sans-serif" font-size="12">"##)
        svg.append(##"<rect width="100%" height="100%" fill="white"/>"##)
        svg.append(##"<text x="\##(f(width / 2))" y="24" text-anchor="middle" font-size="16" font-weight="bold">\##(escape(title))</text>"##)

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

        // The lines: one path per series, restarted after every non-finite point.
        for (i, s) in series.enumerated() {
            let color = palette[i % palette.count]
            var path: [String] = []
            var penDown = false
            var finite: [(Double, Double)] = []
            for (x, y) in zip(s.x, s.y) {
                guard x.isFinite, y.isFinite else { penDown = false; continue }
                path.append("\(penDown ? "L" : "M")\(f(px(x))) \(f(py(y)))")
                penDown = true
                finite.append((x, y))
            }
            svg.append(##"<g class="series" data-name="\##(escape(s.name))">"##)
            if !path.isEmpty {
                svg.append(##"<path d="\##(path.joined(separator: " "))" fill="none" stroke="\##(color)" stroke-width="2" stroke-linejoin="round"/>"##)
            }
            // A lone point draws no line; mark it so it is not invisible.
            if finite.count == 1 {
                svg.append(##"<circle cx="\##(f(px(finite[0].0)))" cy="\##(f(py(finite[0].1)))" r="3" fill="\##(color)"/>"##)
            }
            svg.append("</g>")
        }

        // Legend in the top-right corner of the plot.
        if !series.isEmpty {
            let longest = series.map(\.name.count).max() ?? 0
            let boxWidth = min(Double(longest) * 7 + 40, plotWidth), boxHeight = Double(series.count) * 18 + 8
            let x0 = left + plotWidth - boxWidth - 8, y0 = top + 8
            svg.append(##"<g class="legend">"##)
            svg.append(##"<rect x="\##(f(x0))" y="\##(f(y0))" width="\##(f(boxWidth))" height="\##(f(boxHeight))" fill="white" fill-opacity="0.85" stroke="#999"/>"##)
            for (i, s) in series.enumerated() {
                let y = y0 + 16 + Double(i) * 18
                svg.append(##"<line x1="\##(f(x0 + 8))" y1="\##(f(y - 4))" x2="\##(f(x0 + 28))" y2="\##(f(y - 4))" stroke="\##(palette[i % palette.count])" stroke-width="2"/>"##)
                svg.append(##"<text x="\##(f(x0 + 34))" y="\##(f(y))">\##(escape(s.name))</text>"##)
            }
            svg.append("</g>")
        }
        svg.append("</svg>")
        return svg.joined(separator: "\n") + "\n"
    }

    /// Text safe inside XML elements and attributes. XML 1.0 cannot hold most control characters
    /// even escaped, so they become spaces.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t", "\n", "\r": out += " "
            case _ where scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF: out += " "
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
