@testable import CohortFormats
import Foundation
import XCTest

final class SVGLineChartTests: XCTestCase {
    func parse(_ svg: String, file: StaticString = #filePath, line: UInt = #line) -> SVGCollector {
        SVGCollector.parse(svg, file: file, line: line)
    }

    func testWellFormedWithSeriesLegendTitleAndTicks() {
        let svg = SVGLineChart.render(
            title: "Loss <train & eval>",
            series: [ChartSeries(name: "train \"loss\"", x: [0, 1, 2, 3], y: [2.3, 1.1, 0.7, 0.5]),
                     ChartSeries(name: "eval", y: [2.0, .nan, 0.9, 0.8])],
            xLabel: "epoch", yLabel: "loss")
        let xml = parse(svg)
        XCTAssertEqual(xml.elements.first?.name, "svg")
        XCTAssertEqual(xml.elements.first?.attributes["xmlns"], "http://www.w3.org/2000/svg")
        let groups = xml.elements.filter { $0.attributes["class"] == "series" }.compactMap { $0.attributes["data-name"] }
        XCTAssertEqual(groups, ["train \"loss\"", "eval"])
        let paths = xml.elements.filter { $0.name == "path" }.compactMap { $0.attributes["d"] }
        XCTAssertEqual(paths.count, 2)
        XCTAssertEqual(paths[0].filter { $0 == "M" }.count, 1)
        XCTAssertEqual(paths[0].filter { $0 == "L" }.count, 3)
        // The measured NaN splits the eval line: the point before it stands alone (a marker), the two after are a line.
        XCTAssertEqual(paths[1].filter { $0 == "M" }.count, 1)
        XCTAssertEqual(paths[1].filter { $0 == "L" }.count, 1)
        // Title, then x ticks (0...3, step 0.5), y ticks (0.5...2.5, step 0.5), axis labels, legend.
        XCTAssertEqual(xml.texts, ["Loss <train & eval>", "0.0", "0.5", "1.0", "1.5", "2.0", "2.5", "3.0", "0.5", "1.0", "1.5", "2.0", "2.5",
                                   "epoch", "loss", "train \"loss\"", "eval"])
    }

    func testPointsLieInsideThePlotArea() {
        let svg = SVGLineChart.render(title: "t", series: [ChartSeries(name: "s", x: [10, 20, 30], y: [-1, 5, 2])],
                                      width: 400, height: 300)
        let d = parse(svg).elements.first { $0.name == "path" }?.attributes["d"] ?? ""
        let numbers = d.split(whereSeparator: { "ML ".contains($0) }).compactMap { Double($0) }
        XCTAssertEqual(numbers.count, 6)
        for (i, v) in numbers.enumerated() {
            XCTAssertTrue(i % 2 == 0 ? (72...380).contains(v) : (44...244).contains(v), "\(v) outside the plot")
        }
        // Higher y is drawn higher (smaller SVG y).
        XCTAssertLessThan(numbers[3], numbers[1])
    }

    func testDegenerateInputsStillRender() {
        for series in [[], [ChartSeries(name: "one", x: [5], y: [3])], [ChartSeries(name: "flat", y: [2, 2, 2])],
                       [ChartSeries(name: "nan", y: [.nan, .infinity])], [ChartSeries(name: "ctl\u{1}", y: [1e-9, 2e-9])]] {
            let xml = parse(SVGLineChart.render(title: "edge", series: series))
            XCTAssertEqual(xml.elements.first?.name, "svg")
        }
        let single = parse(SVGLineChart.render(title: "", series: [ChartSeries(name: "one", x: [5], y: [3])]))
        XCTAssertEqual(single.elements.filter { $0.name == "circle" }.count, 2, "a lone point gets a marker (and so does its legend swatch)")
    }

    /// Markers where points are far apart, none on a dense line; the legend lies right of the plot,
    /// so it never covers a curve, and names a series with nothing to draw as such.
    func testMarkersWhereSparseAndTheLegendOutsideThePlot() {
        let dense = ChartSeries(name: "dense", y: (0..<200).map { Double($0) })
        let sparse = ChartSeries(name: "sparse", x: [0, 100, 199], y: [5, 50, 150], color: 3, stroke: .dashed)
        let empty = ChartSeries(name: "empty", x: [1], y: [.nan])
        let xml = parse(SVGLineChart.render(title: "t", series: [dense, sparse, empty], width: 720))
        let circles = xml.elements.filter { $0.name == "circle" }.compactMap { $0.attributes["fill"] }
        // Three on the sparse line, one on its legend swatch; none on the dense one.
        XCTAssertEqual(circles, Array(repeating: ChartSeries.palette[3], count: 4))
        let dashed = xml.elements.filter { $0.name == "path" && $0.attributes["stroke-dasharray"] != nil }
        XCTAssertEqual(dashed.count, 1)
        let box = xml.elements.first { $0.attributes["class"] == "legend-box" }!
        XCTAssertGreaterThanOrEqual(Double(box.attributes["x"]!)!, 700, "the plot ends at x = 700")
        let entries = xml.elements.filter { $0.attributes["class"] == "legend-entry" }
        XCTAssertEqual(entries.compactMap { $0.attributes["data-color"] }, [ChartSeries.palette[0], ChartSeries.palette[3], ChartSeries.palette[2]])
        XCTAssertTrue(xml.texts.contains("empty (no finite value)"), "\(xml.texts)")
    }

    func testTickLabels() {
        let ticks = AxisTicks(minimum: 0.013, maximum: 0.087)
        XCTAssertEqual(ticks.values.map(ticks.label), ["0.00", "0.02", "0.04", "0.06", "0.08", "0.10"])
        let big = AxisTicks(minimum: 0, maximum: 9500)
        XCTAssertEqual(big.values.map(big.label), ["0", "2000", "4000", "6000", "8000", "10000"])
        let epochs = AxisTicks(minimum: 0, maximum: 29)
        XCTAssertEqual(epochs.values, [0, 5, 10, 15, 20, 25, 30])
        for (low, high) in [(-1e308, 1e308), (1e16, 1e16 + 2), (-Double.infinity, 1), (.nan, .nan)] {
            let extreme = AxisTicks(minimum: low, maximum: high)
            XCTAssertTrue(extreme.values.count >= 2 && extreme.values.count <= 50, "\(low)...\(high): \(extreme.values)")
        }
        let flat = AxisTicks(minimum: 3, maximum: 3)
        XCTAssertTrue(flat.lower < 3 && flat.upper > 3)
        XCTAssertEqual(SVGDocument.escape("a<b>&\"c'\u{7}"), "a&lt;b&gt;&amp;&quot;c&apos; ")
    }
}
