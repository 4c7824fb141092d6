import Cohort
import CohortData
import XCTest

/// The user's own data: CSV tables and .npy arrays as classes or regression targets, standardised
/// on the training split.
final class TabularDataTests: XCTestCase {
    var directory = ""

    override func setUpWithError() throws { directory = try makeTemporaryDirectory(self) }

    func file(_ name: String, _ text: String) throws -> String {
        let path = directory + "/" + name
        try writeFile(path, Array(text.utf8))
        return path
    }

    func npy<T>(_ name: String, _ descr: String, _ shape: String, _ values: [T]) throws -> String {
        let path = directory + "/" + name
        try writeFile(path, npyBytes(descr: descr, shape: shape, payload: littleEndianBytes(values)))
        return path
    }

    func testCSVTargetByNameFeaturesInTheListedOrderAndTextClasses() throws {
        let path = try file("t.csv", "a,kind,b,c\n1,dog,2,3\n4,cat,5,6\n7,emu,8,9\n10,cat,11,12\n")
        let columns = try CSVReader.readColumns(path: path, target: "kind", features: ["c", "a"])
        XCTAssertEqual(columns.featureNames, ["c", "a"])
        XCTAssertEqual(columns.features, [3, 1, 6, 4, 9, 7, 12, 10])
        XCTAssertEqual(columns.targets, ["dog", "cat", "emu", "cat"])
        XCTAssertEqual(columns.location(ofTarget: 2), path + ":4:3")
        let (dataset, classes) = try Dataset.table(columns, task: .classification)
        XCTAssertEqual(classes?.names, ["cat", "dog", "emu"])
        XCTAssertEqual(dataset.labels, [1, 0, 2, 0])
        XCTAssertEqual(dataset.classNames, ["cat", "dog", "emu"])
        XCTAssertEqual(dataset.sampleShape, [2])
        // Without a target name the last column is the target; without features every other column
        // is one, and must hold numbers.
        assertThrows(try CSVReader.readColumns(path: path, target: nil, features: nil), prefix: path + ":2:3: ", "field 2 'dog' is not a number")
        let numbers = try file("n.csv", "a,b,y\n1,2,x\n")
        let all = try CSVReader.readColumns(path: numbers, target: nil, features: nil)
        XCTAssertEqual(all.targetName, "y")
        XCTAssertEqual(all.featureNames, ["a", "b"])
    }

    func testIntegerClassesSortNumericallyAndTheTestFileUsesTheTrainingClasses() throws {
        let train = try file("train.csv", "x,y\n0.5,10\n1.5,9\n2.5,10\n3.5,2\n")
        let (dataset, classes) = try Dataset.table(try CSVReader.readColumns(path: train, target: "y", features: nil), task: .classification)
        XCTAssertEqual(classes?.names, ["2", "9", "10"])
        XCTAssertEqual(dataset.labels, [2, 1, 2, 0])
        let test = try file("test.csv", "x,y\n1,09\n2,2\n")
        let (testSet, _) = try Dataset.table(try CSVReader.readColumns(path: test, target: "y", features: nil), task: .classification, classes: classes)
        XCTAssertEqual(testSet.labels, [1, 0], "09 is class 9")
        XCTAssertEqual(testSet.classCount, 3)
        let unseen = try file("unseen.csv", "x,y\n1,2\n2,7\n")
        assertThrows(try Dataset.table(try CSVReader.readColumns(path: unseen, target: "y", features: nil), task: .classification, classes: classes),
                     prefix: unseen + ":3:3: ", "class '7' never occurs in the training data (classes: 2, 9, 10)")
    }

    func testRegressionTargetsAndTheirErrors() throws {
        let path = try file("r.csv", "a,b,price\n1,2,3.5\n4,5,-1e2\n")
        let (dataset, classes) = try Dataset.table(try CSVReader.readColumns(path: path, target: "price", features: nil), task: .regression)
        XCTAssertNil(classes)
        XCTAssertTrue(dataset.isRegression)
        XCTAssertEqual(dataset.outputCount, 1)
        XCTAssertEqual(dataset.labels, [])
        let loader = try BatchLoader(dataset: dataset, batchSize: 2, normalization: .identity)
        try loader.load([1, 0])
        XCTAssertEqual(loader.targets.shape, [2, 1])
        XCTAssertEqual(loader.targets.scalars, [-100, 3.5])
        try loader.load([1])
        XCTAssertEqual(loader.targets.scalars, [-100], "a last partial batch is a view")
        let bad = try file("bad.csv", "a,price\n1,2\n3,cheap\n")
        assertThrows(try Dataset.table(try CSVReader.readColumns(path: bad, target: "price", features: nil), task: .regression),
                     prefix: bad + ":3:3: ", "target 'cheap' of column 'price' is not a finite number")
    }

