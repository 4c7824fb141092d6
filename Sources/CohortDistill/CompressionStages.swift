import Cohort
import CohortData
import CohortDistributed
import CohortNN
import CohortOptim
import CohortTrain
import Foundation

/// The stages `cohort distill` and `cohort compress` share: sub-runs in the run folder, pruning
/// with fine-tuning, int8 evaluation, model-only exports, inference speed and report rows.
final class CompressionStages {
    let comm: Communicator
    /// The run folder; sub-runs are folders inside it, model-only files go to `models/`.
    let folder: URL
    var models: URL { folder.appendingPathComponent("models") }
    /// The YAML sub-runs start from (the run's resolved config, or a checkpoint's embedded one).
    let yaml: String
    let runName: String
    /// What every model here is trained on (saved in each model file).
    let data: DataDescription
    let showProgress: Bool
    /// A resumed run (`cohort distill --resume`): a sub-run whose folder holds a latest checkpoint
    /// continues from it, and one that had finished is evaluated, not trained again.
    let resume: Bool
    var isLeader: Bool { comm.rank == 0 }

    init(communicator: Communicator, folder: URL, yaml: String, runName: String, data: DataDescription, showProgress: Bool,
         resume: Bool = false) {
        comm = communicator
        self.folder = folder
        self.yaml = yaml
        self.runName = runName
        self.data = data
        self.showProgress = showProgress
        self.resume = resume
    }

    /// The trainer of sub-run `config`, and whether it continues from its folder's latest
    /// checkpoint: in a resumed run, when it has one and `upToDate` (what it starts from was not
    /// trained again in this start). A resumed run injects no test fault (COHORT_INJECT_*) into any
    /// sub-run, so a restarted job can finish, as a resumed `cohort train` does.
    func trainer(_ config: RunConfig, yaml: String, data: DataSplits, input: TrainingInput? = nil, distillation: DistillationSetup?,
                 upToDate: Bool = true) throws -> (trainer: Trainer, resumed: Bool) {
        let resumed = try resume && upToDate && Trainer.hasLatestCheckpoint(config, comm)
        let trainer = try Trainer(config: config, configYAML: yaml, communicator: comm, resume: resumed, showProgress: showProgress,
                                  data: data, input: input, distillation: distillation)
        if resume { trainer.step.faults = FaultInjection() }
        if resumed {
            say(trainer.hasFinished ? "\(config.name): finished before the resume; evaluated, not trained again"
                                    : "\(config.name): resumed from its latest checkpoint, step \(trainer.currentStep) of \(trainer.totalSteps)")
        }
        return (trainer, resumed)
    }

    /// Trains `trainer` to its end and returns its test evaluation; a resumed sub-run that had
    /// finished is only evaluated (its folder, curves and report stay as they were written).
    func train(_ trainer: Trainer) throws -> (evaluation: Evaluation, trained: Bool) {
        if trainer.hasFinished { return (try trainer.testEvaluation(), false) }
        return (try trainer.run(), true)
    }

    func say(_ line: String) { if isLeader { print(line) } }

    func prepareFolder() throws {
        guard isLeader else { return }
        do { try FileManager.default.createDirectory(at: models, withIntermediateDirectories: true) } catch {
            throw CohortError.invalid("\(models.path): cannot create the folder: \(error.localizedDescription)")
        }
    }

    /// A sub-run's config and its resolved YAML: this run's config named `name`, in this run's
    /// folder, changed by `change` (typed: no YAML is written by hand).
    func subRun(_ name: String, from base: String? = nil, _ change: (inout RunConfig) -> Void = { _ in }) throws -> (RunConfig, String) {
        let source = "\(runName)/\(name)"
        var config = try ConfigLoader.decode(RunConfig.self, yaml: base ?? yaml, source: source)
        config.name = name
        config.output.directory = folder.path
        change(&config)
        return try ConfigLoader.resolved(config, source: source)
    }

    struct Pruned {
        let model: Model
        let pruner: MagnitudePruner
        let evaluation: Evaluation
        let yaml: String
        var sparsity: Double { pruner.sparsity }
    }

