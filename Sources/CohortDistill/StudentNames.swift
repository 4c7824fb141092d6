/// What one student's sub-runs, model files and report rows are called. The single student of a
/// config without `distill.students` keeps the names it always had (student/, scratch/,
/// models/student-int8.safetensors, "distilled student"); a named student prefixes its own
/// (mlp-100/, mlp-100-scratch/, models/mlp-100-int8.safetensors, "mlp-100, distilled").
struct StudentNames {
    /// `distill.students`' name; nil for the single student.
    let student: String?

    private var base: String { student ?? "student" }

    func distilledRun(seed: UInt64? = nil) -> String { seed.map { "\(base)-seed\($0)" } ?? base }
    func scratchRun(seed: UInt64? = nil) -> String {
        let scratch = student.map { "\($0)-scratch" } ?? "scratch"
        return seed.map { "\(scratch)-seed\($0)" } ?? scratch
    }
    func pruneRun(_ round: Int) -> String { student.map { "\($0)-prune-\(round)" } ?? "prune-\(round)" }

    /// Model files in models/: distilled, scratch, int8, pruned, pruned-int8.
    var distilledFile: String { "\(base).safetensors" }
    var scratchFile: String { "\(student.map { "\($0)-scratch" } ?? "scratch").safetensors" }
    var int8File: String { "\(base)-int8.safetensors" }
    var prunedFile: String { "\(base)-pruned.safetensors" }
    var prunedInt8File: String { "\(base)-pruned-int8.safetensors" }

    /// Row names.
    var distilledRow: String { student.map { "\($0), distilled" } ?? "distilled student" }
    var scratchRow: String { student.map { "\($0), from scratch" } ?? "student from scratch" }
    var int8Row: String { distilledRow + ", int8" }
    func prunedRow(sparsity: Double) -> String { distilledRow + String(format: ", %.0f%% sparse", sparsity * 100) }
}
