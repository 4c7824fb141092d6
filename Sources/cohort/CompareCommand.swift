import ArgumentParser
import CohortTrain
import Foundation

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Put finished runs side by side: their final figures, the config keys they differ in, and their curves overlaid (report.md, report.json, SVG charts).")

    @Argument(help: "Two or more run folders (runs/<name>) of finished runs.")
    var runs: [String] = []

    @Option(help: "Folder for the comparison (default: compare-<names> beside the first run).")
    var output: String?

    func run() throws {
        try failOnError {
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