    /// Rounds of magnitude pruning (cubic schedule to the target), each followed by fine-tuning
    /// with the pruned weights held at zero: on the distillation loss when `setup` is given, else
    /// on the labels. Each round's rate falls from `prune.lr` to 0 on a cosine, so the weights
    /// settle after each cut instead of ending on a large constant step. Round K's sub-run is
    /// `roundName(K)`, from `yaml` (the model's own config). Writes `models/<fileName>` with the masks.
    /// In a resumed run the rounds resume while `startUpToDate` (`start` is the model they pruned before).
    func pruneAndFineTune(_ start: Model, yaml base: String? = nil, prune: PruneConfig, setup: DistillationSetup?, data: DataSplits,
                          fileName: String, roundName: (Int) -> String = { "prune-\($0)" },
                          startUpToDate: Bool = true) throws -> (Pruned, ModelExport.Written) {
        var current = start
        var last: Pruned?
        var masks: [[UInt8]]?
        // A round resumes only if the model it starts from is the one it started from before.
        var upToDate = startUpToDate
        for round in 1...prune.rounds {
            let target = MagnitudePruner.sparsity(round: round, of: prune.rounds, final: prune.sparsity)
            let steps = max(prune.finetuneSteps, 1)
            let (c, y) = try subRun(roundName(round), from: base) { c in
                c.training.maxSteps = steps
                c.training.epochs = 1_000_000
                c.schedule = ScheduleConfig(.cosine(tMax: steps, unit: .steps))
                c.optimizer.lr = prune.lr
                c.training.checkpointEvery = 0
                c.training.patience = 0
            }
            let (trainer, resumed) = try self.trainer(c, yaml: y, data: data, distillation: setup, upToDate: upToDate)
            let pruner = MagnitudePruner(arena: trainer.session.parameters)
            if resumed {
                // The round's checkpoint was saved with its pruned weights at zero (held there after every
                // update): those zeros are its masks, this round's and every earlier one's.
                pruner.restore(pruner.masksOfZeroWeights())
            } else {
                trainer.model.assign(from: current)
                if let masks { pruner.restore(masks) }
                pruner.prune(to: target, global: prune.scope == .global)
            }
            trainer.afterUpdate = { pruner.apply() }
            say(String(format: "pruning round %d of %d: %.1f%% of %d weights zero, fine-tuning %d steps", round, prune.rounds,
                       pruner.sparsity * 100, pruner.prunableCount, prune.finetuneSteps))
            let e: Evaluation
            if prune.finetuneSteps > 0 {
                let outcome = try train(trainer)
                e = outcome.evaluation
                upToDate = upToDate && !outcome.trained
            } else {
                e = try evaluate(trainer.model, data)
            }
            masks = pruner.masks
            current = trainer.model
            last = Pruned(model: trainer.model, pruner: pruner, evaluation: e, yaml: y)
        }
        let file = try export(last!.model, last!.yaml, models.appendingPathComponent(fileName), pruner: last!.pruner)
        return (last!, file)
    }

    /// `model` as it is deployed: its batch norms folded into the convolution or linear layer before
    /// them (`BatchNormFolding`), with the resolved YAML of the folded network; `model` and `yaml`
    /// themselves when nothing folds. The masks of `pruner`, if given, carry over (the folded model
    /// has the same weights in the same order).
    func deployable(_ model: Model, _ yaml: String, pruner: MagnitudePruner? = nil) throws -> (Model, String, MagnitudePruner?) {
        guard let folded = try model.foldingBatchNorm(), let spec = folded.spec else { return (model, yaml, pruner) }
        let source = "\(runName) (batch norm folded)"
        var config = try ConfigLoader.decode(RunConfig.self, yaml: yaml, source: source)
        config.model = spec
        let (_, text) = try ConfigLoader.resolved(config, source: source)
        let masks = pruner.map { p -> MagnitudePruner in
            let carried = MagnitudePruner(arena: folded.parameters)
            carried.restore(p.masks)
            return carried
        }
        return (folded, text, masks)
    }

