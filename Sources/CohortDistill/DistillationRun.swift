import Cohort
import CohortData
import CohortDistributed
import CohortNN
import CohortTrain
import Foundation

/// `cohort distill`: teacher(s) -> transfer set (generated images from a VAE for a `generated` set)
/// -> distilled student (-> scratch student with the same budget) -> pruned and int8 students ->
/// report. Every training stage is the synchronous trainer (one process or N ranks under mpirun)
/// in a sub-folder of the run folder:
///   <output.directory>/<name>/student, scratch, prune-1..R   (each a full run folder)
///   <output.directory>/<name>/generator/vae.safetensors      (a generated set's VAE)
///   <output.directory>/<name>/models/*.safetensors           (model-only files: bytes on disk)
///   <output.directory>/<name>/report.md, report.json
/// The teacher labels the transfer set once (`teacher_mode: cached`) or every batch as the student
/// sees it, augmented and mixed afresh (`online`); the scratch student sees the same batches.
public final class DistillationRun {
    let config: RunConfig
    let distill: DistillConfig
    let yaml: String
    let comm: Communicator
    let baseline: Bool
    /// Students (and scratch students) trained in all, from seeds seed, seed + 1, ...: one pair
    /// differs from another by 15-25 test errors on Fashion-MNIST, as much as distillation gains.
    let repeats: Int
    /// Afresh, or continuing the distillation in this folder (`DistillationStart`, `CompressionStages.resume`).
    let start: DistillationStart
    let showProgress: Bool
    /// How the run was started, and its --set overrides (for the report's variant row).
    let command: String
    let overrides: [String]
    let folder: URL
    var isLeader: Bool { comm.rank == 0 }

    public init(config: RunConfig, configYAML: String, communicator: Communicator, baseline: Bool, repeats: Int = 1, start: DistillationStart = .fresh,
                showProgress: Bool = true, command: String = "cohort distill", overrides: [String] = []) throws {
        guard repeats >= 1 else { throw CohortError.invalid("--repeats: must be at least 1, got \(repeats)") }
        guard let distill = config.distill else {
            throw CohortError.invalid("distill: the config has no distill section (teachers, temperature, alpha, transfer); see configs/distill-fashion.yaml")
        }
        guard config.task == .classification else {
            throw CohortError.invalid("task: distillation teaches a student the teacher's class probabilities; this config's task is \(config.task.rawValue)")
        }
        guard config.distributed.mode == .sync else {
            throw CohortError.invalid("distributed.mode: distillation runs with the synchronous reducer; Hogwild is for cohort train")
        }
        self.config = config
        self.distill = distill
        yaml = configYAML
        comm = communicator
        self.baseline = baseline
        self.repeats = repeats
        self.start = start
        self.showProgress = showProgress
        self.command = command
        self.overrides = overrides
        folder = URL(fileURLWithPath: config.output.directory).appendingPathComponent(config.name)
    }

    var matching: TeacherMatching {
        switch distill.loss {
        case .kl: return .kl(temperature: distill.temperature)
        case .logitMSE: return .logitMSE
        }
    }

