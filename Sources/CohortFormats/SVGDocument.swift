import Foundation

/// The frame every chart shares: an SVG document of a given size on a white background with a
/// bold title, built line by line. Charts draw into it with `append`.
struct SVGDocument {
    private var lines: [String] = []

    init(width: Double, height: Double, title: String) {
        lines.append(##"<?xml version="1.0" encoding="UTF-8"?>"##)
        lines.append(##"<svg xmlns="http://www.w3.org/2000/svg" width="\##(Int(width))" height="\##(Int(height))" viewBox="0 0 \##(Int(width)) \##(Int(height))" font-family="sans-serif" font-size="12">"##)
        lines.append(##"<rect width="100%" height="100%" fill="white"/>"##)
        lines.append(##"<text x="\##(Self.number(width / 2))" y="24" text-anchor="middle" font-size="16" font-weight="bold">\##(Self.escape(title))</text>"##)
    }

    mutating func append(_ line: String) { lines.append(line) }

    /// The finished document.
    func text() -> String { (lines + ["</svg>"]).joined(separator: "\n") + "\n" }

    /// A coordinate with two decimals: enough for a pixel, short in the file.
    static func number(_ v: Double) -> String { String(format: "%.2f", v) }

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

    /// The legend right of a plot, its top-left corner at (x, y): a box `width` wide and an entry per
    /// (name, label, colour), each drawn by `swatch(i, y)` (its line or point, at the entry's
    /// baseline y) and its label. Tests read the entries' names and colours from their data attributes.
    mutating func appendLegend(_ entries: [(name: String, label: String, color: String)], x: Double, y: Double, width: Double,
                               swatch: (Int, Double) -> [String]) {
        let f = Self.number
        append(##"<g class="legend">"##)
        append(##"<rect class="legend-box" x="\##(f(x))" y="\##(f(y))" width="\##(f(width - 8))" height="\##(f(Double(entries.count) * 18 + 8))" fill="white" stroke="#999"/>"##)
        for (i, e) in entries.enumerated() {
            let baseline = y + 16 + Double(i) * 18
            append(##"<g class="legend-entry" data-name="\##(Self.escape(e.name))" data-color="\##(e.color)">"##)
            swatch(i, baseline).forEach { append($0) }
            append(##"<text x="\##(f(x + 38))" y="\##(f(baseline))">\##(Self.escape(e.label))</text>"##)
            append("</g>")
        }
        append("</g>")
    }

    /// Roughly how wide `text` is at 12 px sans-serif, for laying out labels and legends.
    static func textWidth(_ text: String) -> Double { Double(text.count) * 7 }
}
