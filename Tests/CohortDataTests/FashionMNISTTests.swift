import Cohort
import CohortData
import XCTest

/// The real Fashion-MNIST files (Debian package dataset-fashion-mnist), read once.
final class FashionMNISTTests: XCTestCase {
    func testLoadsTheInstalledFiles() throws {
        let directory = FashionMNIST.defaultDirectory
        guard FileManager.default.fileExists(atPath: directory) else {
            throw XCTSkip("\(directory) is missing; apt-get install dataset-fashion-mnist")
        }
        let (train, test) = try FashionMNIST.load(directory: directory)
        XCTAssertEqual(train.count, 60000)
        XCTAssertEqual(test.count, 10000)
        XCTAssertEqual(train.sampleShape, [1, 28, 28])
        XCTAssertEqual(train.classCount, 10)
        XCTAssertEqual(train.classNames?[9], "Ankle boot")
        // Facts checked independently with Python's gzip module.
        XCTAssertEqual(train.label(0), 9)
        XCTAssertEqual(test.label(0), 9)
        XCTAssertEqual(train.label(59999), 5)
        XCTAssertEqual(test.label(9999), 5)
        XCTAssertEqual(train.rawValues(0).reduce(0, +), 76247)
        XCTAssertEqual(test.rawValues(0).reduce(0, +), 33456)
        XCTAssertEqual(train.classCounts, [Int](repeating: 6000, count: 10))
        XCTAssertEqual(test.classCounts, [Int](repeating: 1000, count: 10))

        // With the default (Fashion-MNIST) normalisation a large batch has mean near 0 and std near 1.
        let loader = try BatchLoader(dataset: train, batchSize: 2000)
        let batch = try loader.load(Array(0..<2000))
        XCTAssertEqual(batch.shape, [2000, 1, 28, 28])
        let values = batch.scalars
        let mean = values.reduce(0, +) / Float(values.count)
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(values.count)
        XCTAssertEqual(mean, 0, accuracy: 0.05)
        XCTAssertEqual(variance.squareRoot(), 1, accuracy: 0.05)
    }

    func testMissingDirectoryOrFileSuggestsThePackage() throws {
        assertThrows(try FashionMNIST.load(directory: "/nonexistent/fashion"), prefix: "/nonexistent/fashion: ",
                     "apt-get install dataset-fashion-mnist")
        let empty = try makeTemporaryDirectory(self)
        assertThrows(try FashionMNIST.load(directory: empty), prefix: empty + "/train-images-idx3-ubyte.gz: ",
                     "no such file; Fashion-MNIST is incomplete (install it with `apt-get install dataset-fashion-mnist`)")
    }
}
