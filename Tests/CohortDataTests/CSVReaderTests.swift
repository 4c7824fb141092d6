import Cohort
import CohortData
import XCTest

final class CSVReaderTests: XCTestCase {
    var directory = ""

    override func setUpWithError() throws { directory = try makeTemporaryDirectory(self) }

    /// Writes `text` to a new file and returns its path.
    func csv(_ text: String, name: String = "data.csv") throws -> String {
        let path = directory + "/" + name
        try writeFile(path, Array(text.utf8))
        return path
    }

    func testHeaderLabelByNameCRLFBlankLinesAndSpaces() throws {
        let path = try csv("a, label ,b\r\n1.5, 2, -3e-1\r\n\r\n  4 ,0,5\n\n")
        let table = try CSVReader.read(path: path, hasHeader: true, labelColumn: .name("label"))
        XCTAssertEqual(table.featureNames, ["a", "b"])
        XCTAssertEqual(table.featureCount, 2)
        XCTAssertEqual(table.rowCount, 2)
        XCTAssertEqual(table.features, [1.5, -0.3, 4, 5])
        XCTAssertEqual(table.labels, [2, 0])
    }

    func testDatasetWithoutHeaderLabelFirstOrLast() throws {
        let path = try csv("1,0.25,0.5\n0,1,2\n2,3,4\n")
        let first = try Dataset.csv(path: path, hasHeader: false, labelColumn: .index(0))
        XCTAssertEqual(first.count, 3)
        XCTAssertEqual(first.sampleShape, [2])
        XCTAssertEqual(first.labels, [1, 0, 2])
        XCTAssertEqual(first.classCount, 3)
        XCTAssertEqual(first.rawValues(0), [0.25, 0.5])
        let semicolons = try csv("0.5;1\n2;0\n", name: "semi.csv")
        let last = try Dataset.csv(path: semicolons, hasHeader: false, delimiter: ";", classCount: 4)
        XCTAssertEqual(last.labels, [1, 0])
        XCTAssertEqual(last.rawValues(1), [2])
        XCTAssertEqual(last.classCount, 4)
    }

    func testGzipCSV() throws {
        let path = directory + "/data.csv.gz"
        try writeGzipFile(path, Array("x,y\n1,0\n2,1\n".utf8))
        let dataset = try Dataset.csv(path: path, hasHeader: true)
        XCTAssertEqual(dataset.labels, [0, 1])
        XCTAssertEqual(dataset.rawValues(1), [2])
    }

    func testErrorsNameFileLineAndColumn() throws {
        let notNumber = try csv("a,b,label\n1,2,0\n3,abc,1\n")
        assertThrows(try Dataset.csv(path: notNumber, hasHeader: true), prefix: notNumber + ":3:3: ", "field 2 'abc' is not a number")
        let partial = try csv("1,2x,0\n")
        assertThrows(try Dataset.csv(path: partial, hasHeader: false), prefix: partial + ":1:3: ", "field 2 '2x' is not a number")
        let empty = try csv("1,2,0\n4,,1\n")
        assertThrows(try Dataset.csv(path: empty, hasHeader: false), prefix: empty + ":2:3: ", "field 2 is empty")
        let fewer = try csv("1,2,0\n\n4,1\n")
        assertThrows(try Dataset.csv(path: fewer, hasHeader: false), prefix: fewer + ":3:4: ", "2 fields, but line 1 has 3")
        let more = try csv("1,2,0\n4,1,1,7\n")
        assertThrows(try Dataset.csv(path: more, hasHeader: false), prefix: more + ":2:7: ", "4 fields, but line 1 has 3")
        let nan = try csv("1,nan,0\n")
        assertThrows(try Dataset.csv(path: nan, hasHeader: false), prefix: nan + ":1:3: ", "'nan' is not a finite 32-bit float")
        let big = try csv("1,1e39,0\n")
        assertThrows(try Dataset.csv(path: big, hasHeader: false), prefix: big + ":1:3: ", "not a finite 32-bit float")
        let fractional = try csv("1,2,0\n3,4,1.5\n")
        assertThrows(try Dataset.csv(path: fractional, hasHeader: false), prefix: fractional + ":2:5: ", "label '1.5' is not a non-negative integer")
        let negative = try csv("1,2,-1\n")
        assertThrows(try Dataset.csv(path: negative, hasHeader: false), prefix: negative + ":1:5: ", "label '-1' is not a non-negative integer")
    }

    func testStructuralErrors() throws {
        let path = try csv("a,b\n1,0\n")
        assertThrows(try Dataset.csv(path: path, hasHeader: true, labelColumn: .name("y")), prefix: path + ":1: ",
                     "no column named 'y' in the header (a, b)")
        assertThrows(try Dataset.csv(path: path, hasHeader: false, labelColumn: .name("b")), prefix: path + ": ", "without a header row")
        assertThrows(try Dataset.csv(path: path, hasHeader: true, labelColumn: .index(2)), prefix: path + ":1: ",
                     "label column 2 is outside the 2 columns")
        assertThrows(try Dataset.csv(path: path, hasHeader: true, classCount: 0), prefix: path + ": ", "label 0 of sample 0 is outside 0..<0")
        let blank = try csv("\n\n", name: "blank.csv")
        assertThrows(try Dataset.csv(path: blank, hasHeader: false), prefix: blank + ": ", "no data")
        let headerOnly = try csv("a,b\n", name: "header.csv")
        assertThrows(try Dataset.csv(path: headerOnly, hasHeader: true), prefix: headerOnly + ": ", "no data rows after the header")
        let labelOnly = try csv("1\n2\n", name: "labels.csv")
        assertThrows(try Dataset.csv(path: labelOnly, hasHeader: false), prefix: labelOnly + ": ", "no feature columns")
        assertThrows(try Dataset.csv(path: directory + "/absent.csv", hasHeader: false), prefix: directory + "/absent.csv: ", "no such file")
    }
}
