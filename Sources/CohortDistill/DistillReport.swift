import CohortFormats
import CohortNN
import CohortTrain
import Foundation

/// What distillation and compression kept and lost: one row per model, and the share of the
/// teacher-student gap in test errors that distillation closed (needs `--baseline`); for a
/// distillation also its variant (teacher mode, transfer set, mixing, loss, steps) with every
/// seed's test errors and validation accuracy, the row `cohort compare` puts beside other variants.
public struct DistillReport: Codable {
    public struct Row: Codable {
        public let name: String
        public let role: Role
        public let accuracy: Double
        public let errors: Int
        public let parameters: Int
        public let nonzero: Int
        /// Size of the model-only safetensors file.
        public let bytes: Int
        /// Bytes of the Linear/Conv weights as stored.
        public let weightBytes: Int
        public let samplesPerSecond: Double
        public let file: String?
    }

    /// What a row's model is (written as its raw value in report.json).
    public enum Role: String, Codable, Sendable {
        case teacher, ensemble, scratch, distilled, original, int8, pruned
        case prunedInt8 = "pruned-int8"

        /// A compressed copy of another row's model (the report gives its change in accuracy).
        var isCompressed: Bool { [.int8, .pruned, .prunedInt8].contains(self) }
    }

    /// One seed's pair of students (`cohort distill --repeats N`): test errors, and validation
    /// accuracy (what variants are chosen on; nil without a validation split).
    public struct SeedResult: Codable {
        public let seed: UInt64
        public let scratchErrors: Int?
        public let distilledErrors: Int
        public let scratchValidation: Double?
        public let distilledValidation: Double?

        public init(seed: UInt64, scratchErrors: Int?, distilledErrors: Int, scratchValidation: Double?, distilledValidation: Double?) {
            self.seed = seed
            self.scratchErrors = scratchErrors
            self.distilledErrors = distilledErrors
            self.scratchValidation = scratchValidation
            self.distilledValidation = distilledValidation
        }
    }

    /// The distillation settings (nil for `cohort compress`): the variant this run is.
    public struct Distillation: Codable {
        public let teacherMode: TeacherMode
        public let loss: DistillationLossKind
        public let temperature: Float
        public let alpha: Float
        public let transferSet: TransferSetKind
        public let multiplier: Int
        public let transferExamples: Int
        /// Augmentation (baked into cached copies, or per batch online) and mixing (online).
        public let shift: Int, flip: Float, noise: Float
        public let mixup: Float, cutmix: Float
        public let epochs: Int
        /// The teacher's share of the distilled student's step time (forward passes online, look-ups
        /// cached), mean over ranks.
        public let teacherShare: Double
        /// Where a generated set's VAE came from, and the seconds it took (trained or loaded, sampled).
        public let generator: String?
        public let generatorSeconds: Double?
        /// The command line of the run (`cohort distill CONFIG ...`) and its --set overrides.
        public let command: String
        public let overrides: [String]

        /// A short name: "online, augmented x4, mixup 0.2, kl".
        public var variant: String {
            var parts = [teacherMode.rawValue, "\(transferSet.rawValue) x\(multiplier)"]
            if mixup > 0 { parts.append(String(format: "mixup %g", mixup)) }
            if cutmix > 0 { parts.append(String(format: "cutmix %g", cutmix)) }
            parts.append(loss == .kl ? String(format: "kl T=%g alpha=%g", temperature, alpha) : String(format: "logit_mse alpha=%g", alpha))
            return parts.joined(separator: ", ")
        }
    }

    public let name: String
    /// What was done, for the report's first line.
    public let summary: String
    public let distillation: Distillation?
    public let studentSteps: Int?
    public let ranks: Int
    public let seconds: Double
    public let rows: [Row]
    /// Every seed's students when more than one was trained (the first is the table's).
    public let seeds: [SeedResult]
    /// The `cohort compare` report of those students (relative to the run folder), when there are several.
    public let comparison: String?

    public init(name: String, summary: String, distillation: Distillation?, studentSteps: Int?, ranks: Int, seconds: Double,
                rows: [Row], seeds: [SeedResult] = [], comparison: String? = nil) {
        self.name = name; self.summary = summary; self.distillation = distillation; self.studentSteps = studentSteps
        self.ranks = ranks; self.seconds = seconds; self.rows = rows; self.seeds = seeds; self.comparison = comparison
    }

    public func row(_ role: Role) -> Row? { rows.first { $0.role == role } }

    /// The teacher the student is compared with: the ensemble when there is one.
    public var teacher: Row? { row(.ensemble) ?? row(.teacher) }

    /// (scratch errors - distilled errors) / (scratch errors - teacher errors).
    public var gapClosed: Double? {
        guard let t = teacher, let s = row(.scratch), let d = row(.distilled) else { return nil }
        return Self.share(scratch: Double(s.errors), distilled: Double(d.errors), teacher: Double(t.errors))
    }

    /// The gap closed by the mean errors over seeds (scratch against distilled), when there are several.
    public var meanGapClosed: Double? {
        let scratch = seeds.compactMap(\.scratchErrors)
        guard seeds.count > 1, scratch.count == seeds.count, let t = teacher else { return nil }
        return Self.share(scratch: Self.mean(scratch), distilled: Self.mean(seeds.map(\.distilledErrors)), teacher: Double(t.errors))
    }

    /// (scratch - distilled) / (scratch - teacher), in test errors; nil when there is no gap.
    static func share(scratch: Double, distilled: Double, teacher: Double) -> Double? {
        scratch == teacher ? nil : (scratch - distilled) / (scratch - teacher)
    }

