import XCTest
import CohortTrain

/// The shipped distillation configs decode; the default and the function-matching one are taught by
/// the run that configs/fashion-resnet.yaml trains, the quick one by configs/fashion-cnn.yaml's.
final class DistillConfigTests: XCTestCase {
    let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func testShippedConfigsDecodeAndTheirTeachersAreTheShippedRuns() throws {
        let path = { (name: String) in self.repository.appendingPathComponent("configs/\(name).yaml").path }
        let (resnet, _) = try ConfigLoader.loadRun(path: path("fashion-resnet"), overrides: [])
        let (config, _) = try ConfigLoader.loadRun(path: path("distill-fashion-matching"), overrides: [])
        let distill = try XCTUnwrap(config.distill)
        XCTAssertEqual(distill.teacherMode, .online)
        let teacher = { (run: RunConfig) in "\(run.output.directory)/\(run.name)/checkpoints/latest.safetensors" }
        XCTAssertEqual(distill.teachers, [teacher(resnet)])
        let standard = try XCTUnwrap(try ConfigLoader.loadRun(path: path("distill-fashion"), overrides: []).0.distill)
        XCTAssertEqual(standard.teacherMode, .cached)
        XCTAssertEqual(standard.teachers, [teacher(resnet)])
        let (cnn, _) = try ConfigLoader.loadRun(path: path("fashion-cnn"), overrides: [])
        XCTAssertEqual(try ConfigLoader.loadRun(path: path("distill-fashion-cnn"), overrides: []).0.distill?.teachers, [teacher(cnn)])
        let (ensemble, _) = try ConfigLoader.loadRun(path: path("distill-fashion-ensemble"), overrides: [])
        XCTAssertEqual(ensemble.distill?.teachers.count, 3)
        let (front, _) = try ConfigLoader.loadRun(path: path("distill-fashion-front"), overrides: [])
        XCTAssertEqual(front.distill?.teachers, [teacher(resnet)])
        XCTAssertEqual(front.distill?.students?.map(\.name), ["mlp-100", "mlp-512", "cnn-small", "cnn-32-64"])
        XCTAssertEqual(front.distill?.students?.last?.model, try ConfigLoader.loadRun(path: path("fashion-cnn"), overrides: []).0.model,
                       "the last student is configs/fashion-cnn.yaml's network")
        XCTAssertEqual(front.distill?.students?.first?.model, try ConfigLoader.loadRun(path: path("distill-fashion"), overrides: []).0.model,
                       "the first student is the default config's MLP")
    }
}
