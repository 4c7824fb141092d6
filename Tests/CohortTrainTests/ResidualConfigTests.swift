import XCTest
import Cohort
import CohortNN
@testable import CohortTrain

/// Residual blocks, layernorm and globalavgpool in a config: decoded strictly, errors with the key
/// path down into nested blocks, and `--set` reaching inside a block.
final class ResidualConfigTests: XCTestCase {
    struct Small: Decodable { let model: ModelSpec }

    let yaml = """
    model:
      layers:
        - {type: conv2d, out: 4, kernel: 3, padding: 1}
        - type: residual
          layers:
            - {type: conv2d, out: 8, kernel: 3, stride: 2, padding: 1}
            - {type: relu}
            - type: residual
              projection: always
              layers: [{type: conv2d, out: 8, kernel: 3, padding: 1}, {type: layernorm, eps: 0.001}]
        - {type: relu}
        - {type: globalavgpool}
        - {type: linear, out: 10}
    """

    func message(_ overrides: [String], text: String? = nil) -> String {
        do { _ = try ConfigLoader.decode(Small.self, yaml: text ?? yaml, source: "c.yaml", overrides: overrides); return "no error" } catch { return "\(error)" }
    }

    func testDecodesNestedBlocks() throws {
        let c = try ConfigLoader.decode(Small.self, yaml: yaml, source: "c.yaml")
        let block = c.model.layers[1]
        XCTAssertEqual(block.type, "residual")
        XCTAssertNil(block.projection)
        XCTAssertEqual(block.layers?.count, 3)
        XCTAssertEqual(block.layers?[2].projection, .always)
        XCTAssertEqual(block.layers?[2].layers?[1].eps, 0.001)
        let model = try Model(spec: c.model, inputShape: [1, 8, 8])
        XCTAssertEqual(model.outputCount, 10)
        XCTAssertNotNil(model.parameters.entry("1.projection.weight"))
        XCTAssertNotNil(model.parameters.entry("1.layers.2.projection.weight"))
        XCTAssertEqual(model.parameters.entry("1.layers.2.layers.1.weight")?.shape, [8, 4, 4])
        // --set reaches into a block.
        let wider = try ConfigLoader.decode(Small.self, yaml: yaml, source: "c.yaml", overrides: ["model.layers.1.layers.0.out=16"])
        XCTAssertEqual(wider.model.layers[1].layers?[0].out, 16)
        // The resolved config round-trips through its encoding (run folders and checkpoints store it).
        let again = try JSONDecoder().decode(ModelSpec.self, from: try JSONEncoder().encode(c.model))
        XCTAssertEqual(again, c.model)
    }

    /// A key another layer type takes is refused where it would be ignored, inside blocks too.
    func testKeysOfOtherLayerTypesAreRefused() {
        XCTAssertEqual(message(["model.layers.1.layers.1.out=3"]),
                       "c.yaml: model.layers[1].layers[1].out: a relu layer has no 'out' (linear, conv2d, maxout do)")
        XCTAssertEqual(message(["model.layers.1.layers.0.pieces=2"]), "c.yaml: model.layers[1].layers[0].pieces: only a maxout layer has 'pieces'")
    }

    func testErrorsNameTheKeyPathInsideBlocks() {
        XCTAssertTrue(message(["model.layers.1.layers.2.layers.0.outt=3"]).hasPrefix("c.yaml: model.layers[1].layers[2].layers[0].outt: unknown key 'outt'"),
                      message(["model.layers.1.layers.2.layers.0.outt=3"]))
        XCTAssertEqual(message(["model.layers.1.projection=sometimes"]),
                       "c.yaml: model.layers[1].projection: must be auto, always or never, got 'sometimes'")
        XCTAssertEqual(message(["model.layers.0.projection=auto"]), "c.yaml: model.layers[0].projection: only a residual layer has 'projection'")
        XCTAssertEqual(message(["model.layers.2.eps=0.1"]), "c.yaml: model.layers[2].eps: only a layernorm layer has 'eps'")
        XCTAssertTrue(message(["model.layers.1.layers.2.layers.1.eps=-1"]).hasPrefix("c.yaml: model.layers[1].layers[2].layers[1].eps: must be positive"))
        let empty = "model:\n  layers:\n    - {type: residual, layers: []}\n"
        XCTAssertEqual(message([], text: empty), "c.yaml: model.layers[0].layers: a residual block needs at least one layer")
        let missing = "model:\n  layers:\n    - {type: residual}\n"
        XCTAssertTrue(message([], text: missing).hasPrefix("c.yaml: model.layers[0].layers: missing required key"), message([], text: missing))
        let onConv = "model:\n  layers:\n    - {type: conv2d, out: 2, kernel: 3, layers: [{type: relu}]}\n"
        XCTAssertEqual(message([], text: onConv), "c.yaml: model.layers[0].layers: only a residual layer has 'layers'")
    }

    /// configs/fashion-resnet.yaml is a valid run config, and `bench train --workload resnet` times it;
    /// the mlp and cnn workloads are their configs' networks (torch_peer.py's).
    func testTheResNetConfigAndTheBenchmarkWorkloads() throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let (run, _) = try ConfigLoader.loadRun(path: repository.appendingPathComponent("configs/fashion-resnet.yaml").path, overrides: [])
        let configured = try Model(spec: run.model, inputShape: [1, 28, 28])
        XCTAssertEqual(URL(fileURLWithPath: try ThroughputBench.Workload.resnet.configPath()).standardized.path,
                       repository.appendingPathComponent("configs/fashion-resnet.yaml").standardized.path)
        XCTAssertEqual(run.training.batchSize, 64)
        XCTAssertEqual(configured.parameters.parameterCount, 307_690)
        XCTAssertEqual(configured.parameters.entries.filter { $0.path.hasSuffix("projection.weight") }.map(\.shape), [[64, 32, 1, 1], [128, 64, 1, 1]])
        let expected: [ThroughputBench.Workload: (parameters: Int, batch: Int)] = [.mlp: (669_706, 128), .cnn: (225_034, 64)]
        for (workload, want) in expected {
            let (config, _) = try ConfigLoader.loadRun(path: try workload.configPath(), overrides: [])
            XCTAssertEqual(try Model(spec: config.model, inputShape: [1, 28, 28]).parameters.parameterCount, want.parameters, "\(workload)")
            XCTAssertEqual(config.training.batchSize, want.batch, "\(workload)")
        }
    }

    /// ThroughputBench counts the convolutions inside blocks (and their projections).
    func testFlopsCountLayersInsideBlocks() throws {
        let c = try ConfigLoader.decode(Small.self, yaml: yaml, source: "c.yaml")
        let network = try c.model.build(inputShape: [1, 8, 8])
        let stem = 2.0 * 64 * 4 * 1 * 9, strided = 2.0 * 16 * 8 * 4 * 9, projection = 2.0 * 16 * 8 * 4
        let inner = 2.0 * 16 * 8 * 8 * 9, innerProjection = 2.0 * 16 * 8 * 8, classifier = 2.0 * 8 * 10
        let expected = 2 * stem + 3 * (strided + projection + inner + innerProjection + classifier)
        XCTAssertEqual(try ThroughputBench.flopsPerStep(network, input: [1, 1, 8, 8]), expected)
    }
}
