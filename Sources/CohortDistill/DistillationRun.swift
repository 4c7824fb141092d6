import Cohort
import CohortData
import CohortDistributed
import CohortNN
import CohortTrain
import Foundation

/// `cohort distill`: teacher(s) -> transfer set -> distilled student (-> scratch student with the
/// same budget) -> pruned and int8 students -> report. Every training stage is the synchronous
/// trainer (one process or N ranks under mpirun) in a sub-folder of the run folder:
///   <output.directory>/<name>/student, scratch, prune-1..R   (each a full run folder)
///   <output.directory>/<name>/models/*.safetensors           (model-only files: bytes on disk)
///   <output.directory>/<name>/report.md, report.json
public final class DistillationRun {
    let config: RunConfig
    let distill: DistillConfig
    let yaml: String
    let comm: Communicator
    let baseline: Bool
    let showProgress: Bool
    let folder: URL
    var isLeader: Bool { comm.rank == 0 }

    public init(config: RunConfig, configYAML: String, communicator: Communicator, baseline: Bool, showProgress: Bool = true) throws {
        guard let distill = config.distill else {
            throw CohortError.invalid("distill: the config has no distill section (teachers, temperature, alpha, transfer); see configs/distill-fashion.yaml")
        }
        guard config.distributed.mode == "sync" else {
            throw CohortError.invalid("distributed.mode: distillation runs with the synchronous reducer; Hogwild is for cohort train")
        }
        self.config = config
        self.distill = distill
        yaml = configYAML
        comm = communicator
        self.baseline = baseline
        self.showProgress = showProgress
        folder = URL(fileURLWithPath: config.output.directory).appendingPathComponent(config.name)
    }

    func say(_ line: String) { if isLeader { print(line) } }

    /// A sub-run's config: this run's YAML with `overrides`, in this run's folder.
    func subRun(_ name: String, _ overrides: [String]) throws -> (RunConfig, String) {
        try ConfigLoader.decodeWithText(RunConfig.self, yaml: yaml, source: "\(config.name)/\(name)",
                                        overrides: ["name=\(name)", "output.directory=\(folder.path)"] + overrides)
    }

