/// One line of a chart: a name for the legend and the points that were measured.
///
/// Only measured points belong in a series: a step where the quantity was not measured (a
/// validation figure between two epochs) is left out, and the line runs from the point before it
/// to the point after. A measured value that is not finite (a loss that became NaN) is kept: the
/// chart leaves a visible gap there.
public struct ChartSeries: Sendable {
    /// How the line is drawn (a comparison tells runs apart by colour and splits by stroke).
    public enum Stroke: Sendable {
        case solid, dashed, dotted

        var dashArray: String? {
            switch self {
            case .solid: return nil
            case .dashed: return "8 4"
            case .dotted: return "2 3"
            }
        }
    }

    /// Colours people can tell apart (matplotlib's "tab10" order).
    public static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]

    public let name: String
    public let x: [Double]
    public let y: [Double]
    /// Index into `palette` (wrapping); nil: the series' position in the chart.
    public let color: Int?
    public let stroke: Stroke

    /// Points `(x[i], y[i])`; the arrays must have equal length.
    public init(name: String, x: [Double], y: [Double], color: Int? = nil, stroke: Stroke = .solid) {
        precondition(x.count == y.count, "ChartSeries '\(name)': \(x.count) x values but \(y.count) y values")
        self.name = name
        self.x = x
        self.y = y
        self.color = color
        self.stroke = stroke
    }

    /// Points `(i, y[i])` for i = 0, 1, ...
    public init(name: String, y: [Double]) {
        self.init(name: name, x: y.indices.map(Double.init), y: y)
    }

    /// The finite points, in order.
    var finitePoints: [(x: Double, y: Double)] {
        zip(x, y).filter { $0.0.isFinite && $0.1.isFinite }.map { (x: $0.0, y: $0.1) }
    }
}