    public func run() throws -> DistillReport {
        let started = Runtime.now()
        if config.training.threads > 0 { GEMM.setThreads(config.training.threads) }
        let data = try DataSplits.load(config.data, task: config.task, seed: config.seed)
        let resume = try DistillationResume.begin(yaml, in: folder, start: start, communicator: comm)
        let stages = CompressionStages(communicator: comm, folder: folder, yaml: yaml, runName: config.name, data: data.description,
                                       showProgress: showProgress, resume: resume)
        if resume { stages.say("resuming the distillation in \(folder.path): finished sub-runs are evaluated, the others continue from their latest checkpoints") }
        // Every teacher is checked (file, shapes, classes), and so is the batch preparation, before any training.
        let teacher = try TeacherEnsemble(paths: distill.teachers, data: data, dataConfig: config.data,
                                          normalization: data.normalization, matching: matching)
        let (augmentation, mixing) = try batchPreparation(data)
        try stages.prepareFolder()
        var rows = ReportRows()
        try teacherRows(teacher, data, stages, into: &rows)

        // Transfer set (generated images first, for a generated set) and, for a cached teacher, its targets.
        var generated: TransferGenerator.Outcome?
        if let generator = distill.transfer.generator {
            generated = try TransferGenerator.images(generator, train: data.train, count: (distill.transfer.multiplier - 1) * data.train.count,
                                                     seed: config.seed, runFolder: folder, distributed: config.distributed, communicator: comm,
                                                     say: stages.say)
            stages.say(String(format: "generated %d images from the VAE (%@) in %.1f s", generated!.images.shape[0], generated!.source,
                              generated!.seconds))
        }
        var t0 = Runtime.now()
        let transfer = try TransferSet.build(distill.transfer, train: data.train, seed: config.seed, mode: distill.teacherMode,
                                             generated: generated?.images, communicator: comm)
        stages.say(String(format: "transfer set: %@ x%d, %d examples (%d labelled), built in %.1f s", distill.transfer.set.rawValue,
                   distill.transfer.multiplier, transfer.dataset.count, transfer.labeled.filter { $0 }.count, Runtime.now() - t0))
        switch distill.teacherMode {
        case .cached:
            t0 = Runtime.now()
            try teacher.cacheTargets(for: transfer.dataset, normalization: data.normalization, communicator: comm)
            stages.say(String(format: "teacher targets (%@) cached for %d examples in %.1f s", distill.loss.rawValue, transfer.dataset.count, Runtime.now() - t0))
        case .online:
            stages.say("online teacher: every batch augmented (shift \(distill.transfer.shift), flip \(distill.transfer.flip), noise \(distill.transfer.noise))"
                       + ", mixed (mixup \(distill.transfer.mixup), cutmix \(distill.transfer.cutmix)) and labelled as the student sees it")
        }
        let input = TrainingInput(examples: transfer.dataset, augmentation: augmentation, mixing: mixing)
        let setup = DistillationSetup(input: input, labeled: transfer.labeled, teacher: teacher, matching: matching, alpha: distill.alpha)
        // Same steps, epochs, schedule and the very same images (augmented and mixed alike), with labels.
        let scratchInput = baseline
            ? TrainingInput(examples: try Self.scratchSet(transfer, train: data.train), augmentation: augmentation, mixing: mixing) : nil

        // Every student from the same teacher targets: the config's model, or each of distill.students.
        let students = distill.students.map { $0.map { (StudentNames(student: $0.name), $0.model) } } ?? [(StudentNames(student: nil), config.model)]
        var seeds: [DistillReport.SeedResult] = []
        var first: StudentOutcome?
        for (names, model) in students {
            let outcome = try distil(names, model, stages, data: data, setup: setup, scratchInput: scratchInput, rows: &rows)
            seeds += outcome.seeds
            first = first ?? outcome
        }
        let comparison = repeats > 1 ? try compareStudents(students.map(\.0)) : nil
        let choice = try rows.finish(data: data, chooseWithin: Double(distill.chooseWithin), communicator: comm)

        let t = distill.transfer
        let settings = DistillReport.Distillation(teacherMode: distill.teacherMode, loss: distill.loss, temperature: distill.temperature,
                                                  alpha: distill.alpha, transferSet: t.set, multiplier: t.multiplier,
                                                  transferExamples: transfer.dataset.count, shift: t.shift, flip: t.flip, noise: t.noise,
                                                  mixup: t.mixup, cutmix: t.cutmix, epochs: config.training.epochs, teacherShare: first!.teacherShare,
                                                  generator: generated?.source, generatorSeconds: generated?.seconds, command: command,
                                                  overrides: overrides)
        let who = students.count > 1 ? "\(students.count) students, " : ""
        let summary = String(format: "Variant **%@**: transfer set %d examples, %@%d student steps on", settings.variant, transfer.dataset.count,
                             who, first!.steps)
        let report = DistillReport(name: config.name, summary: summary, distillation: settings, studentSteps: first!.steps,
                                   ranks: comm.size, seconds: Runtime.now() - started, rows: rows.rows, seeds: seeds, comparison: comparison,
                                   choice: choice, resumed: resume)
        if isLeader { try report.write(to: folder) }
        return report
    }

