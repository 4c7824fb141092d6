import XCTest
import Cohort
import CohortFormats
@testable import CohortTrain

/// `cohort distill` end to end: a small teacher, MUNGE transfer set, scratch baseline, pruning,
/// int8 that `cohort eval` reads, two ranks, and teachers that must be rejected before training.
final class DistillCLITests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(CLI.hasFashionMNIST, "Fashion-MNIST is not installed (launch/setup installs it)")
    }

    /// Trains the small teacher once per test (about a second).
    func teacher(_ dir: URL) throws -> String {
        let url = dir.appendingPathComponent("teacher.yaml")
        try CLI.smallConfig(name: "teacher", extra: "output: {directory: \(dir.path)}\n").write(to: url, atomically: true, encoding: .utf8)
        let r = try CLI.run(["cohort", "train", url.path, "--set", "data.train_limit=6000", "--set", "training.epochs=2", "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        return dir.appendingPathComponent("teacher/checkpoints/latest.safetensors").path
    }

    /// The distillation config of these tests; `students` (a `distill.students` list, indented for
    /// the section) replaces the model and pruning.
    func distillConfig(_ dir: URL, teachers: [String], name: String = "distill", students: String? = nil) throws -> String {
        let model = """
        model:
          layers:
            - {type: flatten}
            - {type: linear, out: 16}
            - {type: relu}
            - {type: linear, out: 10}
        """
        let text = """
        name: \(name)
        seed: 4
        data: {validation: 1000, train_limit: 3000}
        \(students == nil ? model : "")
        optimizer: {name: sgd, lr: 0.05, momentum: 0.9}
        schedule: {name: cosine, t_max: 2, unit: epochs}
        training: {epochs: 2, batch_size: 64, log_every: 20}
        output: {directory: \(dir.path)}
        distill:
          teachers: [\(teachers.joined(separator: ", "))]
          temperature: 4
          alpha: 0.8
          transfer: {set: munge, multiplier: 2, munge_p: 0.5, munge_s: 2}
        \(students ?? "  prune: {sparsity: 0.8, rounds: 2, finetune_steps: 20, lr: 0.01}")
          quantize: true
        """
        let url = dir.appendingPathComponent("\(name).yaml")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func report(_ dir: URL, _ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: dir.appendingPathComponent("\(name)/report.json"))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    func testDistillBaselinePruneQuantiseAndEvalTheInt8File() throws {
        let dir = try CLI.temporaryDirectory()
        let t = try teacher(dir)
        let config = try distillConfig(dir, teachers: [t, t])
        let r = try CLI.run(["cohort", "distill", config, "--baseline", "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("closed"), r.stdout)
        let json = try report(dir, "distill")
        let rows = json["rows"] as! [[String: Any]]
        XCTAssertEqual(rows.map { $0["role"] as! String }, ["teacher", "teacher", "ensemble", "scratch", "distilled", "int8", "pruned", "pruned-int8"])
        XCTAssertNotNil(json["gapClosed"] as? Double)
        // Both students took the same number of steps: the transfer set is twice the training set.
        XCTAssertEqual(json["studentSteps"] as? Int, 2 * (6000 / 64))
        let scratchSteps = try String(contentsOf: dir.appendingPathComponent("distill/scratch/metrics.jsonl"), encoding: .utf8)
            .split(separator: "\n").compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
            .compactMap { $0["step"] as? Int }.max()
        XCTAssertEqual(scratchSteps, json["studentSteps"] as? Int)

        let int8Row = rows.first { $0["role"] as? String == "int8" }!, floatRow = rows.first { $0["role"] as? String == "distilled" }!
        XCTAssertLessThan(Double(int8Row["weightBytes"] as! Int) * 3.9, Double(floatRow["weightBytes"] as! Int))
        // cohort eval runs the int8 file and finds the accuracy the report gives it.
        let int8File = dir.appendingPathComponent("distill/models/student-int8.safetensors").path
        let e = try CLI.run(["cohort", "eval", int8File])
        XCTAssertEqual(e.status, 0, e.stderr)
        XCTAssertTrue(e.stdout.contains(String(format: "test accuracy %.4f", int8Row["accuracy"] as! Double)), "\(e.stdout) vs \(int8Row)")
        let q = try Safetensors.read(from: URL(fileURLWithPath: int8File))
        XCTAssertEqual(q.tensors["1.weight"]?.dtype, .i8)

        // The pruned file keeps its masks, and 80% of the weights are zero.
        let pruned = try Safetensors.read(from: dir.appendingPathComponent("distill/models/student-pruned.safetensors"))
        let mask: [UInt8] = try pruned.tensor("mask.1.weight").values()
        let w1 = try pruned.floatTensor("1.weight"), w3 = try pruned.floatTensor("3.weight")
        let zeros = (w1.scalars + w3.scalars).filter { $0 == 0 }.count
        XCTAssertEqual(Double(zeros) / Double(w1.count + w3.count), 0.8, accuracy: 0.001)
        for (m, v) in zip(mask, w1.scalars) where m == 0 { XCTAssertEqual(v, 0) }
    }

    /// --repeats 3 trains students from seeds 4, 5 and 6; the first pair is the table's, the others
    /// differ from it, and the mean gap is computed from the listed errors.
    func testRepeatsReportEverySeedAndTheMeanGap() throws {
        let dir = try CLI.temporaryDirectory()
        let t = try teacher(dir)
        let config = try distillConfig(dir, teachers: [t])
        let r = try CLI.run(["cohort", "distill", config, "--baseline", "--repeats", "3", "--set", "distill.prune=null", "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("Over 3 seeds (4, 5, 6"), r.stdout)
        let json = try report(dir, "distill")
        let rows = json["rows"] as! [[String: Any]]
        let errors = { (role: String) in rows.first { $0["role"] as? String == role }!["errors"] as! Int }
        let seeds = json["seeds"] as! [[String: Any]]
        XCTAssertEqual(seeds.map { $0["seed"] as? Int }, [4, 5, 6])
        XCTAssertEqual(seeds[0]["distilledErrors"] as? Int, errors("distilled"))
        XCTAssertEqual(seeds[0]["scratchErrors"] as? Int, errors("scratch"))
        // Every seed's student as int8 too: the first is the int8 row's, and the report lists them.
        XCTAssertEqual(seeds[0]["int8Errors"] as? Int, errors("int8"))
        let int8 = seeds.compactMap { $0["int8Errors"] as? Int }
        XCTAssertEqual(int8.count, 3)
        XCTAssertTrue(r.stdout.contains("as int8 \(int8.map(String.init).joined(separator: ", "))"), r.stdout)
        let distilled = seeds.map { $0["distilledErrors"] as! Int }, scratch = seeds.map { $0["scratchErrors"] as! Int }
        XCTAssertGreaterThan(Set(distilled).count + Set(scratch).count, 2, "other seeds should train other students")
        let s = Double(scratch.reduce(0, +)) / 3, d = Double(distilled.reduce(0, +)) / 3, teacherErrors = Double(errors("teacher"))
        XCTAssertEqual(json["meanGapClosed"] as! Double, (s - d) / (s - teacherErrors), accuracy: 1e-9)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("distill/scratch-seed6/metrics.jsonl").path))
        // The report links a `cohort compare` of the six students, which names the seed as their difference.
        XCTAssertEqual(json["comparison"] as? String, "compare-students/report.md")
        XCTAssertTrue(r.stdout.contains("[compare-students/report.md](compare-students/report.md)"), r.stdout)
        let comparison = try report(dir, "distill/compare-students")
        XCTAssertEqual((comparison["runs"] as! [[String: Any]]).map { $0["label"] as? String },
                       ["student", "student-seed5", "student-seed6", "scratch", "scratch-seed5", "scratch-seed6"])
        XCTAssertTrue((comparison["differences"] as! [[String: Any]]).contains { $0["key"] as? String == "seed" })

        let bad = try CLI.run(["cohort", "distill", config, "--repeats", "0", "--quiet"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("--repeats: must be at least 1"), bad.stderr)
    }

    /// A distillation killed in its student's training (SIGKILL at step 150 of 186, after the
    /// epoch-1 checkpoint) and continued with --resume ends as a run never killed: the same rows,
    /// seeds, student checkpoint and pruned file; so does one stopped by SIGTERM. Resuming it once
    /// more trains nothing (every sub-run, the pruning rounds too, is evaluated from its checkpoint)
    /// and changes no figure.
    func testAKilledDistillationResumesToTheSameReport() throws {
        let dir = try CLI.temporaryDirectory()
        let t = try teacher(dir)
        let options = ["--baseline", "--repeats", "2", "--quiet"]
        let whole = try CLI.run(["cohort", "distill", try distillConfig(dir, teachers: [t], name: "whole")] + options)
        XCTAssertEqual(whole.status, 0, whole.stderr)

        let config = try distillConfig(dir, teachers: [t], name: "killed")
        let killed = try CLI.run(["cohort", "distill", config] + options, environment: ["COHORT_INJECT_KILL": "0:150"])
        XCTAssertNotEqual(killed.status, 0, "the injected SIGKILL should end the first start")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("killed/report.json").path))
        let resumed = try CLI.run(["cohort", "distill", config, "--resume"] + options, environment: ["COHORT_INJECT_KILL": "0:150"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stdout.contains("student: resumed from its latest checkpoint, step 93 of 186"), resumed.stdout)
        try assertSameFigures(try report(dir, "whole"), try report(dir, "killed"))
        try assertSameTensors(dir.appendingPathComponent("whole/student/checkpoints/latest.safetensors"),
                              dir.appendingPathComponent("killed/student/checkpoints/latest.safetensors"))
        try assertSameTensors(dir.appendingPathComponent("whole/models/student-pruned.safetensors"),
                              dir.appendingPathComponent("killed/models/student-pruned.safetensors"))

        // SIGTERM in the student's training: the step ends, its checkpoint is saved, and --resume finishes the same run.
        let stoppedConfig = try distillConfig(dir, teachers: [t], name: "stopped")
        let p = Process()
        p.executableURL = CLI.binary
        p.arguments = ["distill", stoppedConfig] + options
        p.environment = CLI.environment
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let metrics = dir.appendingPathComponent("stopped/student/metrics.jsonl").path
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, ((try? String(contentsOfFile: metrics, encoding: .utf8))?.split(separator: "\n").count ?? 0) < 3 {
            usleep(5_000)
        }
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(p.terminationStatus, 143, message)
        XCTAssertTrue(message.contains("stopped by SIGTERM after step") && message.contains("--resume"), message)
        let stoppedResumed = try CLI.run(["cohort", "distill", stoppedConfig, "--resume"] + options)
        XCTAssertEqual(stoppedResumed.status, 0, stoppedResumed.stderr)
        try assertSameFigures(try report(dir, "whole"), try report(dir, "stopped"))

        // Once more on the finished run: nothing is trained (the curves are untouched), the figures stay.
        let curves = dir.appendingPathComponent("killed/prune-2/metrics.jsonl")
        let before = try Data(contentsOf: curves)
        let again = try CLI.run(["cohort", "distill", config, "--resume"] + options)
        XCTAssertEqual(again.status, 0, again.stderr)
        for name in ["student", "scratch", "student-seed5", "scratch-seed5", "prune-1", "prune-2"] {
            XCTAssertTrue(again.stdout.contains("\(name): finished before the resume; evaluated, not trained again"), "\(name): \(again.stdout)")
        }
        XCTAssertEqual(try Data(contentsOf: curves), before)
        let final = try report(dir, "killed")
        XCTAssertEqual(final["resumed"] as? Bool, true)
        XCTAssertNil((final["distillation"] as! [String: Any])["teacherShare"], "no student step was timed in that start")
        try assertSameFigures(try report(dir, "whole"), final)
        try assertSameTensors(dir.appendingPathComponent("whole/models/student-pruned.safetensors"),
                              dir.appendingPathComponent("killed/models/student-pruned.safetensors"))

        // Another config, or nothing to resume: one line naming the file and what differs.
        let other = try CLI.run(["cohort", "distill", config, "--resume", "--set", "distill.temperature=2"] + options)
        XCTAssertNotEqual(other.status, 0)
        XCTAssertTrue(other.stderr.contains("killed/config.yaml: the run was started with another config (line")
                      && other.stderr.contains("temperature: 4") && other.stderr.contains("temperature: 2"), other.stderr)
        XCTAssertEqual(other.stderr.split(separator: "\n").count, 1, other.stderr)
        let absent = try CLI.run(["cohort", "distill", config, "--resume", "--set", "name=absent"] + options)
        XCTAssertNotEqual(absent.status, 0)
        XCTAssertTrue(absent.stderr.contains("absent: no distillation to resume there; start it without --resume"), absent.stderr)
    }

    /// launch/distill --restarts 1 under 2 ranks, rank 1 killed at step 150 of the student's 186:
    /// the job starts again, resumes the student from its epoch-1 checkpoint and ends with its report.
    func testRestartsFinishAKilledDistillationUnderTwoRanks() throws {
        try XCTSkipUnless(CLI.hasMPI, "mpirun is not installed (launch/setup installs openmpi-bin)")
        let dir = try CLI.temporaryDirectory()
        let t = try teacher(dir)
        let config = try distillConfig(dir, teachers: [t])
        let launch = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("launch/distill").path
        let r = try CLI.run([launch, "--no-setup", "-n", "2", "--restarts", "1", config, "--set", "training.batch_size=32",
                             "--set", "distill.prune={sparsity: 0.5, rounds: 1, finetune_steps: 10, lr: 0.01}", "--quiet"],
                            environment: ["COHORT_BIN": CLI.binary.path, "COHORT_INJECT_KILL": "1:150"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("restart 1 of 1, from the latest checkpoint"), r.stderr)
        XCTAssertTrue(r.stdout.contains("student: resumed from its latest checkpoint, step 93 of 186"), r.stdout)
        let json = try report(dir, "distill")
        XCTAssertEqual(json["ranks"] as? Int, 2)
        XCTAssertEqual(json["resumed"] as? Bool, true)
        let distilled = (json["rows"] as! [[String: Any]]).first { $0["role"] as? String == "distilled" }!
        XCTAssertGreaterThan(distilled["accuracy"] as! Double, 0.7)
    }

    /// Every row's test and validation figures, and every seed's errors, the same in both reports.
    func assertSameFigures(_ a: [String: Any], _ b: [String: Any], file: StaticString = #filePath, line: UInt = #line) throws {
        let rows = { (r: [String: Any]) in (r["rows"] as! [[String: Any]]).map { row in
            ["name", "errors", "accuracy", "validationAccuracy", "nonzero", "weightBytes"].map { "\(row[$0] ?? "-")" }.joined(separator: " ") } }
        XCTAssertEqual(rows(a), rows(b), file: file, line: line)
        let seeds = { (r: [String: Any]) in (r["seeds"] as! [[String: Any]]).map { s in
            ["seed", "distilledErrors", "scratchErrors", "distilledValidation", "scratchValidation", "int8Errors"].map { "\(s[$0] ?? "-")" }.joined(separator: " ") } }
        XCTAssertEqual(seeds(a), seeds(b), file: file, line: line)
    }

    func assertSameTensors(_ a: URL, _ b: URL, file: StaticString = #filePath, line: UInt = #line) throws {
        let x = try Safetensors.read(from: a), y = try Safetensors.read(from: b)
        XCTAssertEqual(x.names.sorted(), y.names.sorted(), file: file, line: line)
        for name in x.names {
            XCTAssertTrue(try x.tensor(name) == y.tensor(name), "\(name) differs between \(a.path) and \(b.path)", file: file, line: line)
        }
    }

    /// The variants of issue 19 end to end: an online teacher on mixed (mixup and CutMix) batches
    /// with the scratch student on the very same batches, a generated transfer set from a VAE
    /// trained in the run folder, logit matching; `cohort compare` of the runs names the best on
    /// validation.
    func testOnlineMixedGeneratedAndLogitVariantsAndTheirComparison() throws {
        let dir = try CLI.temporaryDirectory()
        let t = try teacher(dir)
        let config = try distillConfig(dir, teachers: [t])
        let quick = ["--set", "distill.prune=null", "--set", "distill.quantize=false", "--quiet", "--baseline"]
        let online = try CLI.run(["cohort", "distill", config, "--set", "name=online", "--set", "distill.teacher_mode=online",
                                  "--set", "distill.transfer={set: augmented, multiplier: 2, shift: 1, flip: 0.5, mixup: 0.4, cutmix: 1}"] + quick)
        XCTAssertEqual(online.status, 0, online.stderr)
        let report = try self.report(dir, "online")
        let settings = report["distillation"] as! [String: Any]
        XCTAssertEqual(settings["teacherMode"] as? String, "online")
        XCTAssertEqual(settings["mixup"] as? Double, 0.4)
        let share = settings["teacherShare"] as! Double
        XCTAssertTrue(share > 0 && share < 1, "the teacher's share of step time: \(share)")
        let seed = (report["seeds"] as! [[String: Any]])[0]
        XCTAssertNotNil(seed["distilledValidation"] as? Double)
        XCTAssertNotNil(seed["scratchValidation"] as? Double)
        XCTAssertTrue(online.stdout.contains("## Variant") && online.stdout.contains("online, augmented x2, mixup 0.4, cutmix 1"), online.stdout)
        // Both students took the same steps over the same (freshly augmented, mixed) batches.
        func lastStep(_ run: String) throws -> Int? {
            try String(contentsOf: dir.appendingPathComponent("online/\(run)/metrics.jsonl"), encoding: .utf8)
                .split(separator: "\n").compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
                .compactMap { $0["step"] as? Int }.max()
        }
        XCTAssertEqual(try lastStep("scratch"), report["studentSteps"] as? Int)
        XCTAssertEqual(try lastStep("student"), report["studentSteps"] as? Int)

        let generated = try CLI.run(["cohort", "distill", config, "--set", "name=generated", "--set", "distill.loss=logit_mse",
                                     "--set", "distill.transfer={set: generated, multiplier: 2, generator: {hidden: 32, latent: 4, epochs: 2}}"] + quick)
        XCTAssertEqual(generated.status, 0, generated.stderr)
        XCTAssertTrue(generated.stdout.contains("generator epoch 2/2") && generated.stdout.contains("trained, saved to"), generated.stdout)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("generated/generator/vae.safetensors").path))
        let g = try self.report(dir, "generated")["distillation"] as! [String: Any]
        XCTAssertEqual(g["transferSet"] as? String, "generated")
        XCTAssertEqual(g["loss"] as? String, "logit_mse")
        XCTAssertEqual(g["transferExamples"] as? Int, 2 * 3000)

        let out = dir.appendingPathComponent("variants")
        let compare = try CLI.run(["cohort", "compare", dir.appendingPathComponent("online").path, dir.appendingPathComponent("generated").path,
                                   "--output", out.path])
        XCTAssertEqual(compare.status, 0, compare.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("report.json"))) as! [String: Any]
        let variants = json["variants"] as! [[String: Any]]
        XCTAssertEqual(variants.map { $0["run"] as? String }, ["online", "generated"])
        let best = variants.max { ($0["distilledValidation"] as! Double) < ($1["distilledValidation"] as! Double) }!
        XCTAssertEqual(json["bestOnValidation"] as? String, best["run"] as? String)
        XCTAssertTrue(compare.stdout.contains("Best on validation"), compare.stdout)
        // The runs' fronts overlaid, a colour each, every one visible.
        let fronts = try RenderedChart(out.appendingPathComponent("front.svg"))
        XCTAssertEqual(fronts.legendNames, ["online", "generated"])
        fronts.assertEverySeriesVisible(out.appendingPathComponent("front.svg"), minimum: 20)
        let mixedKinds = try CLI.run(["cohort", "compare", dir.appendingPathComponent("online").path, dir.appendingPathComponent("teacher").path])
        XCTAssertNotEqual(mixedKinds.status, 0)
        XCTAssertTrue(mixedKinds.stderr.contains("not a cohort distill run"), mixedKinds.stderr)
    }

    /// Settings that cannot work together stop the run before it starts, in one line naming the key.
    /// `distill.students`: three students (two MLPs and a small CNN with batch norm) from the same
    /// teacher targets, each with its scratch baseline and int8 copy (batch norm folded), in sub-runs and files of their own; every row
    /// has its validation accuracy and its speeds at batch 1 and 256, the front is marked, a
    /// student is chosen on validation, and front.svg shows every group in rendered pixels.
    func testSeveralStudentsTheirFrontAndTheChoice() throws {
        let dir = try CLI.temporaryDirectory()
        let t = try teacher(dir)
        let config = try distillConfig(dir, teachers: [t], name: "front", students: """
          students:
            - {name: mlp-8, layers: [{type: flatten}, {type: linear, out: 8}, {type: relu}, {type: linear, out: 10}]}
            - {name: mlp-32, layers: [{type: flatten}, {type: linear, out: 32}, {type: relu}, {type: linear, out: 10}]}
            - name: cnn
              layers: [{type: conv2d, out: 4, kernel: 3}, {type: batchnorm}, {type: relu}, {type: maxpool, size: 2}, {type: flatten}, {type: linear, out: 10}]
        """)
        let r = try CLI.run(["cohort", "distill", config, "--baseline", "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try report(dir, "front")
        let rows = json["rows"] as! [[String: Any]]
        XCTAssertEqual(rows.map { "\($0["student"] as? String ?? "-") \($0["role"] as! String)" },
                       ["- teacher", "mlp-8 scratch", "mlp-8 distilled", "mlp-8 int8", "mlp-32 scratch", "mlp-32 distilled", "mlp-32 int8",
                        "cnn scratch", "cnn distilled", "cnn int8"])
        XCTAssertEqual(rows.map { $0["name"] as! String }[1...3], ["mlp-8, from scratch", "mlp-8, distilled", "mlp-8, distilled, int8"])
        for name in ["mlp-8", "mlp-8-scratch", "mlp-32", "cnn-scratch"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("front/\(name)/checkpoints/latest.safetensors").path), name)
        }
        for file in ["mlp-8", "mlp-32-scratch", "cnn-int8"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("front/models/\(file).safetensors").path), file)
        }
        // The CNN's batch norm is folded into its convolution in the int8 file (the float file keeps
        // it), and cohort eval of that file finds the int8 row's accuracy.
        let floatCNN = try Safetensors.read(from: dir.appendingPathComponent("front/models/cnn.safetensors"))
        let int8CNN = try Safetensors.read(from: dir.appendingPathComponent("front/models/cnn-int8.safetensors"))
        XCTAssertNotNil(floatCNN.tensors["1.running_mean"])
        XCTAssertEqual(int8CNN.tensors["0.weight"]?.dtype, .i8)
        XCTAssertEqual(int8CNN.tensors["0.bias"]?.shape, [4])
        XCTAssertFalse(int8CNN.tensors.keys.contains { $0.contains("running") }, "\(int8CNN.tensors.keys.sorted())")
        XCTAssertFalse(int8CNN.metadata["config"]!.contains("batchnorm"), int8CNN.metadata["config"]!)
        let cnnInt8Row = try XCTUnwrap(rows.first { $0["student"] as? String == "cnn" && $0["role"] as? String == "int8" })
        let eval = try CLI.run(["cohort", "eval", dir.appendingPathComponent("front/models/cnn-int8.safetensors").path])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        XCTAssertTrue(eval.stdout.contains(String(format: "test accuracy %.4f", cnnInt8Row["accuracy"] as! Double)), "\(eval.stdout) vs \(cnnInt8Row)")
        for row in rows {
            let speeds = try XCTUnwrap(row["speeds"] as? [[String: Double]], "\(row)")
            XCTAssertEqual(speeds.count, 2)
            for s in speeds { XCTAssertTrue(s["low"]! > 0 && s["low"]! <= s["median"]! && s["median"]! <= s["high"]!, "\(row)") }
            XCTAssertEqual(row["samplesPerSecond"] as? Double, speeds[1]["median"])
            XCTAssertNotNil(row["validationAccuracy"] as? Double)
            XCTAssertNotNil(row["onFront"] as? Bool)
        }
        // The choice is a student's row on the front.
        let choice = try XCTUnwrap(json["choice"] as? [String: String])
        let chosen = try XCTUnwrap(rows.first { $0["name"] as? String == choice["row"] })
        XCTAssertNotEqual(chosen["role"] as? String, "teacher")
        XCTAssertEqual(chosen["onFront"] as? Bool, true)
        let md = try String(contentsOf: dir.appendingPathComponent("front/report.md"), encoding: .utf8)
        for student in ["mlp-8", "mlp-32", "cnn"] { XCTAssertTrue(md.contains("**\(student)**: Distillation closed"), md) }
        XCTAssertTrue(md.contains("Default choice: **\(choice["row"]!)**"), md)
        XCTAssertTrue(md.contains("![accuracy against speed](front.svg)"), md)
        let chart = try RenderedChart(dir.appendingPathComponent("front/front.svg"))
        XCTAssertEqual(chart.legendNames, ["teacher", "mlp-8", "mlp-32", "cnn"])
        chart.assertEverySeriesVisible(dir.appendingPathComponent("front/front.svg"), minimum: 20)
    }

    func testBadVariantSettingsAreOneLineNamingTheKey() throws {
        let dir = try CLI.temporaryDirectory()
        let config = try distillConfig(dir, teachers: [dir.appendingPathComponent("none.safetensors").path])
        let cases: [([String], String)] = [
            (["--set", "distill.transfer.mixup=0.2"], "distill.transfer.mixup: mixing makes new images every step"),
            (["--set", "distill.transfer.cutmix=1"], "distill.transfer.cutmix: mixing makes new images every step"),
            (["--set", "distill.teacher_mode=live"], "distill.teacher_mode: must be cached or online, got 'live'"),
            (["--set", "distill.loss=l2"], "distill.loss: must be kl or logit_mse, got 'l2'"),
            (["--set", "data.augment={flip: 0.5}"], "data.augment: cohort distill augments through distill.transfer"),
        ]
        for (args, message) in cases {
            let r = try CLI.run(["cohort", "distill", config, "--quiet"] + args)
            XCTAssertNotEqual(r.status, 0, "\(args)")
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
            XCTAssertTrue(r.stderr.contains(message), r.stderr)
        }
    }

    /// Every bad teacher stops the run before training, with one line naming the file and the reason.
    func testBadTeachersAreRejectedBeforeTraining() throws {
        let dir = try CLI.temporaryDirectory()
        let good = try teacher(dir)
        let file = try Safetensors.read(from: URL(fileURLWithPath: good))
        func variant(_ name: String, _ edit: (inout [String: SafetensorsTensor], inout String) -> Void) throws -> String {
            var tensors = file.tensors, yaml = file.metadata["config"]!
            edit(&tensors, &yaml)
            var metadata = file.metadata
            metadata["config"] = yaml
            let url = dir.appendingPathComponent("\(name).safetensors")
            try Safetensors.write(tensors, metadata: metadata, to: url)
            return url.path
        }
        let wrongShape = try variant("wrong-shape") { t, _ in
            t["1.weight"] = try! SafetensorsTensor(shape: [32, 780], values: [Float](repeating: 0, count: 32 * 780))
        }
        let fiveClasses = try variant("five-classes") { _, y in
            y = y.replacingOccurrences(of: "out: 10", with: "out: 5")
        }
        let mnist = try variant("mnist") { _, y in
            y = y.replacingOccurrences(of: "dataset: fashion-mnist", with: "dataset: mnist")
        }
        let notCheckpoint = dir.appendingPathComponent("garbage.safetensors")
        try Data("not a safetensors file".utf8).write(to: notCheckpoint)
        let cases: [([String], String, String)] = [
            ([wrongShape], "wrong-shape.safetensors", "'1.weight' has shape [32, 780]"),
            ([good, fiveClasses], "five-classes.safetensors", "5 classes but the data has 10"),
            ([good, mnist], "mnist.safetensors", "trained on mnist"),
            ([notCheckpoint.path], "garbage.safetensors", "header length"),
            ([dir.appendingPathComponent("missing.safetensors").path], "missing.safetensors", "not found"),
        ]
        for (i, (teachers, fileName, reason)) in cases.enumerated() {
            let config = try distillConfig(dir, teachers: teachers, name: "bad\(i)")
            let r = try CLI.run(["cohort", "distill", config, "--quiet"])
            XCTAssertNotEqual(r.status, 0, "\(teachers)")
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
            XCTAssertTrue(r.stderr.contains(fileName) && r.stderr.contains(reason), r.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("bad\(i)/student").path), "trained before checking \(fileName)")
        }
        // cohort train refuses a distillation config.
        let r = try CLI.run(["cohort", "train", try distillConfig(dir, teachers: [good], name: "viaTrain")])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("cohort distill"), r.stderr)
    }

    /// cohort compress: any checkpoint pruned (fine-tuned on its labels) and quantised; bad options
    /// and missing files are one-line errors.
    func testCompressAnyCheckpoint() throws {
        let dir = try CLI.temporaryDirectory()
        let t = try teacher(dir)
        let out = dir.appendingPathComponent("compressed")
        let r = try CLI.run(["cohort", "compress", t, "--sparsity", "0.5", "--rounds", "2", "--finetune-steps", "10", "--output", out.path, "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("report.json"))) as! [String: Any]
        let rows = json["rows"] as! [[String: Any]]
        XCTAssertEqual(rows.map { $0["role"] as! String }, ["original", "int8", "pruned", "pruned-int8"])
        let original = rows[0], int8 = rows[1]
        XCTAssertEqual(int8["accuracy"] as! Double, original["accuracy"] as! Double, accuracy: 0.01)
        let pruned = try Safetensors.read(from: out.appendingPathComponent("models/pruned.safetensors"))
        let w = try pruned.floatTensor("1.weight").scalars + (try pruned.floatTensor("3.weight").scalars)
        XCTAssertEqual(Double(w.filter { $0 == 0 }.count) / Double(w.count), 0.5, accuracy: 0.001)
        let e = try CLI.run(["cohort", "eval", out.appendingPathComponent("models/pruned-int8.safetensors").path])
        XCTAssertEqual(e.status, 0, e.stderr)

        for (args, expected) in [(["--sparsity", "1.5"], "sparsity"), (["--scope", "diagonal"], "scope")] {
            let bad = try CLI.run(["cohort", "compress", t, "--output", dir.appendingPathComponent("bad").path] + args)
            XCTAssertNotEqual(bad.status, 0)
            XCTAssertEqual(bad.stderr.split(separator: "\n").count, 1, bad.stderr)
            XCTAssertTrue(bad.stderr.contains(expected), bad.stderr)
        }
        let missing = try CLI.run(["cohort", "compress", dir.appendingPathComponent("none.safetensors").path])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("none.safetensors: checkpoint not found"), missing.stderr)
    }

    /// Two ranks: the teacher's soft targets and MUNGE's neighbours are computed in shards and
    /// gathered; the ranks stay identical (the trainer compares parameter checksums) and the
    /// distilled student learns.
    func testDistillUnderTwoRanks() throws {
        try XCTSkipUnless(CLI.hasMPI, "mpirun is not installed (launch/setup installs openmpi-bin)")
        let dir = try CLI.temporaryDirectory()
        let t = try teacher(dir)
        let config = try distillConfig(dir, teachers: [t])
        let r = try CLI.run(["/usr/bin/mpirun", "-np", "2", "--oversubscribe", "--bind-to", "none", CLI.binary.path,
                             "distill", config, "--set", "training.batch_size=32", "--set", "distributed.check_every=10", "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try report(dir, "distill")
        XCTAssertEqual(json["ranks"] as? Int, 2)
        let distilled = (json["rows"] as! [[String: Any]]).first { $0["role"] as? String == "distilled" }!
        XCTAssertGreaterThan(distilled["accuracy"] as! Double, 0.7)

        // The online variants too: each rank runs the teacher on its own mixed shard, and the VAE of
        // a generated set trains data-parallel (the trainer's checksums keep the ranks identical).
        let online = try CLI.run(["/usr/bin/mpirun", "-np", "2", "--oversubscribe", "--bind-to", "none", CLI.binary.path,
                                  "distill", config, "--set", "name=online", "--set", "training.batch_size=32", "--set", "distributed.check_every=10",
                                  "--set", "distill.teacher_mode=online", "--set", "distill.prune=null", "--set", "distill.quantize=false",
                                  "--set", "distill.transfer={set: generated, multiplier: 2, flip: 0.5, mixup: 0.2, generator: {hidden: 32, latent: 4, epochs: 1, batch_size: 32}}",
                                  "--quiet"])
        XCTAssertEqual(online.status, 0, online.stderr)
        let o = try report(dir, "online")
        XCTAssertEqual(o["ranks"] as? Int, 2)
        XCTAssertEqual((o["distillation"] as! [String: Any])["teacherMode"] as? String, "online")
        let student = (o["rows"] as! [[String: Any]]).first { $0["role"] as? String == "distilled" }!
        XCTAssertGreaterThan(student["accuracy"] as! Double, 0.6)
    }
}
