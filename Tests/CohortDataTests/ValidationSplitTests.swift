import Cohort
import CohortData
import XCTest

final class ValidationSplitTests: XCTestCase {
    /// 100 one-byte samples whose value is their index, labels index % 10.
    func makeDataset() throws -> Dataset {
        try Dataset(uint8: (0..<100).map { UInt8($0) }, sampleShape: [1], labels: (0..<100).map { Int32($0 % 10) })
    }

    func testDeterministicDisjointAndShared() throws {
        let dataset = try makeDataset()
        let (train, validation) = try dataset.split(validationFraction: 0.2, seed: 11)
        XCTAssertEqual(train.count, 80)
        XCTAssertEqual(validation.count, 20)
        let trainRows = (0..<80).map(train.storageRow), validationRows = (0..<20).map(validation.storageRow)
        XCTAssertTrue(Set(trainRows).isDisjoint(with: validationRows))
        XCTAssertEqual(Set(trainRows).union(validationRows), Set(0..<100))
        XCTAssertEqual(trainRows, trainRows.sorted(), "parts keep the original order")
        XCTAssertTrue(train.storage === dataset.storage && validation.storage === dataset.storage, "no copy of the samples")
        XCTAssertEqual(validation.rawValues(3), [Float(validationRows[3])])
        XCTAssertEqual(validation.label(3), Int32(validationRows[3] % 10))

        let again = try dataset.split(validationFraction: 0.2, seed: 11)
        XCTAssertEqual((0..<20).map(again.validation.storageRow), validationRows)
        let other = try dataset.split(validationFraction: 0.2, seed: 12)
        XCTAssertNotEqual((0..<20).map(other.validation.storageRow), validationRows)
    }

    func testSplittingASubsetMapsToStorageRows() throws {
        let dataset = try makeDataset()
        let evens = try dataset.subset(Array(stride(from: 0, to: 100, by: 2)))
        let (train, validation) = try evens.split(validationCount: 5, seed: 3)
        XCTAssertEqual(train.count + validation.count, 50)
        let rows = (0..<45).map(train.storageRow) + (0..<5).map(validation.storageRow)
        XCTAssertEqual(Set(rows), Set(stride(from: 0, to: 100, by: 2)))
    }

    func testInvalidSplits() throws {
        let dataset = try makeDataset()
        assertThrows(try dataset.split(validationFraction: 1, seed: 0), prefix: "validation split: ", "strictly between 0 and 1")
        assertThrows(try dataset.split(validationFraction: 0.001, seed: 0), prefix: "validation split: ", "leaves a part empty")
        assertThrows(try dataset.split(validationCount: 100, seed: 0), prefix: "validation split: ", "100 validation samples out of 100")
        assertThrows(try dataset.subset([0, 100]), prefix: "subset: ", "position 100 outside 0..<100")
    }
}
