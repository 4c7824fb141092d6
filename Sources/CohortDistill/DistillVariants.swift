import Cohort
import CohortFormats
import Foundation

/// One distillation run as a variant: what it did and what every seed's students scored. A
/// report gives its own row; `cohort compare` on distillation run folders puts several side by
/// side and names the one that is best on validation (never on the test set).
public struct VariantRow: Codable {
    /// The settings in short ("online, augmented x4, mixup 0.2, kl T=2 alpha=0.5").
    public let variant: String
    public let run: String
    public let command: String
    /// No --set overrides: the config as written.
    public let asWritten: Bool
    public let ranks: Int
    public let steps: Int
    public let teacherErrors: Int
    public let seeds: [UInt64]
    public let distilledErrors: [Int]
    public let scratchErrors: [Int]
    /// Means over seeds of the students' validation accuracy.
    public let distilledValidation: Double?
    public let scratchValidation: Double?
    /// The share of the scratch-teacher gap in test errors that the mean errors close.
    public let gapClosed: Double?
    public let teacherShare: Double?
    public let seconds: Double

    /// The row of a distillation report (nil for `cohort compress`'s).
    public init?(_ report: DistillReport) {
        guard let d = report.distillation, let teacher = report.teacher, let steps = report.studentSteps else { return nil }
        variant = d.variant
        run = report.name
        command = d.command
        asWritten = d.overrides.isEmpty
        ranks = report.ranks
        self.steps = steps
        teacherErrors = teacher.errors
        seeds = report.seeds.map(\.seed)
        distilledErrors = report.seeds.map(\.distilledErrors)
        scratchErrors = report.seeds.compactMap(\.scratchErrors)
        distilledValidation = Self.mean(report.seeds.compactMap(\.distilledValidation), of: seeds.count)
        scratchValidation = Self.mean(report.seeds.compactMap(\.scratchValidation), of: seeds.count)
        gapClosed = scratchErrors.count == seeds.count && !seeds.isEmpty
            ? DistillReport.share(scratch: DistillReport.mean(scratchErrors), distilled: DistillReport.mean(distilledErrors),
                                  teacher: Double(teacherErrors))
            : nil
        teacherShare = d.teacherShare
        seconds = report.seconds
    }

    /// The mean of `values` when every one of `count` seeds has one.
    static func mean(_ values: [Double], of count: Int) -> Double? {
        values.count == count && count > 0 ? values.reduce(0, +) / Double(count) : nil
    }

    /// A table of variants, one row each.
    public static func table(_ rows: [VariantRow], marking best: Int? = nil) -> String {
        var md = "| variant | run | steps | ranks | distilled test errors (mean) | scratch test errors (mean) | gap closed by the means | distilled validation | scratch validation | teacher's share of step time | wall time |\n"
        md += "|---|---|---:|---:|---|---|---:|---:|---:|---:|---:|\n"
        func list(_ v: [Int]) -> String {
            v.isEmpty ? "-" : v.map(String.init).joined(separator: " / ") + String(format: " (%.1f)", DistillReport.mean(v))
        }
        func percent(_ v: Double?) -> String { v.map { String(format: "%.2f%%", $0 * 100) } ?? "-" }
        for (i, r) in rows.enumerated() {
            let name = i == best ? "**\(r.variant)**" : r.variant
            md += "| \(name) | \(r.run)\(r.asWritten ? " (as written)" : "") | \(r.steps) | \(r.ranks) | \(list(r.distilledErrors)) | \(list(r.scratchErrors)) | "
            md += "\(r.gapClosed.map { String(format: "%.1f%%", $0 * 100) } ?? "-") | \(percent(r.distilledValidation)) | \(percent(r.scratchValidation)) | "
            md += (r.teacherShare.map { String(format: "%.0f%%", $0 * 100) } ?? "-") + String(format: " | %.0f s |\n", r.seconds)
        }
        return md
    }
}

/// `cohort compare` of distillation run folders: one row per variant, the best on validation
/// marked, and which variant the config as written (no --set) uses.
public struct DistillVariantComparison {
    public let rows: [VariantRow]
    public let folders: [String]
    /// The runs' reports, whose fronts front.svg overlays.
    public let reports: [DistillReport]

