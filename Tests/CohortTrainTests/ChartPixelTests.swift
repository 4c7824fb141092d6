import XCTest
import CohortFormats

/// Charts rendered by a real SVG renderer and checked in the pixels: what a person opening
/// report.md sees, not what the SVG text claims.
final class ChartPixelTests: XCTestCase {
    func render(_ svg: String) throws -> (RenderedChart, URL) {
        let file = try CLI.temporaryDirectory().appendingPathComponent("chart.svg")
        try svg.write(to: file, atomically: true, encoding: .utf8)
        return (try RenderedChart(file), file)
    }

    /// The report's shape: a dense training curve logged every 10 steps and a validation figure
    /// at each epoch's end, at steps the training curve does not have. Both must show.
    func testASparseSeriesBesideADenseOneIsVisible() throws {
        let trainX = stride(from: 10.0, through: 1000, by: 10).map { $0 }
        let train = ChartSeries(name: "train", x: trainX, y: trainX.map { 2 / (1 + $0 / 100) })
        let validation = ChartSeries(name: "validation", x: [215, 430, 645, 860], y: [0.9, 0.7, 0.6, 0.55])
        let test = ChartSeries(name: "test", x: [1000], y: [0.5])
        let (chart, file) = try render(SVGLineChart.render(title: "loss", series: [train, validation, test]))
        XCTAssertEqual(chart.legendNames, ["train", "validation", "test"])
        chart.assertEverySeriesVisible(file)
    }

    /// The check itself sees issue 20's bug: the same validation series drawn as the old charts drew
    /// it, one pen move per point and no marker, shows no pixel.
    func testTheCheckSeesASeriesDrawnAsLoneMoves() throws {
        let validation = ChartSeries(name: "validation", x: [215, 430, 645, 860], y: [0.9, 0.7, 0.6, 0.55])
        let svg = SVGLineChart.render(title: "loss", series: [ChartSeries(name: "train", x: [0, 1000], y: [2, 0.5]), validation])
        let group = try XCTUnwrap(svg.range(of: #"<g class="series" data-name="validation">"#))
        let end = try XCTUnwrap(svg.range(of: "</g>", range: group.upperBound..<svg.endIndex))
        let moves = ##"<path d="M100 100 M200 200 M300 250 M400 260" fill="none" stroke="#d62728" stroke-width="2"/>"##
        let (chart, _) = try render(svg.replacingCharacters(in: group.upperBound..<end.lowerBound, with: moves))
        XCTAssertEqual(chart.legendNames, ["train", "validation"])
        XCTAssertEqual(chart.pixels(of: chart.legend[1].color), 0)
        XCTAssertGreaterThan(chart.pixels(of: chart.legend[0].color), 100)
    }

    /// A measured NaN leaves a visible gap; elsewhere the line is unbroken.
    func testAMeasuredNonFiniteValueLeavesAGap() throws {
        let x = (0...100).map(Double.init)
        let y = x.map { $0 == 50 ? Double.nan : 1 }
        let (chart, _) = try render(SVGLineChart.render(title: "gap", series: [ChartSeries(name: "loss", x: x, y: y)], width: 720))
        let color = chart.legend[0].color
        // The plot spans x = 72...700 for 0...100: 6.28 pixels per step, so 49 and 51 are at 380 and 392.
        XCTAssertEqual(chart.pixels(of: color, columns: 383..<390), 0, "the line crosses the NaN")
        XCTAssertGreaterThan(chart.pixels(of: color, columns: 200..<210), 10)
        XCTAssertGreaterThan(chart.pixels(of: color, columns: 500..<510), 10)
    }

    /// Each point of a series with one point, or with points far apart, gets a marker.
    func testLoneAndSparsePointsAreMarked() throws {
        let (chart, file) = try render(SVGLineChart.render(title: "sparse", series: [
            ChartSeries(name: "one point", x: [5], y: [3]),
            ChartSeries(name: "between gaps", x: [1, 2, 3, 4], y: [.nan, 2, .nan, 1]),
        ]))
        chart.assertEverySeriesVisible(file)
    }

    /// The confusion matrix: the diagonal dark, an empty cell white, a count in every cell.
    func testTheHeatmapShadesEachCellByItsShareOfTheRow() throws {
        let counts = [[90, 10, 0], [5, 80, 15], [0, 30, 70]]
        let (chart, _) = try render(SVGHeatmap.render(title: "confusion", counts: counts, rowLabels: ["a", "b", "c"],
                                                      columnLabels: ["a", "b", "c"], rowAxis: "true", columnAxis: "predicted"))
        XCTAssertEqual(chart.cells.count, 9)
        func brightness(_ cell: RenderedChart.Cell) -> Int {
            // A corner of the cell: its centre holds the count.
            let p = chart.image.pixel(Int(cell.box.x + 4), Int(cell.box.y + 4))
            return p.r + p.g + p.b
        }
        for cell in chart.cells {
            XCTAssertEqual(cell.count, counts[cell.row][cell.column])
            if cell.count == 0 { XCTAssertEqual(brightness(cell), 765, "an empty cell is white") }
            if cell.row == cell.column { XCTAssertLessThan(brightness(cell), 400, "diagonal cell \(cell.row) is dark") }
        }
        let shares = chart.cells.sorted { Double($0.count) / 100 < Double($1.count) / 100 }.map(brightness)
        XCTAssertEqual(shares, shares.sorted(by: >), "a larger share of its row is darker")
    }
}