    public func run() throws -> DistillReport {
        let started = Runtime.now()
        if config.training.threads > 0 { BLAS.setThreads(config.training.threads) }
        let data = try DataSplits.load(config.data, seed: config.seed)
        // Every teacher is checked (file, shapes, classes) before any training.
        let teacher = try TeacherEnsemble(paths: distill.teachers, data: data, datasetName: config.data.dataset,
                                          normalization: data.normalization, temperature: distill.temperature)
        let models = folder.appendingPathComponent("models")
        if isLeader {
            do { try FileManager.default.createDirectory(at: models, withIntermediateDirectories: true) } catch {
                throw CohortError.invalid("\(models.path): cannot create the folder: \(error.localizedDescription)")
            }
        }
        var rows: [DistillReport.Row] = []
        let test = data.test
        for (i, m) in teacher.members.enumerated() {
            let single = try TeacherEnsemble(paths: [m.path], data: data, datasetName: config.data.dataset,
                                             normalization: data.normalization, temperature: 1)
            let e = try single.evaluate(on: test, normalization: data.normalization, communicator: comm)
            let speed = try InferenceSpeed.measure(dataset: test, normalization: data.normalization) { _ = try single.probabilities(of: $0, temperature: 1) }
            let file = models.appendingPathComponent("teacher-\(i + 1).safetensors")
            let written = try isLeader ? ModelExport.save(m.session, configYAML: m.configYAML, to: file) : ModelExport.Written(bytes: 0, weightBytes: 0)
            rows.append(.init(name: "teacher \(m.name)", role: "teacher", accuracy: e.accuracy, errors: e.errors, parameters: m.parameterCount,
                              nonzero: Self.nonzero(m.session), bytes: written.bytes, weightBytes: written.weightBytes, samplesPerSecond: speed,
                              file: m.path))
            say(String(format: "teacher %@ (%@): test accuracy %.4f, %d errors", m.name, m.path, e.accuracy, e.errors))
        }
        if teacher.members.count > 1 {
            let e = try teacher.evaluate(on: test, normalization: data.normalization, communicator: comm)
            let speed = try InferenceSpeed.measure(dataset: test, normalization: data.normalization) { _ = try teacher.probabilities(of: $0, temperature: 1) }
            let parts = rows.filter { $0.role == "teacher" }
            rows.append(.init(name: "teacher ensemble (\(teacher.members.count))", role: "ensemble", accuracy: e.accuracy, errors: e.errors,
                              parameters: parts.reduce(0) { $0 + $1.parameters }, nonzero: parts.reduce(0) { $0 + $1.nonzero },
                              bytes: parts.reduce(0) { $0 + $1.bytes }, weightBytes: parts.reduce(0) { $0 + $1.weightBytes },
                              samplesPerSecond: speed, file: nil))
            say(String(format: "teacher ensemble of %d: test accuracy %.4f, %d errors", teacher.members.count, e.accuracy, e.errors))
        }

        // Transfer set and, when the student sees it without on-the-fly augmentation, the cache.
        var t0 = Runtime.now()
        let transfer = try TransferSet.build(distill.transfer, train: data.train, seed: config.seed, communicator: comm)
        say(String(format: "transfer set: %@ x%d, %d examples (%d labelled), built in %.1f s", distill.transfer.set,
                   distill.transfer.multiplier, transfer.dataset.count, transfer.labeled.filter { $0 }.count, Runtime.now() - t0))
        if data.augmentation == .none {
            t0 = Runtime.now()
            try teacher.cacheSoftTargets(for: transfer.dataset, normalization: data.normalization, communicator: comm)
            say(String(format: "teacher soft targets (T = %g) cached for %d examples in %.1f s", distill.temperature, transfer.dataset.count, Runtime.now() - t0))
        }
        let setup = DistillationSetup(transfer: transfer.dataset, labeled: transfer.labeled, teacher: teacher,
                                      temperature: distill.temperature, alpha: distill.alpha)

        // The distilled student.
        let (studentConfig, studentYAML) = try subRun("student", [])
        let student = try Trainer(config: studentConfig, configYAML: studentYAML, communicator: comm, resume: false,
                                  showProgress: showProgress, data: data, distillation: setup)
        say("distilling into the student: \(student.totalSteps) steps")
        let distilled = try student.run()
        let studentSpeed = try speed(of: student.session, data)
        let studentFile = try export(student.session, studentYAML, models.appendingPathComponent("student.safetensors"))
        rows.append(row("distilled student", "distilled", distilled, student.session, studentFile, studentSpeed))

        if baseline {
            let (scratchConfig, scratchYAML) = try subRun("scratch", try baselineOverrides(studentSteps: student.totalSteps,
                                                                                             studentStepsPerEpoch: student.stepsPerEpoch, data: data))
            let scratch = try Trainer(config: scratchConfig, configYAML: scratchYAML, communicator: comm, resume: false,
                                      showProgress: showProgress, data: data)
            say("student from scratch (same steps, same augmentation): \(scratch.totalSteps) steps")
            let e = try scratch.run()
            let file = try export(scratch.session, scratchYAML, models.appendingPathComponent("scratch.safetensors"))
            rows.insert(row("student from scratch", "scratch", e, scratch.session, file, try speed(of: scratch.session, data)),
                        at: rows.firstIndex { $0.role == "distilled" }!)
        }

        // Post-training int8 quantisation of the distilled student.
        if distill.quantize {
            let file = models.appendingPathComponent("student-int8.safetensors")
            let written = try export(student.session, studentYAML, file, quantize: true)
            let e = try evaluateQuantized(student.session, data)
            rows.append(row("distilled student, int8", "int8", e, student.session, written, studentSpeed))
        }

        if let prune = distill.prune {
            let (pruned, file) = try pruneAndFineTune(student, prune: prune, setup: setup, data: data, models: models)
            rows.append(row(String(format: "distilled student, %.0f%% sparse", pruned.sparsity * 100), "pruned", pruned.evaluation,
                            pruned.session, file, studentSpeed))
            if distill.quantize {
                let qfile = models.appendingPathComponent("student-pruned-int8.safetensors")
                let written = try export(pruned.session, pruned.yaml, qfile, quantize: true, pruner: pruned.pruner)
                let e = try evaluateQuantized(pruned.session, data)
                rows.append(row(String(format: "distilled student, %.0f%% sparse, int8", pruned.sparsity * 100), "pruned-int8", e,
                                pruned.session, written, studentSpeed))
            }
        }

        let report = DistillReport(name: config.name, temperature: distill.temperature, alpha: distill.alpha,
                                   transferSet: distill.transfer.set, multiplier: distill.transfer.multiplier,
                                   transferExamples: transfer.dataset.count, studentSteps: student.totalSteps,
                                   ranks: comm.size, seconds: Runtime.now() - started, rows: rows)
        if isLeader { try report.write(to: folder) }
        return report
    }

