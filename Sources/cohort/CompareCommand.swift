import ArgumentParser
import Cohort
import CohortDistill
import CohortTrain
import Foundation

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Put finished runs side by side: their final figures, the config keys they differ in, and their curves overlaid (report.md, report.json, SVG charts); for cohort distill runs, one row per variant and the best on validation.")

    @Argument(help: "Two or more run folders (runs/<name>) of finished runs: all training runs, or all cohort distill runs.")
    var runs: [String] = []

    @Option(help: "Folder for the comparison (default: compare-<names> beside the first run).")
    var output: String?

    func run() throws {
        try failOnError {
            let distillations = runs.filter(DistillVariantComparison.isDistillationRun)
            if !distillations.isEmpty {
                guard distillations.count == runs.count else {
                    let other = runs.first { !DistillVariantComparison.isDistillationRun($0) }!
                    throw CohortError.invalid("\(other): not a cohort distill run, and \(distillations[0]) is: compare runs of one kind")
                }
                let comparison = try DistillVariantComparison.load(runs)
                let folder = output.map { URL(fileURLWithPath: $0) } ?? RunComparison.defaultFolder(for: runs, names: comparison.rows.map(\.run))
                try comparison.write(to: folder)
                print(comparison.markdown)
                print("report: \(folder.path)/report.md")
                return
            }
            let comparison = try RunComparison.load(runs)
            let folder = output.map { URL(fileURLWithPath: $0) } ?? RunComparison.defaultFolder(for: runs, comparison: comparison)
            try comparison.write(to: folder)
            print(comparison.table)
            print("Config keys that differ:")
            print(comparison.differencesTable)
            print("report: \(folder.path)/report.md")
        }
    }

}
