@testable import CohortFormats
import Foundation
import XCTest

/// The accuracy/speed chart: a log speed axis, front points filled, named and joined, the others
/// hollow with their name as a tooltip, the choice ringed, a legend entry per group.
final class SVGFrontChartTests: XCTestCase {
    func testFrontPointsChoiceAxisAndLegend() {
        let points = [
            SVGFrontChart.Point(name: "teacher", group: "teacher", samplesPerSecond: 400, accuracy: 94, onFront: true, chosen: false),
            SVGFrontChart.Point(name: "a, distilled", group: "a", samplesPerSecond: 8000, accuracy: 93.2, onFront: true, chosen: true),
            SVGFrontChart.Point(name: "a, from scratch", group: "a", samplesPerSecond: 7000, accuracy: 92.5, onFront: false, chosen: false),
            SVGFrontChart.Point(name: "b, distilled", group: "b", samplesPerSecond: 900_000, accuracy: 89, onFront: true, chosen: false),
        ]
        let xml = SVGCollector.parse(SVGFrontChart.render(title: "t & u", points: points, xLabel: "samples/s", yLabel: "accuracy"))
        let groups = xml.elements.filter { $0.attributes["class"] == "point" }
        XCTAssertEqual(groups.map { $0.attributes["data-front"] }, ["true", "true", "false", "true"])
        // Front points filled with their group's colour, the one off the front hollow.
        let dots = xml.elements.filter { $0.name == "circle" && $0.attributes["r"] == "5" && $0.attributes["stroke"] != nil }
        XCTAssertEqual(dots.map { $0.attributes["fill"] }, [ChartSeries.palette[0], ChartSeries.palette[1], "white", ChartSeries.palette[2]])
        XCTAssertEqual(xml.elements.filter { $0.attributes["class"] == "chosen" }.count, 1)
        // One staircase through the three front points: M, then V and H for each further point.
        let front = xml.elements.filter { $0.attributes["class"] == "front" }.compactMap { $0.attributes["d"] }
        XCTAssertEqual(front.count, 1)
        XCTAssertEqual(front[0].filter { $0 == "V" }.count, 2)
        // Decades from 100 to 1M on the x axis; names of front points, the other as a tooltip; the legend's groups.
        for label in ["100", "1k", "10k", "100k", "1M", "teacher", "a, distilled", "b, distilled", "a, from scratch", "samples/s", "t & u"] {
            XCTAssertTrue(xml.texts.contains(label), "\(label) in \(xml.texts)")
        }
        XCTAssertEqual(xml.elements.filter { $0.name == "title" }.count, 1)
        XCTAssertEqual(xml.elements.filter { $0.attributes["class"] == "legend-entry" }.compactMap { $0.attributes["data-name"] }, ["teacher", "a", "b"])
        // Per group (cohort compare): a staircase for each group with two or more front points.
        let perGroup = SVGCollector.parse(SVGFrontChart.render(title: "", points: points, xLabel: "", yLabel: "", frontPerGroup: true))
        XCTAssertEqual(perGroup.elements.filter { $0.attributes["class"] == "front" }.count, 0, "no group has two front points")
    }

    func testDegeneratePointsStillRender() {
        for points in [[], [SVGFrontChart.Point(name: "x", group: "g", samplesPerSecond: 0, accuracy: .nan, onFront: false, chosen: false)],
                       [SVGFrontChart.Point(name: "one", group: "g", samplesPerSecond: 50, accuracy: 90, onFront: true, chosen: true)]] {
            let xml = SVGCollector.parse(SVGFrontChart.render(title: "edge", points: points, xLabel: "", yLabel: ""))
            XCTAssertEqual(xml.elements.first?.name, "svg")
        }
    }
}
