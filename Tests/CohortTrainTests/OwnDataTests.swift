import XCTest
import Cohort
import CohortData
import CohortFormats
@testable import CohortTrain

/// A user's own table or arrays, end to end through `cohort train` and `cohort eval`: on two ranks,
/// in Hogwild, as regression, and every bad input refused with one line before training.
final class OwnDataTests: XCTestCase {
    var dir = URL(fileURLWithPath: "/")

    override func setUpWithError() throws { dir = try CLI.temporaryDirectory() }

    /// Three clusters of 4 measurements named by text labels, `rows` of them.
    func species(_ name: String, rows: Int, seed: UInt64) throws -> String {
        var rng = RandomStream(seed: seed)
        let centres: [[Float]] = [[5, 3.4, 1.5, 0.2], [5.9, 2.8, 4.3, 1.3], [6.6, 3, 5.6, 2]]
        let names = ["setosa", "versicolor", "virginica"]
        var text = "sepal_length,sepal_width,petal_length,petal_width,species\n"
        for i in 0..<rows {
            let c = i % 3
            text += centres[c].map { String(format: "%.2f", $0 + 0.3 * rng.normal()) }.joined(separator: ",") + ",\(names[c])\n"
        }
        return try write(name, text)
    }

    func write(_ name: String, _ text: String) throws -> String {
        let url = dir.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    func config(_ name: String, data: String, task: String = "classification", outputs: Int = 3, extra: String = "") throws -> String {
        try write("\(name).yaml", """
            name: \(name)
            seed: 2
            task: \(task)
            data: \(data)
            model:
              layers:
                - {type: linear, out: 16}
                - {type: relu}
                - {type: linear, out: \(outputs)}
            optimizer: {name: sgd, lr: 0.05, momentum: 0.9}
            training: {epochs: 8, batch_size: 16, log_every: 10}
            output: {directory: \(dir.path)}
            \(extra)
            """)
    }

    func mpirun(_ arguments: [String]) throws -> CLI.Output {
        try CLI.run(["/usr/bin/mpirun", "-np", "2", "--oversubscribe", "--bind-to", "none", CLI.binary.path] + arguments, timeout: 120)
    }

    func testCSVWithTextClassesOnTwoRanksThenEval() throws {
        try XCTSkipUnless(CLI.hasMPI, "mpirun is not installed (launch/setup installs openmpi-bin)")
        let train = try species("train.csv", rows: 300, seed: 1), test = try species("test.csv", rows: 90, seed: 2)
        let r = try mpirun(["train", try config("iris", data: "{format: csv, train: \(train), test: \(test), label: species, validation: 30}"), "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let line = try XCTUnwrap(r.stdout.split(separator: "\n").first { $0.hasPrefix("test accuracy") }, r.stdout)
        XCTAssertGreaterThan(Double(line.split(separator: " ")[2])!, 0.9, String(line))
        // The checkpoint carries the classes and the training split's statistics; eval applies them.
        let checkpoint = dir.appendingPathComponent("iris/checkpoints/latest.safetensors").path
        let saved = try SavedRun.open(checkpoint)
        XCTAssertEqual(saved.data.classNames, ["setosa", "versicolor", "virginica"])
        XCTAssertEqual(saved.data.sampleShape, [4])
        XCTAssertEqual(saved.data.normalization.mean.count, 4)
        XCTAssertEqual(saved.data.normalization.mean[2], 3.8, accuracy: 0.2, "petal length's mean over the three species")
        let eval = try CLI.run(["cohort", "eval", checkpoint])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        XCTAssertTrue(eval.stdout.contains(String(line.split(separator: " ")[2])), "\(eval.stdout) vs \(line)")
        let report = try String(contentsOf: dir.appendingPathComponent("iris/report.md"), encoding: .utf8)
        XCTAssertTrue(report.contains("virginica"), report)
    }

    func testNpyArraysOnTwoRanksAndInHogwild() throws {
        try XCTSkipUnless(CLI.hasMPI, "mpirun is not installed (launch/setup installs openmpi-bin)")
        // 1x6x6 byte images whose class is whether the left or the right half is brighter.
        var rng = RandomStream(seed: 5)
        func arrays(_ prefix: String, count: Int) throws -> String {
            var pixels: [UInt8] = [], labels: [Int64] = []
            for i in 0..<count {
                let right = i % 2 == 1
                for _ in 0..<6 { for x in 0..<6 { pixels.append(UInt8((x < 3) == right ? rng.below(80) : 150 + rng.below(100))) } }
                labels.append(right ? 1 : 0)
            }
            try NPYArray(shape: [count, 1, 6, 6], values: .uint8(pixels)).write(to: dir.appendingPathComponent("\(prefix)x.npy").path)
            try NPYArray(shape: [count], values: .int64(labels)).write(to: dir.appendingPathComponent("\(prefix)y.npy").path)
            return "{x: \(dir.appendingPathComponent("\(prefix)x.npy").path), y: \(dir.appendingPathComponent("\(prefix)y.npy").path)}"
        }
        let data = "{format: npy, train: \(try arrays("t", count: 320)), test: \(try arrays("v", count: 64)), augment: {flip: 0}}"
        for (name, mode) in [("arrays", "sync"), ("arrays-hogwild", "hogwild")] {
            let path = try config(name, data: data, outputs: 2, extra: "distributed: {mode: \(mode)}")
            let text = try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: "- {type: linear, out: 16}", with: "- {type: flatten}\n    - {type: linear, out: 16}")
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            let r = try mpirun(["train", path, "--quiet"])
            XCTAssertEqual(r.status, 0, r.stderr)
            let line = try XCTUnwrap(r.stdout.split(separator: "\n").first { $0.hasPrefix("test accuracy") }, r.stdout)
            XCTAssertGreaterThan(Double(line.split(separator: " ")[2])!, 0.9, "\(name): \(line)")
        }
    }

    /// y = 3 a - 2 b + 1 from one file with a fifth held out for testing: RMSE and MAE everywhere
    /// accuracy would be.
    func testRegressionReportsRMSEAndMAE() throws {
        var rng = RandomStream(seed: 9)
        var text = "a,b,y\n"
        for _ in 0..<500 {
            let a = rng.uniform(-1, 1), b = rng.uniform(-1, 1)
            text += String(format: "%.4f,%.4f,%.4f\n", a, b, 3 * a - 2 * b + 1 + 0.01 * rng.normal())
        }
        let file = try write("line.csv", text)
        let path = try config("line", data: "{format: csv, train: \(file), test_fraction: 0.2, validation: 50}", task: "regression", outputs: 1,
                              extra: "schedule: {name: cosine, t_max: 8, unit: epochs}")
        let r = try CLI.run(["cohort", "train", path, "--quiet", "--set", "optimizer.lr=0.02"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let line = try XCTUnwrap(r.stdout.split(separator: "\n").first { $0.hasPrefix("test RMSE") }, r.stdout)
        XCTAssertTrue(line.contains("(100 examples)"), String(line))
        XCTAssertLessThan(Double(line.split(separator: " ")[2].dropLast())!, 0.3, String(line))
        let metrics = try String(contentsOf: dir.appendingPathComponent("line/metrics.jsonl"), encoding: .utf8)
        XCTAssertTrue(metrics.contains("\"split\":\"validation\",\"loss\"") && metrics.contains("\"rmse\"") && metrics.contains("\"mae\""), metrics)
        XCTAssertFalse(metrics.contains("accuracy"))
        let report = try String(contentsOf: dir.appendingPathComponent("line/report.md"), encoding: .utf8)
        XCTAssertTrue(report.contains("Test RMSE") && report.contains("best validation RMSE"), report)
        let splits = ["train", "validation", "test"]
        try RenderedChart.assertCharts(in: dir.appendingPathComponent("line"),
                                       [("loss.svg", splits), ("rmse.svg", splits), ("learning-rate.svg", ["learning rate"]), ("throughput.svg", ["samples/s"])],
                                       absent: ["accuracy.svg", "gradient-wait.svg", "confusion-matrix.svg"])
        let eval = try CLI.run(["cohort", "eval", dir.appendingPathComponent("line/checkpoints/latest.safetensors").path])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        XCTAssertTrue(eval.stdout.contains(line.split(separator: ",")[0].replacingOccurrences(of: "test ", with: "")), "\(eval.stdout) vs \(line)")
    }

    /// Every bad input is one line naming the file (and where in it) with a non-zero exit, before
    /// any training.
    func testBadInputsAreOneLineBeforeTraining() throws {
        let good = try species("good.csv", rows: 30, seed: 3)
        let notNumber = try write("not-number.csv", "a,b,label\n1,2,x\n3,abc,y\n")
        let ragged = try write("ragged.csv", "a,b,label\n1,2,x\n3,4\n")
        let unseen = try write("unseen.csv", "sepal_length,sepal_width,petal_length,petal_width,species\n5,3,1,0.2,setosa\n6,3,5,2,tulip\n")
        let x = dir.appendingPathComponent("x.npy").path, int16 = dir.appendingPathComponent("int16.npy").path
        let y = dir.appendingPathComponent("y.npy").path
        try NPYArray(shape: [4, 2], values: .float32([Float](repeating: 1, count: 8))).write(to: x)
        try NPYArray(shape: [3], values: .int64([0, 1, 0])).write(to: y)
        try Data(npy16).write(to: URL(fileURLWithPath: int16))
        let cases: [(String, String, String)] = [
            ("{format: csv, train: \(notNumber), test: \(good)}", notNumber + ":3:3: ", "field 2 'abc' is not a number"),
            ("{format: csv, train: \(ragged), test: \(good)}", ragged + ":3:4: ", "2 fields, but line 1 has 3"),
            ("{format: csv, train: \(good), test: \(good), label: kind}", good + ":1: ", "no column named 'kind' in the header"),
            ("{format: csv, train: \(good), test: \(unseen), label: species}", unseen + ":3:", "class 'tulip' never occurs in the training data"),
            ("{format: npy, train: {x: \(int16), y: \(y)}, test_fraction: 0.5}", int16 + ": ", "dtype '<i2' is not supported"),
            ("{format: npy, train: {x: \(x), y: \(y)}, test_fraction: 0.5}", y + ": ", "gives 3 targets, but \(x) has 4 samples"),
            ("{format: npy, train: {x: \(x), y: \(y)}}", "data.test: missing required key", "give the test file(s), or test_fraction"),
            ("{format: csv, train: {x: \(x), y: \(y)}, test_fraction: 0.5}", "data.train: ", "format csv reads one CSV file path"),
        ]
        for (i, (data, prefix, reason)) in cases.enumerated() {
            let r = try CLI.run(["cohort", "train", try config("bad\(i)", data: data)])
            XCTAssertNotEqual(r.status, 0, data)
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
            XCTAssertTrue(r.stderr.contains(prefix) && r.stderr.contains(reason), "\(data): \(r.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("bad\(i)/checkpoints").path), "trained on \(data)")
        }
    }

    /// A .npy file of int16, a dtype the reader does not take.
    var npy16: [UInt8] {
        var header = Array("{'descr': '<i2', 'fortran_order': False, 'shape': (2,), }".utf8)
        while (10 + header.count + 1) % 64 != 0 { header.append(0x20) }
        header.append(0x0a)
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.count), 0] + header + [1, 0, 2, 0]
    }
}
