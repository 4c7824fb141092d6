import ArgumentParser
import Cohort
import CohortDistill
import CohortTrain
import Foundation

struct DistillCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "distill",
        abstract: "Distil a teacher checkpoint (or an ensemble) into a small student, prune and quantise it, and report what was kept.")

    @Argument(help: "The distillation config (YAML).")
    var config: String = "configs/distill-fashion.yaml"

    @Option(name: .customLong("set"), help: "Override a config key: --set distill.temperature=8 (repeatable).")
    var overrides: [String] = []

    @Flag(help: "Also train the student from scratch with the same steps and augmentation, to measure the share of the gap closed.")
    var baseline = false

    @Option(help: "Train this many students (and scratch students) from seeds seed, seed + 1, ... and report every seed's errors and the gap closed by their means.")
    var repeats: Int = 1

    @Flag(help: "Continue the distillation in the run folder: sub-runs that finished are evaluated, not trained again; the others go on from their latest checkpoints. The config must be the one it started with.")
    var resume = false

    @Flag(help: "Continue the distillation if the run folder holds one, else start afresh (launch/distill --restarts uses it).")
    var resumeIfSaved = false

    @Flag(help: "No progress bar or per-step lines.")
    var quiet = false

    func run() throws {
        let comm = try Runtime.communicator()
        try Runtime.guarded(comm) {
            let (runConfig, yaml) = try ConfigLoader.loadRun(path: config, overrides: overrides)
            let command = (["cohort"] + CommandLine.arguments.dropFirst()).joined(separator: " ")
            let start: DistillationStart = resume ? .resume : resumeIfSaved ? .resumeIfSaved : .fresh
            let run = try DistillationRun(config: runConfig, configYAML: yaml, communicator: comm, baseline: baseline, repeats: repeats,
                                          start: start, showProgress: !quiet, command: command, overrides: overrides)
            // Ctrl-C or SIGTERM: the sub-run in training saves its latest checkpoint, and --resume goes on from there.
            StopSignal.install()
            let report: DistillReport
            do { report = try run.run() } catch let stopped as RunStopped {
                if comm.rank == 0 { FileHandle.standardError.write(Data("cohort: \(stopped)\n".utf8)) }
                throw ExitCode(stopped.exitCode)
            }
            if comm.rank == 0 {
                print("")
                print(report.markdown)
                print("report: \(runConfig.output.directory)/\(runConfig.name)/report.md")
            }
        }
    }
}
