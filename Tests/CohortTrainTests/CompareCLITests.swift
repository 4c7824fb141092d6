import XCTest
import Foundation

/// `cohort compare`: two runs that differ in their seed, overlaid, with the differing key named;
/// every bad folder is one line naming it.
final class CompareCLITests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(CLI.hasFashionMNIST, "Fashion-MNIST is not installed (launch/setup installs it)")
    }

    /// A short run of the small config (about a second).
    func train(_ dir: URL, _ name: String, _ overrides: [String] = []) throws -> URL {
        let url = dir.appendingPathComponent("\(name).yaml")
        try CLI.smallConfig(name: name, extra: "output: {directory: \(dir.path)}\n").write(to: url, atomically: true, encoding: .utf8)
        let r = try CLI.run(["cohort", "train", url.path, "--set", "data.train_limit=3000", "--quiet"] + overrides)
        XCTAssertEqual(r.status, 0, r.stderr)
        return dir.appendingPathComponent(name)
    }

    func testTwoSeedsOverlaidWithTheDifferingKeyNamed() throws {
        let dir = try CLI.temporaryDirectory()
        let a = try train(dir, "first"), b = try train(dir, "second", ["--set", "seed=4"])
        let out = dir.appendingPathComponent("both")
        let r = try CLI.run(["cohort", "compare", a.path, b.path, "--output", out.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("| first | ") && r.stdout.contains("| second | "), r.stdout)
        XCTAssertTrue(r.stdout.contains("| `seed` | 3 | 4 |"), r.stdout)

        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("report.json"))) as! [String: Any]
        let differences = json["differences"] as! [[String: Any]]
        XCTAssertEqual(differences.map { $0["key"] as? String }, ["seed"], "name always differs and is left out")
        let runs = json["runs"] as! [[String: Any]]
        XCTAssertEqual(runs.map { $0["label"] as? String }, ["first", "second"])
        for (run, folder) in zip(runs, [a, b]) {
            let own = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("report.json"))) as! [String: Any]
            XCTAssertEqual(run["testAccuracy"] as? Double, own["testAccuracy"] as? Double)
            XCTAssertEqual(run["testErrors"] as? Int, own["testErrors"] as? Int)
        }
        let splits = ["train", "validation", "test"]
        try RenderedChart.assertCharts(in: out, [
            ("loss.svg", ["first", "second"].flatMap { run in splits.map { "\(run) \($0)" } }),
            ("accuracy.svg", ["first", "second"].flatMap { run in splits.map { "\(run) \($0)" } }),
            // The same schedule: one curve, named after both runs.
            ("learning-rate.svg", ["first, second"]), ("throughput.svg", ["first", "second"]),
        ], absent: ["gradient-wait.svg"])
        let markdown = try String(contentsOf: out.appendingPathComponent("report.md"), encoding: .utf8)
        XCTAssertTrue(markdown.contains("![loss](loss.svg)") && markdown.contains("## Config keys that differ"), markdown)

        // Without --output the comparison goes beside the first run.
        let byDefault = try CLI.run(["cohort", "compare", a.path, b.path])
        XCTAssertEqual(byDefault.status, 0, byDefault.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("compare-first-second/report.md").path))
    }

    func testEveryBadFolderIsOneLineNamingIt() throws {
        let dir = try CLI.temporaryDirectory()
        let good = try train(dir, "good")
        let fm = FileManager.default
        let notRun = dir.appendingPathComponent("not-a-run"), unfinished = dir.appendingPathComponent("unfinished")
        let old = dir.appendingPathComponent("old"), regression = dir.appendingPathComponent("regression")
        for folder in [notRun, unfinished, old, regression] { try fm.createDirectory(at: folder, withIntermediateDirectories: true) }
        for folder in [unfinished, old, regression] {
            try fm.copyItem(at: good.appendingPathComponent("config.yaml"), to: folder.appendingPathComponent("config.yaml"))
        }
        // A report from before cohort compare (no history), and one of another task.
        try #"{"name": "old", "task": "classification", "steps": 10, "testLoss": 0.5}"#.write(to: old.appendingPathComponent("report.json"), atomically: true, encoding: .utf8)
        let report = try String(contentsOf: good.appendingPathComponent("report.json"), encoding: .utf8)
        try report.replacingOccurrences(of: #""task" : "classification""#, with: #""task" : "regression""#)
            .write(to: regression.appendingPathComponent("report.json"), atomically: true, encoding: .utf8)

        let cases: [([String], String)] = [
            ([good.path], "give two or more run folders"),
            ([good.path, dir.appendingPathComponent("missing").path], "missing: no such folder"),
            ([good.path, notRun.path], "not-a-run: not a run folder (no config.yaml)"),
            ([good.path, unfinished.path], "unfinished: no report.json: the run has not finished"),
            ([good.path, old.path], "old/report.json: ranks: missing required key"),
            ([good.path, regression.path], "regression: a regression run"),
            ([good.path, good.path], "good: given twice"),
        ]
        for (folders, expected) in cases {
            let r = try CLI.run(["cohort", "compare"] + folders + ["--output", dir.appendingPathComponent("out").path])
            XCTAssertNotEqual(r.status, 0, "\(folders)")
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
            XCTAssertTrue(r.stderr.contains(expected), "\(expected): \(r.stderr)")
        }
    }
}
