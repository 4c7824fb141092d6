import ArgumentParser
import Cohort
import CohortDistill
import CohortTrain
import Foundation

struct CompressCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compress",
        abstract: "Prune (with fine-tuning) and/or quantise to int8 any checkpoint, and report what was kept.")

    @Argument(help: "A checkpoint (.safetensors) written by cohort train or cohort distill.")
    var checkpoint: String

    @Option(help: "Final share of Linear/Conv weights set to zero (0: no pruning).")
    var sparsity: Float = 0.8

    @Option(help: "global (one magnitude threshold) or layer (every layer to the sparsity).")
    var scope = "global"

    @Option(help: "Pruning rounds (cubic schedule), each followed by fine-tuning.")
    var rounds = 4

    @Option(help: "Fine-tuning steps after each round (on the checkpoint's training set and labels).")
    var finetuneSteps = 2000

    @Option(help: "Peak learning rate of each round's fine-tuning (cosine to 0).")
    var lr: Float = 0.01

    @Flag(help: "Skip int8 quantisation.")
    var noQuantize = false

    @Option(help: "Folder for the compressed models and the report (default: <checkpoint folder>/../compressed).")
    var output: String?

    @Flag(help: "No progress bar or per-step lines.")
    var quiet = false

    func run() throws {
        let comm = try Runtime.communicator()
        try Runtime.guarded(comm) {
            var prune: PruneConfig?
            if sparsity > 0 {
                guard let pruneScope = PruneScope(rawValue: scope) else {
                    throw CohortError.invalid("compress options: scope: unknown value '\(scope)' (known: \(PruneScope.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                prune = try PruneConfig(sparsity: sparsity, scope: pruneScope, rounds: rounds, finetuneSteps: finetuneSteps, lr: lr,
                                        source: "compress options")
            }
            let folder = output ?? URL(fileURLWithPath: checkpoint).deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("compressed").path
            let run = try CompressRun(checkpoint: checkpoint, prune: prune, quantize: !noQuantize, folder: folder,
                                      communicator: comm, showProgress: !quiet)
            let report = try run.run()
            if comm.rank == 0 {
                print("")
                print(report.markdown)
                print("report: \(folder)/report.md")
            }
        }
    }
}
