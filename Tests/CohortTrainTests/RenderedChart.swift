import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest

/// A chart as a person sees it: the SVG rendered to pixels by librsvg's `rsvg-convert` (Debian's
/// librsvg2-bin, which launch/setup installs), with what its legend and cells claim read from the SVG.
struct RenderedChart {
    struct Failure: Error, CustomStringConvertible { let description: String }
    struct LegendEntry { let name: String; let color: (r: Int, g: Int, b: Int) }
    struct Box {
        let x: Double, y: Double, width: Double, height: Double
        func contains(_ px: Int, _ py: Int) -> Bool {
            Double(px) >= x - 2 && Double(px) <= x + width + 2 && Double(py) >= y - 2 && Double(py) <= y + height + 2
        }
    }
    /// A heatmap cell: its place in the matrix and on the image.
    struct Cell { let row: Int, column: Int, count: Int, box: Box }

    let image: PNGImage
    let legend: [LegendEntry]
    let legendBox: Box?
    let cells: [Cell]

    /// Renders `file`. Without rsvg-convert this throws, so the test fails: CI installs it, and a
    /// chart test that skipped there would prove nothing.
    init(_ file: URL) throws {
        guard let renderer = Self.renderer else {
            throw RenderedChart.Failure(description: "rsvg-convert is not installed (apt-get install librsvg2-bin; launch/setup does)")
        }
        let p = Process()
        p.executableURL = renderer
        p.arguments = ["--format", "png", file.path]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let png = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw RenderedChart.Failure(description: "rsvg-convert \(file.path): \(String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))")
        }
        image = try PNGImage(png)
        let parsed = try SVGElements(Data(contentsOf: file))
        legend = parsed.elements.filter { $0.attributes["class"] == "legend-entry" }.map {
            LegendEntry(name: $0.attributes["data-name"] ?? "", color: Self.rgb($0.attributes["data-color"] ?? ""))
        }
        legendBox = parsed.elements.first { $0.attributes["class"] == "legend-box" }.map { Self.box($0.attributes) }
        cells = parsed.elements.filter { $0.attributes["class"] == "cell" }.map {
            Cell(row: Int($0.attributes["data-row"] ?? "") ?? -1, column: Int($0.attributes["data-column"] ?? "") ?? -1,
                 count: Int($0.attributes["data-count"] ?? "") ?? -1, box: Self.box($0.attributes))
        }
    }

    static var renderer: URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin"
        return (path.split(separator: ":").map(String.init) + ["/usr/bin"]).map { URL(fileURLWithPath: $0).appendingPathComponent("rsvg-convert") }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    /// Pixels of `color` outside the legend, allowing for anti-aliasing at the edges of a stroke
    /// (each channel within `tolerance`), in columns `columns` (all by default).
    func pixels(of color: (r: Int, g: Int, b: Int), tolerance: Int = 40, columns: Range<Int>? = nil) -> Int {
        var n = 0
        for y in 0..<image.height {
            for x in columns ?? 0..<image.width where !(legendBox?.contains(x, y) ?? false) {
                let p = image.pixel(x, y)
                if abs(p.r - color.r) <= tolerance && abs(p.g - color.g) <= tolerance && abs(p.b - color.b) <= tolerance { n += 1 }
            }
        }
        return n
    }

    /// Fails unless every series the legend names shows at least `minimum` pixels of its colour in the plot.
    func assertEverySeriesVisible(_ file: URL, minimum: Int = 12, line: UInt = #line) {
        XCTAssertFalse(legend.isEmpty, "\(file.lastPathComponent): no legend", line: line)
        for entry in legend {
            let n = pixels(of: entry.color)
            XCTAssertGreaterThanOrEqual(n, minimum, "\(file.lastPathComponent): '\(entry.name)' has \(n) visible pixels", line: line)
        }
    }

    /// Renders each of a run folder's `expected` charts and checks that its legend names the given
    /// series and that each is visible; the `absent` charts must not exist.
    static func assertCharts(in run: URL, _ expected: [(file: String, series: [String])], absent: [String] = [],
                             line: UInt = #line) throws {
        for (file, series) in expected {
            let url = run.appendingPathComponent(file)
            let chart = try RenderedChart(url)
            XCTAssertEqual(chart.legendNames, series, file, line: line)
            chart.assertEverySeriesVisible(url, line: line)
        }
        for file in absent {
            XCTAssertFalse(FileManager.default.fileExists(atPath: run.appendingPathComponent(file).path), "\(file) should not exist", line: line)
        }
    }

    /// The names the legend gives, in order.
    var legendNames: [String] { legend.map(\.name) }

    static func rgb(_ hex: String) -> (r: Int, g: Int, b: Int) {
        let v = Int(hex.dropFirst(), radix: 16) ?? 0
        return (v >> 16 & 255, v >> 8 & 255, v & 255)
    }

    static func box(_ a: [String: String]) -> Box {
        func n(_ k: String) -> Double { Double(a[k] ?? "") ?? 0 }
        return Box(x: n("x"), y: n("y"), width: n("width"), height: n("height"))
    }
}

/// Every element of an SVG document with its attributes.
final class SVGElements: NSObject, XMLParserDelegate {
    private(set) var elements: [(name: String, attributes: [String: String])] = []

    init(_ data: Data) throws {
        super.init()
        let parser = XMLParser(data: data)
        parser.delegate = self
        guard parser.parse() else { throw RenderedChart.Failure(description: "SVG not well-formed: \(String(describing: parser.parserError))") }
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        elements.append((name, attributes))
    }
}
