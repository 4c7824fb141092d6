@testable import CohortFormats
import Foundation
import XCTest

final class SVGHeatmapTests: XCTestCase {
    func testEveryCellIsShadedByItsShareOfTheRowAndLabelled() {
        let svg = SVGHeatmap.render(title: "m", counts: [[3, 1], [0, 4]], rowLabels: ["cat", "dog & co"], columnLabels: ["cat", "dog & co"],
                                    rowAxis: "true class", columnAxis: "predicted class")
        let xml = SVGCollector.parse(svg)
        let cells = xml.elements.filter { $0.attributes["class"] == "cell" }
        XCTAssertEqual(cells.map { $0.attributes["data-count"] }, ["3", "1", "0", "4"])
        XCTAssertEqual(cells.map { $0.attributes["fill"] }, [SVGHeatmap.shade(0.75), SVGHeatmap.shade(0.25), "#ffffff", "#08306b"])
        XCTAssertEqual(xml.texts.filter { $0 == "dog & co" }.count, 2)
        XCTAssertTrue(xml.texts.contains("predicted class") && xml.texts.contains("true class"))
        // Counts are written in the cells when they fit.
        XCTAssertEqual(xml.texts.filter { ["3", "1", "0", "4"].contains($0) }.count, 4)
    }

    func testAnEmptyRowAndManyClassesStillRender() {
        let k = 60
        let counts = (0..<k).map { r in (0..<k).map { $0 == r && r > 0 ? 1000 : 0 } }
        let xml = SVGCollector.parse(SVGHeatmap.render(title: "big", counts: counts, rowLabels: (0..<k).map(String.init),
                                                               columnLabels: (0..<k).map(String.init), rowAxis: "t", columnAxis: "p"))
        XCTAssertEqual(xml.elements.filter { $0.attributes["class"] == "cell" }.count, k * k)
        XCTAssertFalse(xml.texts.contains("1000"), "cells of 14 px are too small for a count")
    }
}
