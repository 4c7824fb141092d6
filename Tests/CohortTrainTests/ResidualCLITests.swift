import XCTest
import Cohort
import CohortFormats
@testable import CohortTrain

/// A small residual network through the run: training, its checkpoint by path, `cohort eval`.
/// (Pruning and int8 export of such a model: CohortDistillTests.)
final class ResidualCLITests: XCTestCase {
    func testTrainAndEvalAResidualNetwork() throws {
        try XCTSkipUnless(CLI.hasFashionMNIST, "Fashion-MNIST is not installed (launch/setup installs it)")
        let dir = try CLI.temporaryDirectory()
        let config = dir.appendingPathComponent("resnet.yaml")
        try """
        name: tiny-resnet
        seed: 2
        data: {validation: 1000, train_limit: 2000, augment: {shift: 1, flip: 0.5}}
        model:
          layers:
            - {type: conv2d, out: 4, kernel: 3, stride: 2, padding: 1}
            - {type: relu}
            - type: residual
              layers:
                - {type: conv2d, out: 8, kernel: 3, stride: 2, padding: 1}
                - {type: batchnorm}
                - {type: relu}
                - {type: conv2d, out: 8, kernel: 3, padding: 1}
            - {type: relu}
            - {type: layernorm}
            - {type: globalavgpool}
            - {type: linear, out: 10}
        optimizer: {name: sgd, lr: 0.05, momentum: 0.9, weight_decay: 0.0005}
        training: {epochs: 1, batch_size: 50, max_steps: 30, log_every: 10}
        output: {directory: \(dir.path)}
        """.write(to: config, atomically: true, encoding: .utf8)
        let r = try CLI.run(["cohort", "train", config.path, "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let checkpoint = dir.appendingPathComponent("tiny-resnet/checkpoints/latest.safetensors")
        let saved = try Safetensors.read(from: checkpoint)
        XCTAssertEqual(saved.tensors["2.projection.weight"]?.shape, [8, 4, 1, 1])
        XCTAssertEqual(saved.tensors["2.layers.1.running_var"]?.shape, [8])
        XCTAssertEqual(saved.tensors["4.weight"]?.shape, [8, 7, 7])

        let e = try CLI.run(["cohort", "eval", checkpoint.path])
        XCTAssertEqual(e.status, 0, e.stderr)
        let trained = r.stdout.split(separator: "\n").last { $0.hasPrefix("test accuracy") }!
        XCTAssertTrue(e.stdout.contains("test accuracy \(trained.split(separator: " ")[2])"), "\(trained) vs \(e.stdout)")
    }
}
