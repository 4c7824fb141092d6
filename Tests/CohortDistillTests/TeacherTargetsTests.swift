import XCTest
import Cohort
import CohortData
import CohortDistributed
import CohortNN
import CohortTrain
@testable import CohortDistill

/// The online teacher labels the batch the student sees; on un-augmented data that must be
/// exactly what the cached teacher looked up for the same examples.
final class TeacherTargetsTests: XCTestCase {
    func testOnlineTeacherEqualsCachedTeacherOnUnaugmentedData() throws {
        let (dataConfig, data) = try DistillTestData.splits(trainLimit: 700)
        let dir = try DistillTestData.folder()
        let paths = [try DistillTestData.teacher(data, seed: 1, in: dir), try DistillTestData.teacher(data, seed: 2, in: dir)]
        let transfer = try TransferSet.build(try ConfigLoader.decode(TransferConfig.self, yaml: "{set: train}", source: "t"), train: data.train, seed: 1)
        for matching in [TeacherMatching.kl(temperature: 2), .logitMSE] {
            let cached = try TeacherEnsemble(paths: paths, data: data, dataConfig: dataConfig, normalization: data.normalization, matching: matching)
            let online = try TeacherEnsemble(paths: paths, data: data, dataConfig: dataConfig, normalization: data.normalization, matching: matching)
            try cached.cacheTargets(for: transfer.dataset, normalization: data.normalization, communicator: SingleProcessCommunicator())
            XCTAssertNotNil(cached.cache)
            XCTAssertNil(online.cache)
            // Batches as a student's step loads them: shuffled positions, no augmentation.
            let loader = try BatchLoader(dataset: transfer.dataset, batchSize: 64, normalization: data.normalization)
            var order = Array(0..<transfer.dataset.count)
            var rng = RandomStream(seed: 5)
            rng.shuffle(&order)
            var worst: Float = 0, spread: Float = 0
            for start in stride(from: 0, to: order.count - 63, by: 64) {
                let positions = order[start..<(start + 64)]
                let features = try loader.load(positions)
                let looked = try cached.targets(positions: positions, features: features).scalars
                let computed = try online.targets(positions: positions, features: features).scalars
                for (a, b) in zip(looked, computed) { worst = max(worst, abs(a - b)) }
                spread = max(spread, computed.max()! - computed.min()!)
            }
            XCTAssertLessThan(worst, 1e-5, "\(matching)")
            XCTAssertGreaterThan(spread, 0.01, "the teachers' outputs differ between classes and examples")
        }
    }
}