    /// The int8 model of `model` (trained with config `yaml`): batch norms folded (`deployable`),
    /// written to models/`fileName` as int8, and its report row, evaluated as that file computes.
    func addInt8(_ name: String, _ role: DistillReport.Role, _ model: Model, _ yaml: String, fileName: String, pruner: MagnitudePruner? = nil,
                 _ data: DataSplits, student: String? = nil, to rows: inout ReportRows) throws {
        let (deployed, deployedYAML, masks) = try deployable(model, yaml, pruner: pruner)
        let written = try export(deployed, deployedYAML, models.appendingPathComponent(fileName), quantize: true, pruner: masks)
        let int8 = try quantized(deployed, deployedYAML)
        try add(name, role, try evaluate(int8, data), int8, written, data, student: student, to: &rows)
    }

    /// The test evaluation of `model` (trained with config `yaml`) as an int8 model, deployed as
    /// `addInt8` deploys it, without writing a file.
    func int8Evaluation(_ model: Model, _ yaml: String, _ data: DataSplits) throws -> Evaluation {
        let (deployed, deployedYAML, _) = try deployable(model, yaml)
        return try evaluate(try quantized(deployed, deployedYAML), data)
    }

    /// `model` as its int8 file computes it: a copy whose Linear and Conv2d weights are int8 (integer
    /// products on quantised activations) and whose other weights are their int8 round trip, as
    /// `cohort eval` and `cohort predict` load the file. Every rank makes its own; no file is read.
    func quantized(_ model: Model, _ yaml: String) throws -> Model {
        let config = try ConfigLoader.decode(RunConfig.self, yaml: yaml, source: "\(runName) (int8 copy)")
        let copy = try Model(spec: config.model, inputShape: model.inputShape)
        copy.assign(from: model)
        for e in copy.parameters.entries where e.decays && e.shape.count >= 2 {
            let w = copy.parameters.values.pointer + e.offset
            let (q, scales) = Int8Quantization.quantize(w, rows: e.shape[0], columns: e.count / e.shape[0])
            Int8Quantization.dequantize(q, scales: scales, rows: e.shape[0], columns: e.count / e.shape[0], into: w)
        }
        copy.quantizeInt8Layers()
        return copy
    }

    func evaluate(_ model: Model, _ data: DataSplits) throws -> Evaluation {
        try Evaluator(dataset: data.test, batchSize: 500, normalization: data.normalization).evaluate(model, communicator: comm)
    }

    /// The model's accuracy on the validation split (what variants are chosen on); nil without one.
    func validationAccuracy(_ model: Model, _ data: DataSplits) throws -> Double? {
        guard let validation = data.validation else { return nil }
        return try Evaluator(dataset: validation, batchSize: 500, normalization: data.normalization).evaluate(model, communicator: comm).accuracy
    }

    func export(_ model: Model, _ yaml: String, _ url: URL, quantize: Bool = false,
                pruner: MagnitudePruner? = nil) throws -> ModelExport.Written {
        var written = ModelExport.Written(bytes: 0, weightBytes: 0)
        if isLeader { written = try ModelExport.save(model, configYAML: yaml, data: data, to: url, quantize: quantize, pruner: pruner) }
        return written
    }

    /// `model`'s report row (its test figures, validation accuracy and sizes; its speed is measured
    /// with every other row's at the end) added to `rows`.
    func add(_ name: String, _ role: DistillReport.Role, _ e: Evaluation, _ model: Model, _ written: ModelExport.Written,
             _ data: DataSplits, student: String? = nil, to rows: inout ReportRows, before: DistillReport.Role? = nil) throws {
        let row = DistillReport.Row(name: name, role: role, accuracy: e.accuracy, errors: e.errors, parameters: model.parameters.parameterCount,
                                    nonzero: model.nonzeroParameterCount, bytes: written.bytes, weightBytes: written.weightBytes,
                                    samplesPerSecond: 0, file: nil, student: student, validationAccuracy: try validationAccuracy(model, data))
        // Speeds are the deployed model's: batch norms folded, as in the int8 files and ONNX exports.
        let deployed = try BatchNormFolding.deployed(model)
        let predict: (Tensor) throws -> Void = { _ = try deployed.predict($0) }
        if let before { rows.insert(row, predict, before: before, of: student) } else { rows.append(row, predict) }
    }
}
