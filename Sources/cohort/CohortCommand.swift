import ArgumentParser
import Cohort
import Foundation

@main
struct CohortCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cohort",
        abstract: "Train neural networks on CPUs with several processes (mpirun), Hogwild, or distillation.",
        subcommands: [TrainCommand.self, DistillCommand.self, CompressCommand.self, EvalCommand.self, PredictCommand.self, ExportCommand.self,
                      CompareCommand.self, GradcheckCommand.self, BenchCommand.self, CheckCommand.self, InfoCommand.self])
}

/// The error policy in one place: one line on stderr naming what is wrong, and a non-zero exit.
func failOnError<T>(_ body: () throws -> T) throws -> T {
    _ = CPU.cap  // a COHORT_CPU that names no level ends the process here, before any work
    do {
        return try body()
    } catch let error as ExitCode {
        throw error
    } catch {
        FileHandle.standardError.write(Data("cohort: error: \(error)\n".utf8))
        throw ExitCode.failure
    }
}