    /// Whether `path` holds a distillation report (report.json with a "distillation" section).
    public static func isDistillationRun(_ path: String) -> Bool {
        let url = URL(fileURLWithPath: path).appendingPathComponent("report.json")
        guard let data = try? Data(contentsOf: url), let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return false }
        return json["distillation"] != nil
    }

    public static func load(_ paths: [String]) throws -> DistillVariantComparison {
        guard paths.count >= 2 else { throw CohortError.invalid("compare: give two or more run folders (got \(paths.count))") }
        let loaded = try paths.map { path -> (VariantRow, DistillReport) in
            let url = URL(fileURLWithPath: path).appendingPathComponent("report.json")
            guard let data = try? Data(contentsOf: url) else { throw CohortError.invalid("\(path): no report.json (not a finished cohort distill run)") }
            let report: DistillReport
            do { report = try JSONDecoder().decode(DistillReport.self, from: data) } catch {
                throw CohortError.invalid("\(url.path): not a distillation report: \(error)")
            }
            guard let row = VariantRow(report) else { throw CohortError.invalid("\(path): a cohort compress report, not a distillation") }
            return (row, report)
        }
        return DistillVariantComparison(rows: loaded.map(\.0), folders: paths, reports: loaded.map(\.1))
    }

    /// The row whose distilled students score best on validation (mean over seeds).
    public var bestOnValidation: Int? {
        rows.indices.filter { rows[$0].distilledValidation != nil }.max { rows[$0].distilledValidation! < rows[$1].distilledValidation! }
    }

    public var markdown: String {
        let best = bestOnValidation
        var md = "# Distillation variants\n\n" + VariantRow.table(rows, marking: best) + "\n"
        if let best {
            let b = rows[best]
            md += String(format: "Best on validation (mean validation accuracy of the distilled students, %.2f%%): **%@** (%@).", b.distilledValidation! * 100,
                         b.variant, b.run)
            for r in rows where r.asWritten {
                md += r.variant == b.variant && r.run == b.run
                    ? " It is the variant of its config as written."
                    : String(format: " The config of %@ as written uses %@ (%.2f%%).", r.run, r.variant, (r.distilledValidation ?? .nan) * 100)
            }
            md += " The test set plays no part in the choice.\n"
        }
        md += "\nCommands:\n\n" + rows.map { "- \($0.run): `\($0.command)`" }.joined(separator: "\n") + "\n"
        if hasSpeeds { md += "\nEach run's models, test accuracy against samples/s at batch 256, its front filled and its choice ringed:\n\n![fronts](front.svg)\n" }
        return md
    }

    /// Whether the runs' reports measured their speeds (reports from before the front have none).
    var hasSpeeds: Bool { reports.contains { $0.rows.contains { $0.speeds != nil } } }

    /// front.svg: every run's models, a colour and a front per run.
    var frontChart: String {
        let points = zip(rows, reports).flatMap { row, report in
            report.rows.map { r in
                SVGFrontChart.Point(name: r.name, group: row.run, samplesPerSecond: r.samplesPerSecond, accuracy: r.accuracy * 100,
                                    onFront: r.onFront == true, chosen: r.name == report.choice?.row)
            }
        }
        return SVGFrontChart.render(title: "Test accuracy against inference speed, by run", points: points,
                                    xLabel: "inference samples/s, batch 256, one thread (log scale)", yLabel: "test accuracy (%)", frontPerGroup: true)
    }

    public func write(to folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try AtomicFile.write(Data(markdown.utf8), to: folder.appendingPathComponent("report.md"))
        if hasSpeeds { try AtomicFile.write(Data(frontChart.utf8), to: folder.appendingPathComponent("front.svg")) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        struct Contents: Encodable { let variants: [VariantRow]; let bestOnValidation: String? }
        let contents = Contents(variants: rows, bestOnValidation: bestOnValidation.map { rows[$0].run })
        try AtomicFile.write(try encoder.encode(contents), to: folder.appendingPathComponent("report.json"))
    }
}
