import XCTest
import Cohort
import CohortNN
@testable import CohortTrain

final class ConfigLoaderTests: XCTestCase {
    struct Small: Decodable { let model: ModelSpec }

    let yaml = """
    model:
      layers:
        - {type: flatten}
        - {type: linear, out: 64}
        - {type: relu}
        - {type: linear, out: 10}
    """

    func testDecodesAndBuildsAModel() throws {
        let c = try ConfigLoader.decode(Small.self, yaml: yaml, source: "x.yaml")
        let model = try c.model.build(inputShape: [1, 28, 28])
        XCTAssertEqual(try model.outputShape(for: [5, 1, 28, 28]), [5, 10])
        XCTAssertEqual(model.namedParameters().map(\.1.initializer), [.heUniform, .zeros, .glorotUniform, .zeros])
    }

    func testOverridesReplaceValuesInListsAndMaps() throws {
        let c = try ConfigLoader.decode(Small.self, yaml: yaml, source: "x.yaml", overrides: ["model.layers.1.out=32"])
        XCTAssertEqual(c.model.layers[1].out, 32)
        XCTAssertThrowsError(try ConfigLoader.decode(Small.self, yaml: yaml, source: "x.yaml", overrides: ["model.layers.9.out=3"])) {
            XCTAssertTrue("\($0)".contains("--set model.layers.9.out"), "\($0)")
        }
        XCTAssertThrowsError(try ConfigLoader.decode(Small.self, yaml: yaml, source: "x.yaml", overrides: ["novalue"]))
    }

    func testErrorsNameFileKeyAndReason() {
        func message(_ text: String, _ overrides: [String] = []) -> String {
            do { _ = try ConfigLoader.decode(Small.self, yaml: text, source: "c.yaml", overrides: overrides); return "no error" } catch { return "\(error)" }
        }
        XCTAssertTrue(message(yaml, ["model.layers.1.outt=3"]).hasPrefix("c.yaml: model.layers[1].outt: unknown key 'outt'"))
        XCTAssertEqual(message(yaml, ["model.layers.1.out=abc"]), "c.yaml: model.layers[1].out: expected an integer")
        XCTAssertTrue(message(yaml, ["model.layers.1.out=-4"]).hasPrefix("c.yaml: model.layers[1].out: must be positive, got -4"))
        XCTAssertTrue(message(yaml, ["model.layers.0.type=linearr"]).contains("unknown layer type 'linearr'"))
        XCTAssertTrue(message("model: [1, 2").hasPrefix("c.yaml: not valid YAML"))
        XCTAssertTrue(message("other: 1").contains("model: missing required key"), message("other: 1"))
    }

    func testPrecisionIsAChoiceOfFP32OrBF16() throws {
        XCTAssertEqual(try ConfigLoader.decode(TrainingConfig.self, yaml: "epochs: 1", source: "t.yaml").precision, .fp32)
        let bf16 = try ConfigLoader.decode(TrainingConfig.self, yaml: "precision: bf16\nallow_emulated_bf16: true", source: "t.yaml")
        XCTAssertEqual(bf16.precision, .bf16)
        XCTAssertEqual(try bf16.matmulPrecision(), CPUFeatures.avx512BF16 ? .bf16 : .bf16Emulated)
        XCTAssertThrowsError(try ConfigLoader.decode(TrainingConfig.self, yaml: "precision: fp16", source: "t.yaml")) {
            XCTAssertTrue("\($0)".contains("precision: must be fp32 or bf16, got 'fp16'"), "\($0)")
        }
    }

    func testShapeMismatchIsRejectedBeforeTraining() throws {
        let c = try ConfigLoader.decode(Small.self, yaml: yaml, source: "x.yaml", overrides: ["model.layers.0.type=relu"])
        XCTAssertThrowsError(try c.model.build(inputShape: [1, 28, 28])) { error in
            XCTAssertTrue("\(error)".hasPrefix("model.layers[1] (linear): linear: expects flat input"), "\(error)")
        }
    }
}
