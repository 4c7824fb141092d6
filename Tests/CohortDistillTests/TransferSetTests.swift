import XCTest
import Cohort
import CohortData
import CohortTrain
@testable import CohortDistill

final class TransferSetTests: XCTestCase {
    func images(_ n: Int, seed: UInt64) throws -> Dataset {
        var r = RandomStream(seed: seed)
        let pixels = (0..<(n * 16)).map { _ in UInt8(r.below(256)) }
        return try Dataset(uint8: pixels, sampleShape: [1, 4, 4], labels: (0..<n).map { Int32($0 % 3) }, classCount: 3)
    }

    func config(_ yaml: String) throws -> TransferConfig { try ConfigLoader.decode(TransferConfig.self, yaml: yaml, source: "test") }

    func testSetsAreTheTrainingSetFirstWithTheRightLabels() throws {
        let train = try images(30, seed: 1)
        let plain = try TransferSet.build(try config("{set: train}"), train: train, seed: 1)
        XCTAssertEqual(plain.dataset.count, 30)
        XCTAssertEqual(plain.dataset.rawValues(7), train.rawValues(7))
        XCTAssertTrue(plain.labeled.allSatisfy { $0 })

        let augmented = try TransferSet.build(try config("{set: augmented, multiplier: 3, shift: 1, flip: 0.5}"), train: train, seed: 1)
        XCTAssertEqual(augmented.dataset.count, 90)
        XCTAssertEqual(augmented.dataset.labels, train.labels + train.labels + train.labels)
        XCTAssertTrue(augmented.labeled.allSatisfy { $0 })
        XCTAssertNotEqual((30..<60).map { augmented.dataset.rawValues($0) }, (0..<30).map { train.rawValues($0) })
        // Drawn from the seed: the same seed gives the same set on every rank.
        let again = try TransferSet.build(try config("{set: augmented, multiplier: 3, shift: 1, flip: 0.5}"), train: train, seed: 1)
        XCTAssertEqual((0..<90).map { again.dataset.rawValues($0) }, (0..<90).map { augmented.dataset.rawValues($0) })

        let munge = try TransferSet.build(try config("{set: munge, multiplier: 2, munge_p: 0.5}"), train: train, seed: 1)
        XCTAssertEqual(munge.labeled, [Bool](repeating: true, count: 30) + [Bool](repeating: false, count: 30))
        let unlabeled = try TransferSet.build(try config("{set: unlabeled, multiplier: 2}"), train: train, seed: 1)
        XCTAssertFalse(unlabeled.labeled.contains(true))
    }

    /// A shift moves pixels and fills the border with black; a flip mirrors.
    func testAugmentedCopyShiftsAndFlips() throws {
        let x = Tensor(zeros: [1, 16])
        for i in 0..<16 { x.pointer[i] = Float(i + 1) }
        var c = TransferConfig()
        c.shift = 0; c.flip = 1
        var r = RandomStream(seed: 2)
        let flipped = TransferSet.augmentedCopy(x, sampleShape: [1, 4, 4], config: c, scale: 255, rng: &r)
        XCTAssertEqual(Array(flipped.scalars[0..<4]), [4, 3, 2, 1])
        c.flip = 0; c.shift = 3
        var sawShift = false
        for s in 0..<20 {
            var rs = RandomStream(seed: UInt64(s))
            let moved = TransferSet.augmentedCopy(x, sampleShape: [1, 4, 4], config: c, scale: 255, rng: &rs)
            let kept = moved.scalars.filter { $0 != 0 }
            XCTAssertTrue(kept.allSatisfy { (1...16).contains($0) })
            if moved.scalars != x.scalars { sawShift = true }
        }
        XCTAssertTrue(sawShift)
    }

    /// Online, augmentation happens per batch: the copies are the training set itself, not copies
    /// augmented once (which the loader would augment a second time).
    func testOnlineAugmentedSetRepeatsTheTrainingSet() throws {
        let train = try images(30, seed: 1)
        let online = try TransferSet.build(try config("{set: augmented, multiplier: 3, shift: 1, flip: 0.5}"), train: train, seed: 1, mode: .online)
        XCTAssertEqual(online.dataset.count, 90)
        XCTAssertEqual((0..<90).map { online.dataset.rawValues($0) }, (0..<90).map { train.rawValues($0 % 30) })
        XCTAssertTrue(online.labeled.allSatisfy { $0 })
    }

