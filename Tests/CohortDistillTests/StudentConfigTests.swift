import XCTest
import CohortTrain

/// `distill.students`: several named networks in place of `model`, decoded strictly, with errors
/// naming the key; the resolved config keeps them and leaves `model` out, so it decodes again.
final class StudentConfigTests: XCTestCase {
    func config(_ distill: String, model: Bool = false) -> String {
        """
        name: front
        \(model ? "model: {layers: [{type: flatten}, {type: linear, out: 10}]}" : "")
        optimizer: {name: sgd, lr: 0.1}
        distill:
          teachers: [t.safetensors]
        \(distill)
        """
    }

    let two = """
      students:
        - {name: small, layers: [{type: flatten}, {type: linear, out: 10}]}
        - {name: wide, layers: [{type: flatten}, {type: linear, out: 64}, {type: relu}, {type: linear, out: 10}]}
    """

    func testStudentsDecodeAndTheResolvedConfigLeavesModelOut() throws {
        let c = try ConfigLoader.decode(RunConfig.self, yaml: config(two), source: "front.yaml")
        XCTAssertEqual(c.distill?.students?.map(\.name), ["small", "wide"])
        XCTAssertEqual(c.distill?.students?[1].model.layers.count, 4)
        XCTAssertEqual(c.model, c.distill?.students?[0].model, "the first student stands for the model")
        XCTAssertEqual(c.distill?.chooseWithin, 1.0)
        let (resolved, yaml) = try ConfigLoader.resolved(c, source: "front.yaml")
        XCTAssertFalse(yaml.contains("\nmodel:"), yaml)
        XCTAssertEqual(resolved.distill?.students, c.distill?.students)
        // Without students the model is written as before.
        let single = try ConfigLoader.decode(RunConfig.self, yaml: config("", model: true), source: "one.yaml")
        XCTAssertTrue(try ConfigLoader.resolved(single, source: "one.yaml").1.contains("\nmodel:"))
    }

    func testBadStudentsAreOneErrorNamingTheKey() {
        let cases: [(String, Bool, String)] = [
            (two, true, "model: distill.students lists the networks: remove model (or students)"),
            ("  students: []", false, "distill.students: list at least one student"),
            ("  students: [{name: a, layers: [{type: linear, out: 10}]}, {name: a, layers: [{type: linear, out: 10}]}]", false,
             "distill.students[1].name: 'a' names two students"),
            ("  students: [{name: models, layers: [{type: linear, out: 10}]}]", false, "'models' is a folder of the run's own"),
            ("  students: [{name: 'a/b', layers: [{type: linear, out: 10}]}]", false, "use letters, digits, '-' and '_' only, got 'a/b'"),
            ("  students: [{name: a, layers: []}]", false, "a student needs at least one layer"),
            ("  students: [{name: a, out: 3, layers: [{type: linear, out: 10}]}]", false, "distill.students[0].out: unknown key"),
            ("  choose_within: -1\n" + two, false, "distill.choose_within: must be between 0 and 100 points, got -1.0"),
            ("", false, "no model: list its layers under model.layers"),
        ]
        for (distill, model, message) in cases {
            XCTAssertThrowsError(try ConfigLoader.decode(RunConfig.self, yaml: config(distill, model: model), source: "front.yaml"), message) {
                XCTAssertTrue("\($0)".contains(message), "\($0) should say \(message)")
            }
        }
    }
}