    static func mean(_ v: [Int]) -> Double { Double(v.reduce(0, +)) / Double(max(v.count, 1)) }

    enum CodingKeys: String, CodingKey { case name, summary, distillation, studentSteps, ranks, seconds, rows, gapClosed, seeds, meanGapClosed, comparison }

    /// Reads a report.json (the computed figures, gapClosed and meanGapClosed, are computed again).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        summary = try c.decode(String.self, forKey: .summary)
        distillation = try c.decodeIfPresent(Distillation.self, forKey: .distillation)
        studentSteps = try c.decodeIfPresent(Int.self, forKey: .studentSteps)
        ranks = try c.decode(Int.self, forKey: .ranks)
        seconds = try c.decode(Double.self, forKey: .seconds)
        rows = try c.decode([Row].self, forKey: .rows)
        seeds = try c.decodeIfPresent([SeedResult].self, forKey: .seeds) ?? []
        comparison = try c.decodeIfPresent(String.self, forKey: .comparison)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(summary, forKey: .summary)
        try c.encodeIfPresent(distillation, forKey: .distillation)
        try c.encodeIfPresent(studentSteps, forKey: .studentSteps)
        try c.encode(ranks, forKey: .ranks)
        try c.encode(seconds, forKey: .seconds)
        try c.encode(rows, forKey: .rows)
        try c.encodeIfPresent(gapClosed, forKey: .gapClosed)
        if !seeds.isEmpty { try c.encode(seeds, forKey: .seeds) }
        try c.encodeIfPresent(meanGapClosed, forKey: .meanGapClosed)
        try c.encodeIfPresent(comparison, forKey: .comparison)
    }

    /// The table of report.md (also printed at the end of `cohort distill` and `cohort compress`).
    public var table: String {
        // Compression rows show their change against the model they were made from.
        let reference = row(.distilled) ?? row(.original)
        var md = "| model | test accuracy | errors | parameters (non-zero) | file bytes | weight bytes | inference samples/s |\n"
        md += "|---|---:|---:|---:|---:|---:|---:|\n"
        for r in rows {
            var accuracy = String(format: "%.2f%%", r.accuracy * 100)
            if let reference, r.role.isCompressed {
                accuracy += String(format: " (%+.2f)", (r.accuracy - reference.accuracy) * 100)
            }
            let nz = r.nonzero == r.parameters ? "\(r.parameters)" : "\(r.parameters) (\(r.nonzero))"
            md += "| \(r.name) | \(accuracy) | \(r.errors) | \(nz) | \(r.bytes) | \(r.weightBytes) | \(String(format: "%.0f", r.samplesPerSecond)) |\n"
        }
        return md
    }

    public var markdown: String {
        var md = "# \(name): distillation and compression\n\n"
        md += summary + String(format: " %d rank(s), %.0f s in all.\n\n", ranks, seconds)
        md += table + "\n"
        if let g = gapClosed, let t = teacher, let s = row(.scratch), let d = row(.distilled) {
            md += String(format: "Distillation closed **%.1f%%** of the test-error gap between the scratch student (%d errors) and the teacher (%d): the distilled student makes %d.\n",
                         g * 100, s.errors, t.errors, d.errors)
        }
        if seeds.count > 1 {
            let list = { (v: [Int]) in v.map(String.init).joined(separator: ", ") }
            let distilled = seeds.map(\.distilledErrors), scratch = seeds.compactMap(\.scratchErrors)
            md += String(format: "\nOver %d seeds (%@; same transfer set and teacher): distilled student %@ errors (mean %.1f)",
                         seeds.count, seeds.map { String($0.seed) }.joined(separator: ", "), list(distilled), Self.mean(distilled))
            if scratch.count == seeds.count {
                md += String(format: ", scratch student %@ (mean %.1f)", list(scratch), Self.mean(scratch))
            }
            if let g = meanGapClosed { md += String(format: "; the means close **%.1f%%** of the gap", g * 100) }
            md += ".\n"
        }
        if let comparison { md += "Every student's figures and curves side by side: [\(comparison)](\(comparison)).\n" }
        if let d = distillation, let variant = VariantRow(self) {
            md += "\n## Variant\n\n" + VariantRow.table([variant]) + "\n"
            md += String(format: "The teacher's targets were %@; the teacher took %.1f%% of the distilled student's step time.", d.teacherMode == .cached
                ? "cached once per transfer example" : "computed on every batch as the student saw it", d.teacherShare * 100)
            if let g = d.generator { md += String(format: " Generated images: VAE %@, %.0f s.", g, d.generatorSeconds ?? 0) }
            md += " Choose between variants on validation accuracy (`cohort compare` of their run folders), never on the test set.\n"
        }
        if gapClosed == nil && row(.distilled) != nil {
            md += "Run with --baseline to train the scratch student with the same budget and measure the share of the gap closed.\n"
        }
        md += "\nWeight bytes: Linear/Conv weights as stored (int8 values plus one float scale per output channel). Inference samples/s: "
        md += "each row's model measured on its own, 256-image batches of the test set, this process's threads. Int8 models compute their "
        md += "Linear layers with 8-bit integer products on activations quantised per input row (\(Int8Weights.kernelDescription) "
        md += "here; convolutions stay float32); pruned ones are stored and computed dense.\n"
        return md
    }

    public func write(to folder: URL) throws {
        try AtomicFile.write(Data(markdown.utf8), to: folder.appendingPathComponent("report.md"))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(self), to: folder.appendingPathComponent("report.json"))
    }
}