    func testCSVStructuralErrorsNameTheFileAndTheColumn() throws {
        let path = try file("s.csv", "a,b,y\n1,2,0\n")
        assertThrows(try CSVReader.readColumns(path: path, target: "label", features: nil), prefix: path + ":1: ",
                     "no column named 'label' in the header (a, b, y)")
        assertThrows(try CSVReader.readColumns(path: path, target: "y", features: ["a", "z"]), prefix: path + ":1: ", "no column named 'z'")
        assertThrows(try CSVReader.readColumns(path: path, target: "y", features: ["a", "y"]), prefix: path + ": ", "'y' is the target column")
        assertThrows(try CSVReader.readColumns(path: path, target: "y", features: ["a", "a"]), prefix: path + ": ", "lists 'a' twice")
        let ragged = try file("ragged.csv", "a,b,y\n1,2,0\n3,4\n")
        assertThrows(try CSVReader.readColumns(path: ragged, target: nil, features: nil), prefix: ragged + ":3:4: ", "2 fields, but line 1 has 3")
        let onlyTarget = try file("only.csv", "y\n1\n")
        assertThrows(try CSVReader.readColumns(path: onlyTarget, target: nil, features: nil), prefix: onlyTarget + ": ", "no feature columns")
    }

    func testArraysAsClassesOrTargets() throws {
        let x = try npy("x.npy", "<f8", "(3, 2)", [Double](arrayLiteral: 1, 2, 3, 4, 5, 6))
        let classes = try npy("c.npy", "<i8", "(3,)", [Int64](arrayLiteral: 5, 3, 5))
        let (dataset, encoding) = try Dataset.arrays(x: x, y: classes, task: .classification)
        XCTAssertEqual(encoding?.names, ["3", "5"])
        XCTAssertEqual(dataset.labels, [1, 0, 1])
        XCTAssertEqual(dataset.rawValues(2), [5, 6])
        let targets = try npy("t.npy", "<f4", "(3, 2)", [Float](arrayLiteral: 0.5, 1, 1.5, 2, 2.5, 3))
        let (regression, _) = try Dataset.arrays(x: x, y: targets, task: .regression)
        XCTAssertEqual(regression.outputCount, 2)
        XCTAssertEqual(regression.count, 3)
        let ints = try npy("i.npy", "<i4", "(3, 2)", [Int32](arrayLiteral: 1, 2, 3, 4, 5, 6))
        assertThrows(try Dataset.arrays(x: ints, y: classes, task: .classification), prefix: ints + ": ",
                     "features of dtype '<i4' are not supported; use float32 (<f4), float64 (<f8) or uint8 (|u1)")
        let two = try npy("two.npy", "<i8", "(2,)", [Int64](arrayLiteral: 1, 2))
        assertThrows(try Dataset.arrays(x: x, y: two, task: .classification), prefix: two + ": ",
                     "shape [2] gives 2 targets, but \(x) has 3 samples (shape [3, 2])")
        assertThrows(try Dataset.arrays(x: x, y: targets, task: .classification), prefix: targets + ": ", "class labels of shape [3, 2]")
        let unseen = try npy("u.npy", "<i8", "(3,)", [Int64](arrayLiteral: 3, 4, 5))
        assertThrows(try Dataset.arrays(x: x, y: unseen, task: .classification, classes: encoding), prefix: unseen + ": label at index 1: ",
                     "class '4' never occurs in the training data")
    }

    func testStandardisingPerFeatureAndPerChannel() throws {
        let table = try Dataset(float32: [1, 10, 7, 3, 10, 7], sampleShape: [3], labels: [0, 1])
        let features = Normalization.standardizing(table, per: .feature)
        XCTAssertEqual(features.mean, [2, 10, 7])
        XCTAssertEqual(features.std, [1, 1, 1], "constant features keep std 1")
        let loader = try BatchLoader(dataset: table, batchSize: 2, normalization: features)
        XCTAssertEqual(try loader.load([0, 1]).scalars, [-1, 0, 0, 1, 0, 0])
        // Two channels of 2x1 byte images: channel 0 holds 0 and 255, channel 1 holds 51 everywhere.
        let images = try Dataset(uint8: [0, 255, 51, 51, 255, 0, 51, 51], sampleShape: [2, 2, 1], labels: [0, 1])
        let channels = Normalization.standardizing(images, per: .channel)
        XCTAssertEqual(channels.mean, [0.5, 0.2])
        XCTAssertEqual(channels.std[0], 0.5, accuracy: 1e-6)
        XCTAssertEqual(channels.std[1], 1)
        let pixels = try BatchLoader(dataset: images, batchSize: 1, normalization: channels)
        let values = try pixels.load([0]).scalars
        XCTAssertEqual(values[0], -1, accuracy: 1e-5)
        XCTAssertEqual(values[1], 1, accuracy: 1e-5)
        XCTAssertEqual(values[2], 0, accuracy: 1e-5)
        // Statistics that fit neither one value, the channels nor the features are refused.
        assertThrows(try BatchLoader(dataset: images, batchSize: 1, normalization: try Normalization(mean: [0, 0, 0], std: [1, 1, 1])),
                     prefix: "BatchLoader: ", "3 statistics do not fit samples of shape [2, 2, 1]")
    }
}
