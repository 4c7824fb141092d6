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
        /// Inference samples/s at batch 256 on one thread (the median of `speeds`' second entry).
        public var samplesPerSecond: Double
        public let file: String?
        /// The student a row belongs to (`distill.students`' name; nil for teachers and the single student).
        public var student: String? = nil
        /// Accuracy on the validation split: what the front and the choice are made on.
        public var validationAccuracy: Double? = nil
        /// Samples/s at `InferenceRounds.batches` (1 and 256), medians and ranges over the rounds.
        public var speeds: [InferenceSpread]? = nil
        /// On the front of validation accuracy against samples/s (nil without a validation split).
        public var onFront: Bool? = nil
    }

    /// The model the report proposes to deploy, and why.
    public struct Choice: Codable, Equatable {
        public let row: String
        public let reason: String
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
        /// The student (`distill.students`' name; nil for the single student).
        public var student: String? = nil
        public let seed: UInt64
        public let scratchErrors: Int?
        public let distilledErrors: Int
        public let scratchValidation: Double?
        public let distilledValidation: Double?
        /// The distilled student's test errors as an int8 model (with `distill.quantize`).
        public var int8Errors: Int? = nil

        public init(student: String? = nil, seed: UInt64, scratchErrors: Int?, distilledErrors: Int, scratchValidation: Double?,
                    distilledValidation: Double?) {
            self.student = student
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
        /// cached), mean over ranks; nil when the student had finished before a resume.
        public let teacherShare: Double?
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
    /// The wall time of the start that wrote the report (the last one, when it was resumed).
    public let seconds: Double
    /// Whether that start resumed a distillation (`cohort distill --resume`).
    public let resumed: Bool
    public let rows: [Row]
    /// Every seed's students when more than one was trained (the first is the table's).
    public let seeds: [SeedResult]
    /// The `cohort compare` report of those students (relative to the run folder), when there are several.
    public let comparison: String?
    /// The default choice (`DistillFront`), nil without a validation split.
    public let choice: Choice?

    public init(name: String, summary: String, distillation: Distillation?, studentSteps: Int?, ranks: Int, seconds: Double,
                rows: [Row], seeds: [SeedResult] = [], comparison: String? = nil, choice: Choice? = nil, resumed: Bool = false) {
        self.name = name; self.summary = summary; self.distillation = distillation; self.studentSteps = studentSteps
        self.ranks = ranks; self.seconds = seconds; self.resumed = resumed; self.rows = rows; self.seeds = seeds; self.comparison = comparison; self.choice = choice
    }

    public func row(_ role: Role) -> Row? { rows.first { $0.role == role } }

    /// The teacher the student is compared with: the ensemble when there is one.
    public var teacher: Row? { row(.ensemble) ?? row(.teacher) }

    /// The students of the rows in order (`distill.students`' names; one nil for the single student).
    public var students: [String?] {
        rows.filter { ![.teacher, .ensemble, .original].contains($0.role) }.reduce(into: [String?]()) { if !$0.contains($1.student) { $0.append($1.student) } }
    }

    /// `student`'s row of `role`.
    public func row(_ role: Role, of student: String?) -> Row? { rows.first { $0.role == role && $0.student == student } }

    /// (scratch errors - distilled errors) / (scratch errors - teacher errors), of the first student.
    public var gapClosed: Double? { gapClosed(of: students.first ?? nil) }

    public func gapClosed(of student: String?) -> Double? {
        guard let t = teacher, let s = row(.scratch, of: student), let d = row(.distilled, of: student) else { return nil }
        return Self.share(scratch: Double(s.errors), distilled: Double(d.errors), teacher: Double(t.errors))
    }

    /// The gap closed by the first student's mean errors over seeds (scratch against distilled), when there are several.
    public var meanGapClosed: Double? { meanGapClosed(of: students.first ?? nil) }

    public func meanGapClosed(of student: String?) -> Double? {
        let mine = seeds.filter { $0.student == student }, scratch = mine.compactMap(\.scratchErrors)
        guard mine.count > 1, scratch.count == mine.count, let t = teacher else { return nil }
        return Self.share(scratch: Self.mean(scratch), distilled: Self.mean(mine.map(\.distilledErrors)), teacher: Double(t.errors))
    }

    /// (scratch - distilled) / (scratch - teacher), in test errors; nil when there is no gap.
    static func share(scratch: Double, distilled: Double, teacher: Double) -> Double? {
        scratch == teacher ? nil : (scratch - distilled) / (scratch - teacher)
    }

    static func mean(_ v: [Int]) -> Double { Double(v.reduce(0, +)) / Double(max(v.count, 1)) }

    enum CodingKeys: String, CodingKey { case name, summary, distillation, studentSteps, ranks, seconds, resumed, rows, gapClosed, seeds, meanGapClosed, comparison, choice }

    /// Reads a report.json (the computed figures, gapClosed and meanGapClosed, are computed again).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        summary = try c.decode(String.self, forKey: .summary)
        distillation = try c.decodeIfPresent(Distillation.self, forKey: .distillation)
        studentSteps = try c.decodeIfPresent(Int.self, forKey: .studentSteps)
        ranks = try c.decode(Int.self, forKey: .ranks)
        seconds = try c.decode(Double.self, forKey: .seconds)
        resumed = try c.decodeIfPresent(Bool.self, forKey: .resumed) ?? false
        rows = try c.decode([Row].self, forKey: .rows)
        seeds = try c.decodeIfPresent([SeedResult].self, forKey: .seeds) ?? []
        comparison = try c.decodeIfPresent(String.self, forKey: .comparison)
        choice = try c.decodeIfPresent(Choice.self, forKey: .choice)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(summary, forKey: .summary)
        try c.encodeIfPresent(distillation, forKey: .distillation)
        try c.encodeIfPresent(studentSteps, forKey: .studentSteps)
        try c.encode(ranks, forKey: .ranks)
        try c.encode(seconds, forKey: .seconds)
        if resumed { try c.encode(resumed, forKey: .resumed) }
        try c.encode(rows, forKey: .rows)
        try c.encodeIfPresent(gapClosed, forKey: .gapClosed)
        if !seeds.isEmpty { try c.encode(seeds, forKey: .seeds) }
        try c.encodeIfPresent(meanGapClosed, forKey: .meanGapClosed)
        try c.encodeIfPresent(comparison, forKey: .comparison)
        try c.encodeIfPresent(choice, forKey: .choice)
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
        md += summary + String(format: resumed ? " %d rank(s), %.0f s in the start that resumed it (each sub-run's report.md has its own time).\n\n"
                                                : " %d rank(s), %.0f s in all.\n\n", ranks, seconds)
        md += table + "\n"
        for student in students {
            let who = student.map { "**\($0)**: " } ?? ""
            if let g = gapClosed(of: student), let t = teacher, let s = row(.scratch, of: student), let d = row(.distilled, of: student) {
                md += String(format: "%@Distillation closed **%.1f%%** of the test-error gap between the scratch student (%d errors) and the teacher (%d): the distilled student makes %d.\n",
                             who, g * 100, s.errors, t.errors, d.errors)
            }
            let mine = seeds.filter { $0.student == student }
            if mine.count > 1 {
                let list = { (v: [Int]) in v.map(String.init).joined(separator: ", ") }
                let distilled = mine.map(\.distilledErrors), scratch = mine.compactMap(\.scratchErrors)
                md += String(format: "\n%@Over %d seeds (%@; same transfer set and teacher): distilled student %@ errors (mean %.1f)",
                             who, mine.count, mine.map { String($0.seed) }.joined(separator: ", "), list(distilled), Self.mean(distilled))
                let int8 = mine.compactMap(\.int8Errors)
                if int8.count == mine.count { md += String(format: ", as int8 %@ (mean %.1f)", list(int8), Self.mean(int8)) }
                if scratch.count == mine.count {
                    md += String(format: ", scratch student %@ (mean %.1f)", list(scratch), Self.mean(scratch))
                }
                if let g = meanGapClosed(of: student) { md += String(format: "; the means close **%.1f%%** of the gap", g * 100) }
                md += ".\n"
            }
        }
        if let comparison { md += "Every student's figures and curves side by side: [\(comparison)](\(comparison)).\n" }
        if let d = distillation, let variant = VariantRow(self) {
            md += "\n## Variant\n\n" + VariantRow.table([variant]) + "\n"
            md += "The teacher's targets were " + (d.teacherMode == .cached ? "cached once per transfer example" : "computed on every batch as the student saw it")
            md += d.teacherShare.map { String(format: "; the teacher took %.1f%% of the distilled student's step time.", $0 * 100) }
                ?? "; the distilled student had finished before the resume, so its step time was not measured in this start."
            if let g = d.generator { md += String(format: " Generated images: VAE %@, %.0f s.", g, d.generatorSeconds ?? 0) }
            md += " Choose between variants on validation accuracy (`cohort compare` of their run folders), never on the test set.\n"
        }
        if gapClosed == nil && row(.distilled) != nil {
            md += "Run with --baseline to train the scratch student with the same budget and measure the share of the gap closed.\n"
        }
        md += front
        md += "\nWeight bytes: Linear/Conv weights as stored (int8 values plus one float scale per output channel). Inference samples/s: "
        md += "batch 256, one thread (**Accuracy against speed**). Int8 models compute their "
        md += "Linear and Conv2d layers with 8-bit integer products on activations quantised per sample (each input row, each "
        md += "image its own range; \(Int8Weights.kernelDescription) here; convolutions through \(Int8Weights.convolutionDescription)); "
        md += "a batch norm right after a convolution or linear layer is folded into it before quantising, and the other layers stay "
        md += "float32; every row's speed is that of the model with its batch norms folded, as deployed. "
        md += "Pruned models are stored and computed dense.\n"
        return md
    }

    /// The accuracy/speed section: every row's validation and test accuracy, samples/s at batch 1
    /// and 256 (medians and ranges), weight bytes, the front, the choice and the chart.
    var front: String {
        guard rows.contains(where: { $0.speeds != nil }) else { return "" }
        var md = "\n## Accuracy against speed\n\n"
        md += "| model | validation accuracy | test accuracy | samples/s, batch 1 | samples/s, batch 256 | weight bytes | front |\n"
        md += "|---|---:|---:|---:|---:|---:|:---:|\n"
        let spread = { (s: InferenceSpread) in String(format: "%.0f (%.0f-%.0f)", s.median, s.low, s.high) }
        for r in rows {
            let validation = r.validationAccuracy.map { String(format: "%.2f%%", $0 * 100) } ?? "-"
            let speeds = r.speeds ?? []
            let mark = r.name == choice?.row ? "chosen" : r.onFront == true ? "yes" : ""
            md += "| \(r.name) | \(validation) | \(String(format: "%.2f%%", r.accuracy * 100)) | \(speeds.count > 0 ? spread(speeds[0]) : "-") "
            md += "| \(speeds.count > 1 ? spread(speeds[1]) : "-") | \(r.weightBytes) | \(mark) |\n"
        }
        md += "\nSamples/s: every model in turn, \(InferenceRounds.rounds) rounds, on one thread, rank 0 alone (the others idle), batches of the test set; "
        md += "medians (min-max). On the front: no other model is both as accurate on validation and as fast at batch 256. "
        md += "The chart draws test accuracy against samples/s at batch 256, the front's models filled and the choice ringed.\n"
        if let choice { md += "\nDefault choice: **\(choice.row)**, \(choice.reason). It is chosen on validation accuracy, never on the test set.\n" }
        md += "\n![accuracy against speed](front.svg)\n"
        return md
    }

    /// front.svg: test accuracy against samples/s at batch 256, the front and the choice marked.
    var frontChart: String {
        let points = rows.map { r in
            SVGFrontChart.Point(name: r.name, group: [.teacher, .ensemble, .original].contains(r.role) ? (r.role == .original ? "original" : "teacher") : r.student ?? "student",
                                samplesPerSecond: r.samplesPerSecond, accuracy: r.accuracy * 100, onFront: r.onFront == true, chosen: r.name == choice?.row)
        }
        return SVGFrontChart.render(title: "\(name): test accuracy against inference speed", points: points,
                                    xLabel: "inference samples/s, batch 256, one thread (log scale)", yLabel: "test accuracy (%)")
    }

    public func write(to folder: URL) throws {
        try AtomicFile.write(Data(markdown.utf8), to: folder.appendingPathComponent("report.md"))
        if rows.contains(where: { $0.speeds != nil }) { try AtomicFile.write(Data(frontChart.utf8), to: folder.appendingPathComponent("front.svg")) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(self), to: folder.appendingPathComponent("report.json"))
    }
}
