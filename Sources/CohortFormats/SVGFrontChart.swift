import Foundation

/// Accuracy against inference speed, one point a model (`cohort distill`'s front.svg): speed on a
/// log axis (models differ by orders of magnitude), a colour per group (the teacher, each
/// student), filled and named points on the front and hollow ones off it, the front joined by a
/// dashed staircase, and the chosen model ringed. The legend, right of the plot, names the groups.
/// `frontPerGroup`: each group has a front of its own (`cohort compare` overlaying runs), drawn in
/// its colour.
public enum SVGFrontChart {
    public struct Point: Sendable {
        public let name: String
        /// Legend group (a student's name, "teacher"); points of a group share a colour.
        public let group: String
        public let samplesPerSecond: Double
        /// Accuracy in percent.
        public let accuracy: Double
        public let onFront: Bool
        public let chosen: Bool

        public init(name: String, group: String, samplesPerSecond: Double, accuracy: Double, onFront: Bool, chosen: Bool) {
            self.name = name; self.group = group; self.samplesPerSecond = samplesPerSecond; self.accuracy = accuracy
            self.onFront = onFront; self.chosen = chosen
        }
    }

    public static func render(title: String, points: [Point], xLabel: String, yLabel: String, frontPerGroup: Bool = false,
                              width: Int = 760, height: Int = 460) -> String {
        let shown = points.filter { $0.samplesPerSecond > 0 && $0.samplesPerSecond.isFinite && $0.accuracy.isFinite }
        let groups = shown.reduce(into: [String]()) { if !$0.contains($1.group) { $0.append($1.group) } }
        let chartWidth = Double(max(width, 300)), height = Double(max(height, 200))
        let left = 72.0, right = 24.0, top = 44.0, bottom = 56.0
        let plotWidth = chartWidth - left - right, plotHeight = height - top - bottom
        let legendWidth = groups.isEmpty ? 0 : min(groups.map(SVGDocument.textWidth).max()! + 48, 320)

        let logs = shown.map { log10($0.samplesPerSecond) }
        let (low, high) = (floor(logs.min() ?? 0), max(ceil(logs.max() ?? 1), floor(logs.min() ?? 0) + 1))
        let yTicks = AxisTicks(minimum: shown.map(\.accuracy).min() ?? 0, maximum: shown.map(\.accuracy).max() ?? 100)
        func px(_ speed: Double) -> Double { left + (log10(speed) - low) / (high - low) * plotWidth }
        func py(_ y: Double) -> Double { top + (1 - (y - yTicks.lower) / (yTicks.upper - yTicks.lower)) * plotHeight }
        let f = SVGDocument.number, escape = SVGDocument.escape

        var svg = SVGDocument(width: chartWidth + legendWidth, height: height, title: title)
        // Decades, with 2x and 5x between them when the axis spans one or two.
        var xTicks: [Double] = []
        for e in Int(low)...Int(high) {
            for m in (high - low <= 2 ? [1.0, 2, 5] : [1.0]) where Double(e) + log10(m) <= high { xTicks.append(m * pow(10, Double(e))) }
        }
        svg.append(##"<g stroke="#e0e0e0" stroke-width="1">"##)
        for t in xTicks { svg.append(##"<line x1="\##(f(px(t)))" y1="\##(f(top))" x2="\##(f(px(t)))" y2="\##(f(top + plotHeight))"/>"##) }
        for t in yTicks.values { svg.append(##"<line x1="\##(f(left))" y1="\##(f(py(t)))" x2="\##(f(left + plotWidth))" y2="\##(f(py(t)))"/>"##) }
        svg.append("</g>")
        svg.append(##"<g fill="#333">"##)
        for t in xTicks { svg.append(##"<text x="\##(f(px(t)))" y="\##(f(top + plotHeight + 16))" text-anchor="middle">\##(speedLabel(t))</text>"##) }
        for t in yTicks.values {
            svg.append(##"<text x="\##(f(left - 6))" y="\##(f(py(t) + 4))" text-anchor="end">\##(escape(yTicks.label(t)))</text>"##)
        }
        svg.append("</g>")
        svg.append(##"<rect x="\##(f(left))" y="\##(f(top))" width="\##(f(plotWidth))" height="\##(f(plotHeight))" fill="none" stroke="#333"/>"##)
        svg.append(##"<text x="\##(f(left + plotWidth / 2))" y="\##(f(height - 14))" text-anchor="middle">\##(escape(xLabel))</text>"##)
        svg.append(##"<text transform="translate(18 \##(f(top + plotHeight / 2))) rotate(-90)" text-anchor="middle">\##(escape(yLabel))</text>"##)

        // Each front as a staircase from its fastest point to its most accurate.
        for (g, group) in (frontPerGroup ? groups.map(Optional.some) : [nil]).enumerated() {
            let front = shown.filter { $0.onFront && (group == nil || $0.group == group) }.sorted { $0.samplesPerSecond > $1.samplesPerSecond }
            guard front.count > 1 else { continue }
            var d = "M\(f(px(front[0].samplesPerSecond))) \(f(py(front[0].accuracy)))"
            for p in front.dropFirst() { d += " V\(f(py(p.accuracy))) H\(f(px(p.samplesPerSecond)))" }
            let stroke = group == nil ? "#777" : color(g)
            svg.append(##"<path class="front" d="\##(d)" fill="none" stroke="\##(stroke)" stroke-width="1.5" stroke-dasharray="6 4"/>"##)
        }
        for p in shown {
            let color = self.color(groups.firstIndex(of: p.group)!), x = px(p.samplesPerSecond), y = py(p.accuracy)
            svg.append(##"<g class="point" data-name="\##(escape(p.name))" data-front="\##(p.onFront)">"##)
            svg.append(##"<circle cx="\##(f(x))" cy="\##(f(y))" r="5" fill="\##(p.onFront ? color : "white")" stroke="\##(color)" stroke-width="2"/>"##)
            if p.chosen { svg.append(##"<circle class="chosen" cx="\##(f(x))" cy="\##(f(y))" r="10" fill="none" stroke="#000" stroke-width="1.5"/>"##) }
            // Names on the front only (off it, points crowd; the report's table names them all, and a tooltip here).
            if p.onFront || p.chosen {
                svg.append(##"<text x="\##(f(x + 8))" y="\##(f(y - 8))" font-size="10" fill="#333">\##(escape(p.name))</text>"##)
            } else {
                svg.append(##"<title>\##(escape(p.name))</title>"##)
            }
            svg.append("</g>")
        }

        if !groups.isEmpty {
            svg.appendLegend(groups.enumerated().map { ($0.element, $0.element, color($0.offset)) }, x: chartWidth, y: top, width: legendWidth) { i, y in
                [##"<circle cx="\##(f(chartWidth + 20))" cy="\##(f(y - 4))" r="5" fill="\##(color(i))"/>"##]
            }
        }
        return svg.text()
    }

    static func color(_ index: Int) -> String { ChartSeries.palette[index % ChartSeries.palette.count] }

    /// 1, 20, 500, 1k, 20k, 1M: short labels for a log axis.
    static func speedLabel(_ v: Double) -> String {
        switch v {
        case 1e6...: return String(format: "%gM", v / 1e6)
        case 1e3...: return String(format: "%gk", v / 1e3)
        default: return String(format: "%g", v)
        }
    }
}