    /// What one student's stages leave for the report besides its rows.
    struct StudentOutcome {
        let seeds: [DistillReport.SeedResult]
        let steps: Int
        /// The teacher's share of the distilled student's step time, mean over ranks (nil when it
        /// trained before a resume: no step of it was timed here).
        let teacherShare: Double?
    }

    /// One student's stages: distilled (and from scratch with --baseline), more seeds of both with
    /// --repeats, then int8 and pruned copies of the distilled one, each a row of `rows`.
    private func distil(_ names: StudentNames, _ network: ModelSpec, _ stages: CompressionStages, data: DataSplits,
                        setup: DistillationSetup, scratchInput: TrainingInput?, rows: inout ReportRows) throws -> StudentOutcome {
        let models = stages.models, who = names.student
        let (student, studentYAML) = try studentRun(names.distilledRun(), network, stages, data: data, distillation: setup)
        stages.say("distilling into \(who ?? "the student"): \(student.totalSteps) steps")
        let (distilled, studentTrained) = try stages.train(student)
        let teacherShare = student.step.totals.steps > 0 ? try meanOverRanks(student.step.totals.teacherShare) : nil
        let studentFile = try stages.export(student.model, studentYAML, models.appendingPathComponent(names.distilledFile))
        try stages.add(names.distilledRow, .distilled, distilled, student.model, studentFile, data, student: who, to: &rows)
        var seeds = [DistillReport.SeedResult(student: who, seed: config.seed, scratchErrors: nil, distilledErrors: distilled.errors,
                                              scratchValidation: nil, distilledValidation: rows.rows.last!.validationAccuracy)]
        if let scratchInput {
            let (scratch, scratchYAML) = try studentRun(names.scratchRun(), network, stages, data: data, input: scratchInput)
            stages.say("\(who.map { "\($0)" } ?? "student") from scratch (same steps, same examples with labels): \(scratch.totalSteps) steps")
            let e = try stages.train(scratch).evaluation
            let file = try stages.export(scratch.model, scratchYAML, models.appendingPathComponent(names.scratchFile))
            try stages.add(names.scratchRow, .scratch, e, scratch.model, file, data, student: who, to: &rows, before: .distilled)
            seeds[0] = .init(student: who, seed: config.seed, scratchErrors: e.errors, distilledErrors: distilled.errors,
                             scratchValidation: rows.rows.first { $0.role == .scratch && $0.student == who }!.validationAccuracy,
                             distilledValidation: seeds[0].distilledValidation)
        }

        // More seeds of both students (initialisation, order, augmentation, mixing, dropout; same transfer set and teacher).
        for r in 1..<repeats {
            let seed = config.seed &+ UInt64(r)
            stages.say("\(who ?? "distilled student"), seed \(seed)")
            let (d, dYAML) = try studentRun(names.distilledRun(seed: seed), network, seed: seed, stages, data: data, distillation: setup)
            let dErrors = try stages.train(d).evaluation.errors
            var scratchErrors: Int?, scratchValidation: Double?
            if let scratchInput {
                stages.say("\(who ?? "student") from scratch, seed \(seed)")
                let s = try studentRun(names.scratchRun(seed: seed), network, seed: seed, stages, data: data, input: scratchInput).trainer
                scratchErrors = try stages.train(s).evaluation.errors
                scratchValidation = try stages.validationAccuracy(s.model, data)
            }
            seeds.append(.init(student: who, seed: seed, scratchErrors: scratchErrors, distilledErrors: dErrors, scratchValidation: scratchValidation,
                               distilledValidation: try stages.validationAccuracy(d.model, data)))
            if distill.quantize { seeds[r].int8Errors = try stages.int8Evaluation(d.model, dYAML, data).errors }
        }

        // Post-training int8 quantisation of the distilled student.
        if distill.quantize {
            try stages.addInt8(names.int8Row, .int8, student.model, studentYAML, fileName: names.int8File, data, student: who, to: &rows)
            seeds[0].int8Errors = rows.rows.last!.errors
        }
        if let prune = distill.prune {
            let (pruned, file) = try stages.pruneAndFineTune(student.model, yaml: studentYAML, prune: prune, setup: setup, data: data,
                                                             fileName: names.prunedFile, roundName: names.pruneRun,
                                                             startUpToDate: !studentTrained)
            let label = names.prunedRow(sparsity: pruned.sparsity)
            try stages.add(label, .pruned, pruned.evaluation, pruned.model, file, data, student: who, to: &rows)
            if distill.quantize {
                try stages.addInt8(label + ", int8", .prunedInt8, pruned.model, pruned.yaml, fileName: names.prunedInt8File,
                                   pruner: pruned.pruner, data, student: who, to: &rows)
            }
        }
        return StudentOutcome(seeds: seeds, steps: student.totalSteps, teacherShare: teacherShare)
    }

