import XCTest
import CohortTrain

/// The shipped distillation configs decode, and the function-matching one is taught by the run that
/// configs/fashion-resnet.yaml trains.
final class DistillConfigTests: XCTestCase {
    let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func testShippedConfigsDecodeAndTheMatchingTeacherIsTheResNetRun() throws {
        let path = { (name: String) in self.repository.appendingPathComponent("configs/\(name).yaml").path }
        let (resnet, _) = try ConfigLoader.loadRun(path: path("fashion-resnet"), overrides: [])
        let (config, _) = try ConfigLoader.loadRun(path: path("distill-fashion-matching"), overrides: [])
        let distill = try XCTUnwrap(config.distill)
        XCTAssertEqual(distill.teacherMode, .online)
        XCTAssertNotNil(try ConfigLoader.loadRun(path: path("distill-fashion"), overrides: []).0.distill)
        XCTAssertEqual(distill.teachers, ["\(resnet.output.directory)/\(resnet.name)/checkpoints/latest.safetensors"])
        let (ensemble, _) = try ConfigLoader.loadRun(path: path("distill-fashion-ensemble"), overrides: [])
        XCTAssertEqual(ensemble.distill?.teachers.count, 3)
    }
}