    struct Pruned {
        let session: TrainingSession
        let pruner: MagnitudePruner
        let evaluation: Evaluation
        let yaml: String
        var sparsity: Double { pruner.sparsity }
    }

    /// Rounds of magnitude pruning (cubic schedule to the target), each followed by fine-tuning
    /// on the distillation loss with the pruned weights held at zero.
    func pruneAndFineTune(_ student: Trainer, prune: PruneConfig, setup: DistillationSetup, data: DataSplits,
                          models: URL) throws -> (Pruned, ModelExport.Written) {
        var current = student.session
        var last: Pruned?
        var masks: [[UInt8]]?
        for round in 1...prune.rounds {
            let target = MagnitudePruner.sparsity(round: round, of: prune.rounds, final: prune.sparsity)
            let steps = max(prune.finetuneSteps, 1)
            let (c, y) = try subRun("prune-\(round)", ["training.max_steps=\(steps)", "training.epochs=1000000",
                                                       "schedule={name: constant}", "optimizer.lr=\(prune.lr)",
                                                       "training.checkpoint_every=0", "training.patience=0"])
            let trainer = try Trainer(config: c, configYAML: y, communicator: comm, resume: false, showProgress: showProgress,
                                      data: data, distillation: setup)
            try trainer.session.parameters.values.assign(current.parameters.values)
            try trainer.session.buffers.values.assign(current.buffers.values)
            let pruner = MagnitudePruner(arena: trainer.session.parameters)
            if let masks { pruner.restore(masks) }
            pruner.prune(to: target, global: prune.scope == "global")
            trainer.afterUpdate = { pruner.apply() }
            say(String(format: "pruning round %d of %d: %.1f%% of %d weights zero, fine-tuning %d steps", round, prune.rounds,
                       pruner.sparsity * 100, pruner.prunableCount, prune.finetuneSteps))
            let e: Evaluation
            if prune.finetuneSteps > 0 {
                e = try trainer.run()
            } else {
                let evaluator = try Evaluator(dataset: data.test, batchSize: 500, normalization: data.normalization)
                e = try evaluator.evaluate(trainer.session, communicator: comm)
            }
            masks = pruner.masks
            current = trainer.session
            last = Pruned(session: trainer.session, pruner: pruner, evaluation: e, yaml: y)
        }
        let file = try export(last!.session, last!.yaml, models.appendingPathComponent("student-pruned.safetensors"), pruner: last!.pruner)
        return (last!, file)
    }

