import Foundation

/// Renders a matrix of counts (a confusion matrix) as an SVG heatmap: one square per cell, shaded
/// by the cell's share of its row, with the count written in it.
///
/// Shading by row share rather than by count makes the diagonal read as each class's recall and
/// keeps a rare class's mistakes as visible as a common class's.
public enum SVGHeatmap {
    /// The darkest shade (a share of 1); a share of 0 is white.
    static let dark = (r: 8.0, g: 48.0, b: 107.0)

    /// `counts[row][column]`, with a label for every row and column and a name for each axis.
    public static func render(title: String, counts: [[Int]], rowLabels: [String], columnLabels: [String],
                              rowAxis: String, columnAxis: String) -> String {
        let rows = counts.count, columns = counts.first?.count ?? 0
        precondition(counts.allSatisfy { $0.count == columns } && rowLabels.count == rows && columnLabels.count == columns,
                     "SVGHeatmap: \(rows) x \(columns) counts, \(rowLabels.count) row and \(columnLabels.count) column labels")
        let cell = max(14, min(48, 520 / Double(max(rows, columns, 1))))
        let rowLabelWidth = (rowLabels.map(SVGDocument.textWidth).max() ?? 0) + 12
        // Column labels run down and to the right at 45 degrees: each reaches 0.71 of its length both ways.
        let columnLabelReach = (columnLabels.map(SVGDocument.textWidth).max() ?? 0) * 0.71
        let left = 40 + rowLabelWidth, top = 52.0
        let width = max(left + Double(columns) * cell + columnLabelReach + 8, 320)
        let height = top + Double(rows) * cell + columnLabelReach + 52
        let f = SVGDocument.number, escape = SVGDocument.escape
        // Counts are written only where they fit.
        let largest = counts.joined().max() ?? 0
        let showCounts = SVGDocument.textWidth(String(largest)) + 4 <= cell

        var svg = SVGDocument(width: width, height: height, title: title)
        for (r, row) in counts.enumerated() {
            let total = max(row.reduce(0, +), 1)
            for (c, count) in row.enumerated() {
                let share = Double(count) / Double(total)
                let x = left + Double(c) * cell, y = top + Double(r) * cell
                svg.append(##"<rect class="cell" data-row="\##(r)" data-column="\##(c)" data-count="\##(count)" x="\##(f(x))" y="\##(f(y))" width="\##(f(cell))" height="\##(f(cell))" fill="\##(shade(share))" stroke="#ffffff" stroke-width="1"/>"##)
                if showCounts {
                    let ink = share > 0.5 ? "#ffffff" : "#222222"
                    svg.append(##"<text x="\##(f(x + cell / 2))" y="\##(f(y + cell / 2 + 4))" text-anchor="middle" fill="\##(ink)">\##(count)</text>"##)
                }
            }
        }
        svg.append(##"<g fill="#333">"##)
        for (r, label) in rowLabels.enumerated() {
            svg.append(##"<text x="\##(f(left - 6))" y="\##(f(top + (Double(r) + 0.5) * cell + 4))" text-anchor="end">\##(escape(label))</text>"##)
        }
        let labelsTop = top + Double(rows) * cell + 8
        for (c, label) in columnLabels.enumerated() {
            let x = left + (Double(c) + 0.5) * cell
            svg.append(##"<text transform="translate(\##(f(x)) \##(f(labelsTop))) rotate(45)" text-anchor="start">\##(escape(label))</text>"##)
        }
        svg.append("</g>")
        svg.append(##"<text x="\##(f(left + Double(columns) * cell / 2))" y="\##(f(height - 10))" text-anchor="middle">\##(escape(columnAxis))</text>"##)
        svg.append(##"<text transform="translate(18 \##(f(top + Double(rows) * cell / 2))) rotate(-90)" text-anchor="middle">\##(escape(rowAxis))</text>"##)
        return svg.text()
    }

    /// White to dark blue as `share` goes from 0 to 1.
    static func shade(_ share: Double) -> String {
        let s = min(max(share.isFinite ? share : 0, 0), 1)
        func channel(_ dark: Double) -> Int { Int((255 + (dark - 255) * s).rounded()) }
        return String(format: "#%02x%02x%02x", channel(dark.r), channel(dark.g), channel(dark.b))
    }
}
