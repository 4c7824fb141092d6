import XCTest
import Cohort
import CohortData
import CohortDistributed
import CohortNN
import CohortTrain
@testable import CohortDistill

/// The generated transfer set's VAE: it learns (the negative ELBO falls), it is trained once and
/// then reused from the run folder or read from a checkpoint, and its samples are pixel images.
final class GeneratorTests: XCTestCase {
    func generator(_ yaml: String) throws -> GeneratorConfig { try ConfigLoader.decode(GeneratorConfig.self, yaml: yaml, source: "test") }

    func testTrainingLowersTheNegativeELBO() throws {
        let (_, data) = try DistillTestData.splits(trainLimit: 600)
        func loss(epochs: Int) throws -> Double {
            try VAETraining.train(try generator("{hidden: 32, latent: 4, epochs: \(epochs), batch_size: 50, lr: 0.003}"), images: data.train, seed: 1,
                                  distributed: DistributedConfig(), communicator: SingleProcessCommunicator(), say: { _ in }).loss
        }
        let one = try loss(epochs: 1), six = try loss(epochs: 6)
        XCTAssertLessThan(six, one - 20, "per-image negative ELBO after 1 epoch \(one), after 6 \(six)")
        XCTAssertLessThan(six, 784 * log(2.0), "better than coin flips for every pixel")
    }

    func testTrainedOnceThenReusedOrLoaded() throws {
        let (_, data) = try DistillTestData.splits(trainLimit: 300)
        let dir = try DistillTestData.folder()
        let small = try generator("{hidden: 16, latent: 3, epochs: 1, batch_size: 50}")
        func images(_ config: GeneratorConfig) throws -> TransferGenerator.Outcome {
            try TransferGenerator.images(config, train: data.train, count: 70, seed: 2, runFolder: dir, distributed: DistributedConfig(),
                                         communicator: SingleProcessCommunicator(), say: { _ in })
        }
        let first = try images(small)
        XCTAssertTrue(first.source.hasPrefix("trained"), first.source)
        XCTAssertEqual(first.images.shape, [70, 784])
        XCTAssertTrue(first.images.scalars.allSatisfy { $0 >= 0 && $0 <= 255 })
        XCTAssertGreaterThan(Set(first.images.scalars.map { Int($0) }).count, 50, "grey levels, not a constant image")
        let file = dir.appendingPathComponent("generator/vae.safetensors").path
        XCTAssertTrue(FileManager.default.fileExists(atPath: file))

        let again = try images(small)
        XCTAssertTrue(again.source.hasPrefix("reused"), again.source)
        XCTAssertEqual(again.images.scalars, first.images.scalars)
        var other = small
        other.epochs = 2
        XCTAssertTrue(try images(other).source.hasPrefix("trained"), "other settings train again")

        var loaded = small
        loaded.checkpoint = file
        let fromFile = try images(loaded)
        XCTAssertTrue(fromFile.source.hasPrefix("loaded"), fromFile.source)
        loaded.checkpoint = dir.appendingPathComponent("missing.safetensors").path
        XCTAssertThrowsError(try images(loaded)) { XCTAssertTrue("\($0)".contains("generator.checkpoint") && "\($0)".contains("not found"), "\($0)") }
        loaded.checkpoint = try DistillTestData.teacher(data, seed: 1, in: dir)
        XCTAssertThrowsError(try images(loaded)) { XCTAssertTrue("\($0)".contains("not a VAE"), "\($0)") }
    }
}
