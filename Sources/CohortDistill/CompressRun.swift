import Cohort
import CohortData
import CohortDistributed
import CohortNN
import CohortTrain
import Foundation

/// `cohort compress CHECKPOINT`: prune (with fine-tuning on the labels) and/or quantise any
/// checkpoint, with the same report as `cohort distill`. The model and data come from the
/// checkpoint's embedded config; the results go to `folder` (models/, prune-K/, report.*).
public final class CompressRun {
    let path: String
    let prune: PruneConfig?
    let quantize: Bool
    let comm: Communicator
    let folder: URL
    let showProgress: Bool

    public init(checkpoint: String, prune: PruneConfig?, quantize: Bool, folder: String, communicator: Communicator, showProgress: Bool = true) throws {
        guard prune != nil || quantize else {
            throw CohortError.invalid("compress: nothing to do (give --sparsity above 0, or leave quantisation on)")
        }
        path = checkpoint
        self.prune = prune
        self.quantize = quantize
        comm = communicator
        self.folder = URL(fileURLWithPath: folder)
        self.showProgress = showProgress
    }

    public func run() throws -> DistillReport {
        let started = Runtime.now()
        guard FileManager.default.fileExists(atPath: path) else { throw CohortError.invalid("\(path): checkpoint not found") }
        let saved = try SavedRun.open(path)
        let config = saved.config, yaml = saved.configYAML
        if config.training.threads > 0 { GEMM.setThreads(config.training.threads) }
        guard config.task == .classification else { throw CohortError.invalid("\(path): compress evaluates classifiers; this model is a \(config.task.rawValue) model") }
        let data = try DataSplits.load(config.data, task: config.task, seed: config.seed, saved: saved.data)
        let model = try saved.model()

        let stages = CompressionStages(communicator: comm, folder: folder, yaml: yaml, runName: folder.lastPathComponent, data: saved.data,
                                       showProgress: showProgress)
        try stages.prepareFolder()
        let original = try stages.evaluate(model, data)
        let written = try stages.export(model, yaml, stages.models.appendingPathComponent("original.safetensors"))
        var rows = ReportRows()
        try stages.add(config.name, .original, original, model, written, data, to: &rows)
        stages.say(String(format: "%@: test accuracy %.4f, %d errors", path, original.accuracy, original.errors))
        if quantize {
            try stages.addInt8("\(config.name), int8", .int8, model, yaml, fileName: "int8.safetensors", data, to: &rows)
        }
        if let prune {
            let (pruned, w) = try stages.pruneAndFineTune(model, prune: prune, setup: nil, data: data, fileName: "pruned.safetensors")
            let label = String(format: "%@, %.0f%% sparse", config.name, pruned.sparsity * 100)
            try stages.add(label, .pruned, pruned.evaluation, pruned.model, w, data, to: &rows)
            if quantize {
                try stages.addInt8(label + ", int8", .prunedInt8, pruned.model, pruned.yaml, fileName: "pruned-int8.safetensors",
                                   pruner: pruned.pruner, data, to: &rows)
            }
        }
        var summary = "Compressed \(path)"
        if let prune {
            summary += String(format: ": pruned to %.0f%% (%@) in %d rounds of %d fine-tuning steps,", Double(prune.sparsity) * 100,
                              prune.scope.rawValue, prune.rounds, prune.finetuneSteps)
        }
        summary += quantize ? " int8 per output channel, on" : " on"
        let choice = try rows.finish(data: data, chooseWithin: 1, communicator: comm)
        let report = DistillReport(name: config.name, summary: summary, distillation: nil, studentSteps: nil, ranks: comm.size,
                                   seconds: Runtime.now() - started, rows: rows.rows, choice: choice)
        if comm.rank == 0 { try report.write(to: folder) }
        return report
    }
}
