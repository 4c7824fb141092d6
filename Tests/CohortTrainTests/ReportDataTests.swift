import XCTest
@testable import CohortTrain

/// What reports are made of: the history in checkpoints (old ones still decode; a measured NaN
/// stays NaN, a missing figure stays missing) and the resolved configs a comparison diffs.
final class ReportDataTests: XCTestCase {
    func testACheckpointFromBeforeTheNewFiguresStillDecodes() throws {
        let old = #"{"step": 40, "epoch": 1, "batchInEpoch": 0, "skippedSteps": 0, "bestValidationAccuracy": 0.8, "epochsWithoutImprovement": 0, "#
            + #""history": [{"step": 20, "trainLoss": 0.9, "trainAccuracy": 0.7}, {"step": 40, "trainLoss": 0.6, "trainAccuracy": 0.8, "validationLoss": 0.65, "validationAccuracy": 0.8}]}"#
        let state = try TrainState.jsonDecoder().decode(TrainState.self, from: Data(old.utf8))
        XCTAssertEqual(state.bestValidationScore, 0.8)
        XCTAssertEqual(state.history.count, 2)
        XCTAssertEqual(state.history[1].validationAccuracy, 0.8)
        XCTAssertNil(state.history[0].validationLoss)
        XCTAssertNil(state.history[1].learningRate)
        XCTAssertNil(state.history[1].samplesPerSecond)
    }

    func testAMeasuredNaNSurvivesACheckpointAndAMissingFigureStaysMissing() throws {
        var state = TrainState()
        var point = TrainState.HistoryPoint(step: 10)
        point.trainLoss = .nan
        point.learningRate = 0.1
        state.history = [point]
        let decoded = try TrainState.jsonDecoder().decode(TrainState.self, from: TrainState.jsonEncoder().encode(state))
        XCTAssertTrue(decoded.history[0].trainLoss?.isNaN == true)
        XCTAssertNil(decoded.history[0].trainAccuracy)
        XCTAssertEqual(decoded.history[0].learningRate, 0.1)
    }

    /// An evaluation at a step with no log line gets a point of its own, with no training figures.
    func testAnEvaluationBetweenLogLinesGetsItsOwnPoint() {
        var state = TrainState()
        var logged = TrainState.HistoryPoint(step: 200)
        logged.trainLoss = 0.5
        state.history = [logged]
        state.step = 215
        let validation = Evaluation(task: .classification, loss: 0.4, count: 100, accuracy: 0.9, confusion: [], classes: 2)
        state.record(validation, split: .validation)
        state.record(validation, split: .test)
        XCTAssertEqual(state.history.map(\.step), [200, 215])
        XCTAssertNil(state.history[0].validationLoss)
        XCTAssertNil(state.history[1].trainLoss)
        XCTAssertEqual(state.history[1].validationAccuracy, 0.9)
        XCTAssertEqual(state.history[1].testLoss, 0.4)
        XCTAssertNil(state.history[1].testRMSE)
    }

    func testConfigDifferencesNameEveryKeyPathThatDiffers() throws {
        let a = try ResolvedConfig(yaml: "name: a\nseed: 1\nmodel:\n  layers:\n  - {type: linear, out: 512}\ntraining: {epochs: 20}\n", source: "a")
        let b = try ResolvedConfig(yaml: "name: b\nseed: 2\nmodel:\n  layers:\n  - {type: linear, out: 256}\ntraining: {epochs: 20, precision: bf16}\n", source: "b")
        XCTAssertEqual(a["model.layers.0.out"], "512")
        XCTAssertEqual(a.precision, "fp32")
        XCTAssertEqual(b.precision, "bf16")
        XCTAssertEqual(ResolvedConfig.differences([a, b], ignoring: ["name"]), [
            .init(key: "seed", values: ["1", "2"]), .init(key: "model.layers.0.out", values: ["512", "256"]),
            .init(key: "training.precision", values: [nil, "bf16"]),
        ])
        XCTAssertThrowsError(try ResolvedConfig(yaml: "a: [", source: "bad.yaml")) { XCTAssertTrue("\($0)".contains("bad.yaml"), "\($0)") }
    }
}