    /// Overrides that give the scratch student the distilled student's number of steps, the same
    /// learning-rate curve per step and the transfer set's augmentation applied on the fly.
    func baselineOverrides(studentSteps: Int, studentStepsPerEpoch: Int, data: DataSplits) throws -> [String] {
        let perRank = (data.train.count + comm.size - 1) / comm.size
        let stepsPerEpoch = max(perRank / (config.training.batchSize * config.training.accumulate), 1)
        var o = ["training.max_steps=\(studentSteps)", "training.epochs=\((studentSteps + stepsPerEpoch - 1) / stepsPerEpoch)"]
        if let s = config.schedule, s.unit == .epochs, s.name != "plateau" {
            // Epoch counts of the transfer set become step counts, so both students see the same rate at every step.
            o.append("schedule.unit=steps")
            if let t = s.tMax { o.append("schedule.t_max=\(t * studentStepsPerEpoch)") }
            if let t = s.stepSize { o.append("schedule.step_size=\(t * studentStepsPerEpoch)") }
            if let m = s.milestones { o.append("schedule.milestones=[\(m.map { String($0 * studentStepsPerEpoch) }.joined(separator: ","))]") }
            if let g = s.gamma, s.name == "exponential" { o.append("schedule.gamma=\(pow(Double(g), 1 / Double(studentStepsPerEpoch)))") }
        }
        let t = distill.transfer, a = config.data.augment
        if t.set == "augmented" || t.set == "unlabeled", t.multiplier > 1 {
            o.append("data.augment.shift=\(max(a.shift, t.shift))")
            o.append("data.augment.flip=\(max(a.flip, t.flip))")
            o.append("data.augment.noise=\(max(a.noise, t.noise / config.data.std))")
        }
        return o
    }

    /// Test evaluation of `session` with its Linear/Conv weights replaced by their int8 round trip
    /// (what `cohort eval` computes from the int8 file; every rank does it, no shared file needed).
    func evaluateQuantized(_ session: TrainingSession, _ data: DataSplits) throws -> Evaluation {
        let saved = session.parameters.values.copy()
        defer { try? session.parameters.values.assign(saved) }
        for e in session.parameters.entries where e.decays && e.shape.count >= 2 {
            let w = session.parameters.values.pointer + e.offset
            let (q, scales) = Int8Quantization.quantize(w, rows: e.shape[0], columns: e.count / e.shape[0])
            Int8Quantization.dequantize(q, scales: scales, rows: e.shape[0], columns: e.count / e.shape[0], into: w)
        }
        let evaluator = try Evaluator(dataset: data.test, batchSize: 500, normalization: data.normalization)
        return try evaluator.evaluate(session, communicator: comm)
    }

    func export(_ session: TrainingSession, _ yaml: String, _ url: URL, quantize: Bool = false,
                pruner: MagnitudePruner? = nil) throws -> ModelExport.Written {
        var written = ModelExport.Written(bytes: 0, weightBytes: 0)
        if isLeader { written = try ModelExport.save(session, configYAML: yaml, to: url, quantize: quantize, pruner: pruner) }
        return written
    }

    func speed(of session: TrainingSession, _ data: DataSplits) throws -> Double {
        let tape = Tape(recording: false)
        return try InferenceSpeed.measure(dataset: data.test, normalization: data.normalization) { _ = try session.predict(Var($0), tape: tape) }
    }

    func row(_ name: String, _ role: String, _ e: Evaluation, _ session: TrainingSession, _ written: ModelExport.Written,
             _ speed: Double) -> DistillReport.Row {
        .init(name: name, role: role, accuracy: e.accuracy, errors: e.errors, parameters: session.parameters.parameterCount,
              nonzero: Self.nonzero(session), bytes: written.bytes, weightBytes: written.weightBytes, samplesPerSecond: speed, file: nil)
    }

    static func nonzero(_ session: TrainingSession) -> Int {
        var n = 0
        let v = session.parameters.values.pointer
        for e in session.parameters.entries { for i in 0..<e.count where v[e.offset + i] != 0 { n += 1 } }
        return n
    }
}
