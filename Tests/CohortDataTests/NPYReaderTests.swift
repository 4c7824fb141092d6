import Cohort
import CohortData
import Foundation
import XCTest

final class NPYReaderTests: XCTestCase {
    var directory = ""

    override func setUpWithError() throws { directory = try makeTemporaryDirectory(self) }

    /// An .npy file: magic, version, header length, the dict padded with spaces and '\n', payload.
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let path = directory + "/" + name
        try writeFile(path, bytes)
        return path
    }

    func testReadsEveryDtypeAndVersion() throws {
        let f4 = try write("f4.npy", npyBytes(descr: "<f4", shape: "(2, 3)", payload: littleEndianBytes([Float](arrayLiteral: 1, 2, 3, 4, 5, 6.5))))
        let a = try NPYArray.read(path: f4)
        XCTAssertEqual(a.shape, [2, 3])
        XCTAssertEqual(a.dtype, "<f4")
        XCTAssertEqual(try a.floats(), [1, 2, 3, 4, 5, 6.5])

        let f8 = try write("f8.npy", npyBytes(descr: "<f8", shape: "(2,)", version: 2, payload: littleEndianBytes([0.5, -2.0])))
        XCTAssertEqual(try NPYArray.read(path: f8).floats(), [0.5, -2])

        let u1 = try write("u1.npy", npyBytes(descr: "|u1", shape: "(3,)", version: 3, payload: [0, 128, 255]))
        XCTAssertEqual(try NPYArray.read(path: u1).labels(), [0, 128, 255])

        let i4 = try write("i4.npy", npyBytes(descr: "<i4", shape: "(2,)", payload: littleEndianBytes([Int32(7), 0])))
        XCTAssertEqual(try NPYArray.read(path: i4).labels(), [7, 0])

        let i8 = try write("i8.npy", npyBytes(descr: "<i8", shape: "(3, 1)", payload: littleEndianBytes([Int64(1), 2, 3])))
        XCTAssertEqual(try NPYArray.read(path: i8).labels(), [1, 2, 3])

        let scalar = try write("scalar.npy", npyBytes(descr: "<f4", shape: "()", payload: littleEndianBytes([Float(9)])))
        XCTAssertEqual(try NPYArray.read(path: scalar).floats(), [9])

        let python2 = try write("py2.npy", npyBytes(descr: "", shape: "", dict: "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (1L, 2L)}",
                                                    payload: littleEndianBytes([Float](arrayLiteral: 1, 2))))
        XCTAssertEqual(try NPYArray.read(path: python2).shape, [1, 2])
    }

    func testDatasetFromNPYFiles() throws {
        let pixels: [UInt8] = Array(0..<12)
        let images = try write("x.npy", npyBytes(descr: "|u1", shape: "(3, 4)", payload: pixels))
        let labels = try write("y.npy", npyBytes(descr: "<i8", shape: "(3,)", payload: littleEndianBytes([Int64(2), 0, 1])))
        let dataset = try Dataset.npy(features: images, labels: labels, sampleShape: [1, 2, 2])
        XCTAssertEqual(dataset.sampleShape, [1, 2, 2])
        XCTAssertEqual(dataset.labels, [2, 0, 1])
        XCTAssertEqual(dataset.rawValues(1), [4, 5, 6, 7])
        guard case .uint8 = dataset.storage.features else { return XCTFail("|u1 features should stay bytes") }

        let floats = try write("f.npy", npyBytes(descr: "<f8", shape: "(3, 2)", payload: littleEndianBytes([0.5, 1, 2, 3, 4, 5])))
        let real = try Dataset.npy(features: floats, labels: labels, classCount: 5)
        XCTAssertEqual(real.sampleShape, [2])
        XCTAssertEqual(real.classCount, 5)
        XCTAssertEqual(real.rawValues(0), [0.5, 1])

        let twoLabels = try write("y2.npy", npyBytes(descr: "<i4", shape: "(2,)", payload: littleEndianBytes([Int32(0), 1])))
        assertThrows(try Dataset.npy(features: images, labels: twoLabels), prefix: twoLabels + ": ", "2 labels but \(images) has 3 samples")
        let floatLabels = try write("yf.npy", npyBytes(descr: "<f4", shape: "(3,)", payload: littleEndianBytes([Float](arrayLiteral: 0, 1, 2))))
        assertThrows(try Dataset.npy(features: images, labels: floatLabels), prefix: floatLabels + ": ", "labels need an integer dtype")
        let negative = try write("yn.npy", npyBytes(descr: "<i4", shape: "(3,)", payload: littleEndianBytes([Int32(0), -4, 1])))
        assertThrows(try Dataset.npy(features: images, labels: negative), prefix: negative + ": ", "label -4 at index 1 is not a non-negative 32-bit integer")
        assertThrows(try Dataset.npy(features: images, labels: labels, sampleShape: [5]), prefix: images + ": ",
                     "sample shape [5] does not hold the 4 values")
        let nan = try write("nan.npy", npyBytes(descr: "<f4", shape: "(3, 1)", payload: littleEndianBytes([Float](arrayLiteral: 0, .nan, 1))))
        assertThrows(try Dataset.npy(features: nan, labels: labels), prefix: nan + ": ", "element 1 is nan (not finite)")
    }

    func testRejectsBadFiles() throws {
        let four = littleEndianBytes([Float](arrayLiteral: 1, 2, 3, 4))
        func rejected(_ name: String, _ bytes: [UInt8], _ expected: String, file: StaticString = #filePath, line: UInt = #line) throws {
            let path = try write(name, bytes)
            assertThrows(try NPYArray.read(path: path), prefix: path + ": ", expected, file: file, line: line)
        }
        try rejected("magic.npy", Array("PK\u{3}\u{4}hello".utf8), "not a NumPy .npy file")
        try rejected("short.npy", [0x93] + Array("NUMPY".utf8) + [1], "too short for an .npy header")
        try rejected("v4.npy", npyBytes(descr: "<f4", shape: "(4,)", version: 4, payload: four), "format version 4.0 is not supported")
        try rejected("fortran.npy", npyBytes(descr: "<f4", shape: "(2, 2)", fortran: true, payload: four), "fortran_order arrays are not supported")
        try rejected("big.npy", npyBytes(descr: ">f4", shape: "(4,)", payload: four), "dtype '>f4' is not supported (big-endian")
        try rejected("complex.npy", npyBytes(descr: "<c8", shape: "(2,)", payload: four), "dtype '<c8' is not supported; supported: <f4, <f8, |u1, <i4, <i8")
        try rejected("truncated.npy", npyBytes(descr: "<f4", shape: "(5,)", payload: four), "truncated: shape (5,) of <f4 = 20 bytes, found 16")
        try rejected("trailing.npy", npyBytes(descr: "<f4", shape: "(3,)", payload: four), "4 trailing bytes after the data of shape (3,) of <f4")
        try rejected("structured.npy", npyBytes(descr: "", shape: "", dict: "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,)}", payload: four),
                     "structured dtypes")
        try rejected("nokey.npy", npyBytes(descr: "", shape: "", dict: "{'descr': '<f4', 'shape': (4,)}", payload: four), "no boolean 'fortran_order'")
        try rejected("extra.npy", npyBytes(descr: "", shape: "", dict: "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), 'x': 1}", payload: four),
                     "malformed .npy header")
        try rejected("negative.npy", npyBytes(descr: "<f4", shape: "(-4,)", payload: four), "expected a non-negative integer dimension")
        try rejected("unterminated.npy", npyBytes(descr: "", shape: "", dict: "{'descr': '<f4", payload: []), "unterminated string")
        var cut = npyBytes(descr: "<f4", shape: "(4,)", payload: [])
        cut.removeLast(20)
        try rejected("cutheader.npy", cut, "truncated: header length is 118 bytes, found 98")
    }

    /// Files NumPy itself wrote (skipped when python3 cannot import numpy).
    func testReadsFilesWrittenByNumPy() throws {
        let x = directory + "/np_x.npy", y = directory + "/np_y.npy"
        let script = """
        import sys, numpy as np
        np.save(sys.argv[1], np.arange(12, dtype=np.float32).reshape(3, 4) / 4)
        np.save(sys.argv[2], np.array([3, 1, 2], dtype=np.int64))
        """
        let result: (status: Int32, output: String)
        do { result = try runPython(script, [x, y]) } catch { throw XCTSkip("python3 is not available") }
        guard result.status == 0 else { throw XCTSkip("numpy is not available: \(result.output)") }
        let dataset = try Dataset.npy(features: x, labels: y)
        XCTAssertEqual(dataset.sampleShape, [4])
        XCTAssertEqual(dataset.labels, [3, 1, 2])
        XCTAssertEqual(dataset.rawValues(2), [2, 2.25, 2.5, 2.75])
    }
}

/// Runs `python3 -c script args...`, returning exit status and combined output.
func runPython(_ script: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script] + arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: output, as: UTF8.self))
}
