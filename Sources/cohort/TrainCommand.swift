import ArgumentParser
import Cohort
import CohortTrain
import Foundation

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model described by a YAML config (one process, or N ranks under mpirun).")

    @Argument(help: "The run config (YAML), e.g. configs/fashion-mlp.yaml.")
    var config: String

    @Option(name: .customLong("set"), help: "Override a config key: --set optimizer.lr=0.1 (repeatable).")
    var overrides: [String] = []

    @Flag(help: "Continue the run from its latest checkpoint.")
    var resume = false

    @Flag(help: "Continue from the latest checkpoint if the run folder has one, else start afresh (launch/train --restarts uses it).")
    var resumeIfSaved = false

    @Option(help: "Write a Chrome/Perfetto trace (JSON) of each rank's spans to this file (rank N adds .rankN).")
    var trace: String?

    @Flag(help: "No progress bar or per-step lines.")
    var quiet = false

    @Flag(help: "Every rank also writes its own loss and timing to <run folder>/rank-N.log.")
    var rankLogs = false

    func run() throws {
        let comm = try Runtime.communicator()
        try Runtime.guarded(comm) {
            let (runConfig, yaml) = try ConfigLoader.loadRun(path: config, overrides: overrides)
            if runConfig.distill != nil {
                throw CohortError.invalid("\(config): has a distill section; run it with cohort distill")
            }
            let trainer = try Trainer(config: runConfig, configYAML: yaml, communicator: comm,
                                      resume: try resume || (resumeIfSaved && Trainer.hasLatestCheckpoint(runConfig, comm)), showProgress: !quiet)
            if trace != nil { trainer.enableTrace() }
            if rankLogs { try trainer.enableRankLog() }
            StopSignal.install()
            let test: Evaluation
            do { test = try trainer.run() } catch let stopped as RunStopped {
                if comm.rank == 0 { FileHandle.standardError.write(Data("cohort: \(stopped)\n".utf8)) }
                throw ExitCode(stopped.exitCode)
            }
            if let trace, let spans = trainer.trace {
                // One file per rank (open them together in Perfetto: each rank is its own process track).
                let path = comm.size > 1 ? "\(trace).rank\(comm.rank)" : trace
                try spans.recorder.write(to: URL(fileURLWithPath: path))
            }
            if comm.rank == 0 {
                if test.task == .regression {
                    print(String(format: "test RMSE %.6g, MAE %.6g (%d examples), loss %.6g; run folder %@", test.rmse ?? .nan, test.mae ?? .nan,
                                 test.count, test.loss, trainer.folderPath))
                } else {
                    print(String(format: "test accuracy %.4f (%d of %d), loss %.4f; run folder %@", test.accuracy,
                                 test.count - test.errors, test.count, test.loss, trainer.folderPath))
                }
            }
        }
    }
}