    /// One row per teacher (its test and validation figures, each evaluated alone at T = 1), and
    /// one for the ensemble when there are several.
    private func teacherRows(_ teacher: TeacherEnsemble, _ data: DataSplits, _ stages: CompressionStages, into rows: inout ReportRows) throws {
        let validation = { (t: TeacherEnsemble) throws -> Double? in
            try data.validation.map { try t.evaluate(on: $0, normalization: data.normalization, communicator: self.comm).accuracy }
        }
        for (i, m) in teacher.members.enumerated() {
            let single = try TeacherEnsemble(paths: [m.path], data: data, dataConfig: config.data, normalization: data.normalization)
            let e = try single.evaluate(on: data.test, normalization: data.normalization, communicator: comm)
            let file = stages.models.appendingPathComponent("teacher-\(i + 1).safetensors")
            let written = try isLeader ? ModelExport.save(m.model, configYAML: m.configYAML, data: m.data, to: file) : ModelExport.Written(bytes: 0, weightBytes: 0)
            rows.append(.init(name: "teacher \(m.name)", role: .teacher, accuracy: e.accuracy, errors: e.errors, parameters: m.parameterCount,
                              nonzero: m.model.nonzeroParameterCount, bytes: written.bytes, weightBytes: written.weightBytes, samplesPerSecond: 0,
                              file: m.path, validationAccuracy: try validation(single))) { _ = try single.probabilities(of: $0, temperature: 1) }
            stages.say(String(format: "teacher %@ (%@): test accuracy %.4f, %d errors", m.name, m.path, e.accuracy, e.errors))
        }
        if teacher.members.count > 1 {
            let e = try teacher.evaluate(on: data.test, normalization: data.normalization, communicator: comm)
            let parts = rows.rows.filter { $0.role == .teacher }
            rows.append(.init(name: "teacher ensemble (\(teacher.members.count))", role: .ensemble, accuracy: e.accuracy, errors: e.errors,
                              parameters: parts.reduce(0) { $0 + $1.parameters }, nonzero: parts.reduce(0) { $0 + $1.nonzero },
                              bytes: parts.reduce(0) { $0 + $1.bytes }, weightBytes: parts.reduce(0) { $0 + $1.weightBytes },
                              samplesPerSecond: 0, file: nil, validationAccuracy: try validation(teacher))) { _ = try teacher.probabilities(of: $0, temperature: 1) }
            stages.say(String(format: "teacher ensemble of %d: test accuracy %.4f, %d errors", teacher.members.count, e.accuracy, e.errors))
        }
    }

