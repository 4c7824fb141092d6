import Cohort
import CohortData
import CohortDistributed
import CohortFormats
import CohortNN
import CohortOptim
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
        let file = try Safetensors.read(from: URL(fileURLWithPath: path))
        guard file.metadata["format"] == Checkpoint.format, let yaml = file.metadata["config"] else {
            throw CohortError.invalid("\(path): not a Cohort checkpoint (no format/config metadata)")
        }
        let config = try ConfigLoader.decode(RunConfig.self, yaml: yaml, source: "\(path) (embedded config)")
        if config.training.threads > 0 { BLAS.setThreads(config.training.threads) }
        let data = try DataSplits.load(config.data, seed: config.seed)
        let model = try config.model.build(inputShape: data.train.sampleShape)
        let optimizer = try OptimizerConfig(name: "sgd").makeOptimizer(parameterCount: ParameterArena.layoutCount(model.namedParameters()))
        let session = TrainingSession(model: model, optimizer: optimizer, seed: config.seed)
        try Checkpoint.loadModel(file, into: session.parameters, session.buffers)

        let stages = CompressionStages(communicator: comm, folder: folder, yaml: yaml, runName: folder.lastPathComponent, showProgress: showProgress)
        try stages.prepareFolder()
        let evaluator = try Evaluator(dataset: data.test, batchSize: 500, normalization: data.normalization)
        let original = try evaluator.evaluate(session, communicator: comm)
        let speed = try stages.speed(of: session, data)
        let written = try stages.export(session, yaml, stages.models.appendingPathComponent("original.safetensors"))
        var rows = [stages.row(config.name, "original", original, session, written, speed)]
        stages.say(String(format: "%@: test accuracy %.4f, %d errors", path, original.accuracy, original.errors))
        if quantize {
            let w = try stages.export(session, yaml, stages.models.appendingPathComponent("int8.safetensors"), quantize: true)
            rows.append(stages.row("\(config.name), int8", "int8", try stages.evaluateQuantized(session, data), session, w, speed))
        }
        if let prune {
            let (pruned, w) = try stages.pruneAndFineTune(session, prune: prune, setup: nil, data: data, fileName: "pruned.safetensors")
            let label = String(format: "%@, %.0f%% sparse", config.name, pruned.sparsity * 100)
            rows.append(stages.row(label, "pruned", pruned.evaluation, pruned.session, w, speed))
            if quantize {
                let qw = try stages.export(pruned.session, pruned.yaml, stages.models.appendingPathComponent("pruned-int8.safetensors"),
                                           quantize: true, pruner: pruned.pruner)
                rows.append(stages.row(label + ", int8", "pruned-int8", try stages.evaluateQuantized(pruned.session, data),
                                       pruned.session, qw, speed))
            }
        }
        var summary = "Compressed \(path)"
        if let prune {
            summary += String(format: ": pruned to %.0f%% (%@) in %d rounds of %d fine-tuning steps,", Double(prune.sparsity) * 100,
                              prune.scope, prune.rounds, prune.finetuneSteps)
        }
        summary += quantize ? " int8 per output channel, on" : " on"
        let report = DistillReport(name: config.name, summary: summary, distillation: nil, studentSteps: nil, ranks: comm.size,
                                   seconds: Runtime.now() - started, rows: rows)
        if comm.rank == 0 { try report.write(to: folder) }
        return report
    }
}