    /// A generated set is the training set, then the generated images, unlabelled; the scratch
    /// student sees the training set again in their place.
    func testGeneratedImagesFollowTheTrainingSetUnlabelled() throws {
        let train = try images(10, seed: 2)
        let generated = Tensor(zeros: [20, 16])
        for i in 0..<generated.count { generated.pointer[i] = Float(i % 256) + 0.4 }
        let set = try TransferSet.build(try config("{set: generated, multiplier: 3}"), train: train, seed: 1, generated: generated)
        XCTAssertEqual(set.dataset.count, 30)
        XCTAssertEqual(set.labeled, [Bool](repeating: true, count: 10) + [Bool](repeating: false, count: 20))
        XCTAssertEqual(set.dataset.rawValues(0), train.rawValues(0))
        XCTAssertEqual(set.dataset.rawValues(11), (16..<32).map { Float($0 % 256) })  // rounded to bytes
        let scratch = try DistillationRun.scratchSet(set, train: train)
        XCTAssertEqual(scratch.rawValues(25), train.rawValues(5))
        XCTAssertThrowsError(try TransferSet.build(try config("{set: generated, multiplier: 2}"), train: train, seed: 1, generated: generated))
    }

    /// Bad transfer settings stop the config with the key path.
    func testBadTransferSettingsNameTheirKey() throws {
        for (yaml, key, reason) in [("{set: generated, multiplier: 1}", "multiplier", "2 or more"),
                                    ("{set: augmented, generator: {latent: 4}}", "generator", "set: generated"),
                                    ("{set: generated, multiplier: 2, generator: {latent: 0}}", "generator.latent", "at least 1"),
                                    ("{mixup: -1}", "mixup", "non-negative"), ("{cutmix: .nan}", "cutmix", "non-negative")] {
            XCTAssertThrowsError(try config(yaml), yaml) { XCTAssertTrue("\($0)".contains(key) && "\($0)".contains(reason), "\($0)") }
        }
    }

    func testUnlabelledImagesAreAppendedOrRejectedByShape() throws {
        let train = try images(10, seed: 3)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cohort-idx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        func idx(_ n: Int, _ h: Int, _ w: Int) throws -> String {
            var bytes: [UInt8] = [0, 0, 8, 3]
            for d in [n, h, w] { bytes += [UInt8(d >> 24 & 255), UInt8(d >> 16 & 255), UInt8(d >> 8 & 255), UInt8(d & 255)] }
            bytes += (0..<(n * h * w)).map { UInt8($0 % 251) }
            let url = dir.appendingPathComponent("images-\(n)-\(h)x\(w).idx")
            try Data(bytes).write(to: url)
            return url.path
        }
        let good = try idx(5, 4, 4)
        let set = try TransferSet.build(try config("{set: train, images: \(good)}"), train: train, seed: 1)
        XCTAssertEqual(set.dataset.count, 15)
        XCTAssertEqual(set.labeled, [Bool](repeating: true, count: 10) + [Bool](repeating: false, count: 5))
        XCTAssertEqual(set.dataset.rawValues(11), (16..<32).map { Float($0 % 251) })
        let bad = try idx(5, 5, 5)
        XCTAssertThrowsError(try TransferSet.build(try config("{set: train, images: \(bad)}"), train: train, seed: 1)) {
            XCTAssertTrue("\($0)".contains("images-5-5x5.idx") && "\($0)".contains("do not match"), "\($0)")
        }
    }
}

final class ScratchSetTests: XCTestCase {
    /// The scratch student trains on the transfer set's shape: the same labelled examples, and the
    /// training set again where the transfer set has unlabelled ones.
    func testScratchSetKeepsLabelledRowsAndCyclesTheTrainingSetElsewhere() throws {
        var r = RandomStream(seed: 1)
        let pixels = (0..<(10 * 16)).map { _ in UInt8(r.below(256)) }
        let train = try Dataset(uint8: pixels, sampleShape: [1, 4, 4], labels: (0..<10).map { Int32($0 % 3) }, classCount: 3)
        let munge = try TransferSet.build(try ConfigLoader.decode(TransferConfig.self, yaml: "{set: munge, multiplier: 3}", source: "t"),
                                          train: train, seed: 1)
        let scratch = try DistillationRun.scratchSet(munge, train: train)
        XCTAssertEqual(scratch.count, 30)
        XCTAssertEqual(scratch.labels, train.labels + train.labels + train.labels)
        XCTAssertEqual(scratch.rawValues(23), train.rawValues(3))
        let augmented = try TransferSet.build(try ConfigLoader.decode(TransferConfig.self, yaml: "{set: augmented, multiplier: 2}", source: "t"),
                                              train: train, seed: 1)
        let same = try DistillationRun.scratchSet(augmented, train: train)
        XCTAssertEqual((0..<20).map { same.rawValues($0) }, (0..<20).map { augmented.dataset.rawValues($0) })
    }
}
