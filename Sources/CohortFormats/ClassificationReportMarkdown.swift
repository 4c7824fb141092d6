import Foundation

extension ClassificationReport {
    /// The report as Markdown: a summary line, a per-class table with the macro average, and the
    /// confusion matrix (rows true, columns predicted).
    public func markdown(title: String? = nil) -> String {
        var lines: [String] = []
        if let title { lines += ["## \(title)", ""] }
        lines.append("Accuracy **\(String(format: "%.2f", accuracy * 100))%** on \(sampleCount) samples (\(errorCount) errors).")
        lines += ["", "| class | precision | recall | F1 | support |", "|---|---:|---:|---:|---:|"]
        func score(_ x: Double) -> String { String(format: "%.4f", x) }
        for c in classes {
            lines.append("| \(Self.cell(c.name)) | \(score(c.precision)) | \(score(c.recall)) | \(score(c.f1)) | \(c.support) |")
        }
        lines.append("| **macro average** | \(score(macroPrecision)) | \(score(macroRecall)) | \(score(macroF1)) | \(sampleCount) |")
        lines += ["", "Confusion matrix (rows: true class, columns: predicted class)", ""]
        lines.append("| true \\ predicted | " + classes.map { Self.cell($0.name) }.joined(separator: " | ") + " |")
        lines.append("|---|" + String(repeating: "---:|", count: classes.count))
        for (c, row) in zip(classes, confusion) {
            lines.append("| \(Self.cell(c.name)) | " + row.map(String.init).joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Table cells cannot hold pipes or line breaks.
    private static func cell(_ text: String) -> String {
        text.replacingOccurrences(of: "|", with: "\\|")
            .replacingOccurrences(of: "\r", with: " ")
            .replacingOccurrences(of: "\n", with: " ")
    }
}