    /// How the students' batches are prepared: as loaded (a cached teacher labelled those very
    /// images), or augmented afresh with distill.transfer's shift, flip and noise, then mixed (online).
    func batchPreparation(_ data: DataSplits) throws -> (Augmentation, BatchMixing) {
        guard distill.teacherMode == .online else { return (.none, .none) }
        let t = distill.transfer, shape = data.train.sampleShape
        if (t.shift > 0 || t.flip > 0 || t.cutmix > 0) && !(shape.count == 2 || shape.count == 3) {
            throw CohortError.invalid("distill.transfer: online shifts, flips and cutmix move pixels of images, and these samples are \(shapeString(shape)); set shift: 0, flip: 0 and cutmix: 0")
        }
        // Noise is in [0, 1] pixel units (raw units for real features); the loader adds it after normalising.
        var noise: Float = 0
        if t.noise > 0 {
            guard data.normalization.std.count == 1 else {
                throw CohortError.invalid("distill.transfer.noise: online noise needs one normalisation for every value; this data has \(data.normalization.std.count)")
            }
            noise = t.noise / data.normalization.std[0]
        }
        return (Augmentation(maxShift: t.shift, horizontalFlipProbability: t.flip, noiseStd: noise), BatchMixing(mixup: t.mixup, cutmix: t.cutmix))
    }

    /// The mean over ranks of a figure each rank measured.
    private func meanOverRanks(_ value: Double) throws -> Double {
        var v = [value]
        try comm.allreduce(&v)
        return v[0] / Double(comm.size)
    }

    /// A student sub-run of `network` in `folder/name` (with another `seed` than the config's, when
    /// given): distilled from `distillation`, or trained on `input` with its labels. Its config is
    /// the run's with this network as its model (and no other students).
    private func studentRun(_ name: String, _ network: ModelSpec, seed: UInt64? = nil, _ stages: CompressionStages, data: DataSplits,
                            distillation: DistillationSetup? = nil, input: TrainingInput? = nil) throws -> (trainer: Trainer, yaml: String) {
        let (c, y) = try stages.subRun(name) { c in
            c.model = network
            c.distill?.students = nil
            if let seed { c.seed = seed }
        }
        return (try stages.trainer(c, yaml: y, data: data, input: input, distillation: distillation).trainer, y)
    }

    /// `cohort compare` of every student sub-run (each student's distilled runs, then its scratch
    /// ones with `--baseline`), into `compare-students/`; returns its report's path relative to the run folder.
    private func compareStudents(_ students: [StudentNames]) throws -> String {
        let seeds = (0..<repeats).map { $0 == 0 ? nil : config.seed &+ UInt64($0) }
        let names = students.flatMap { n in seeds.map(n.distilledRun) + (baseline ? seeds.map(n.scratchRun) : []) }
        let folderName = "compare-students"
        if isLeader {
            let comparison = try RunComparison.load(names.map { folder.appendingPathComponent($0).path })
            try comparison.write(to: folder.appendingPathComponent(folderName))
        }
        return "\(folderName)/report.md"
    }

    /// What the scratch student trains on: the transfer set's examples that have labels, in the
    /// transfer set's shape, so both students take the same steps over the same epochs with the
    /// same schedule. Augmented copies keep their labels, so the scratch student sees exactly the
    /// distilled student's images (online: the same fresh augmentation and mixing, drawn from the
    /// same streams); MUNGE points, generated and extra images have none, so in their place it sees
    /// the training set again.
    static func scratchSet(_ transfer: TransferSet, train: Dataset) throws -> Dataset {
        if !transfer.labeled.contains(false) { return transfer.dataset }
        // Rows 0..<n of every transfer set are the training set, stored with its labels.
        let n = train.count
        var next = 0
        let rows = transfer.labeled.indices.map { p -> Int in
            if transfer.labeled[p] { return p }
            defer { next += 1 }
            return next % n
        }
        return try transfer.dataset.subset(rows)
    }

}
