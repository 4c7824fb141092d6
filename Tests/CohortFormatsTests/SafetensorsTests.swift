import Cohort
@testable import CohortFormats
import Foundation
import XCTest

final class SafetensorsTests: XCTestCase {
    func sampleTensors() throws -> [String: SafetensorsTensor] {
        [
            "layers.0.weight": SafetensorsTensor(try Tensor(shape: [2, 3], scalars: [1, -2, 3.5, 0, 1e-30, -7])),
            "layers.0.bias": SafetensorsTensor(try Tensor(shape: [3], scalars: [0.25, 0.5, 0.75])),
            "step": try SafetensorsTensor(shape: [], values: [Int64(1234567890123)]),
            "rng": try SafetensorsTensor(shape: [2, 2], values: [Int32.min, -1, 0, Int32.max]),
            "mask": try SafetensorsTensor(shape: [3], values: [UInt8(0), 1, 255]),
            "q": try SafetensorsTensor(shape: [2], values: [Int8(-128), 127]),
            "empty": try SafetensorsTensor(shape: [0, 4], values: [Float]()),
        ]
    }

    func testRoundTripOfEveryDTypeAndMetadata() throws {
        let dir = try makeTemporaryDirectory(self)
        let url = dir.appendingPathComponent("model.safetensors")
        let tensors = try sampleTensors()
        let metadata = ["format": "pt", "note": "quote \" backslash \\ newline \n tab \t ü"]
        try Safetensors.write(tensors, metadata: metadata, to: url)
        let file = try Safetensors.read(from: url)
        XCTAssertEqual(file.tensors, tensors)
        XCTAssertEqual(file.metadata, metadata)
        XCTAssertEqual(file.names, tensors.keys.sorted())
        XCTAssertEqual(try file.floatTensor("layers.0.weight").shape, [2, 3])
        XCTAssertEqual(try file.floatTensor("layers.0.weight").scalars, [1, -2, 3.5, 0, 1e-30, -7])
        XCTAssertEqual(try file.tensor("step").values(as: Int64.self), [1234567890123])
        XCTAssertEqual(try file.tensor("rng").values(as: Int32.self), [Int32.min, -1, 0, Int32.max])
        XCTAssertEqual(try file.tensor("mask").values(as: UInt8.self), [0, 1, 255])
        XCTAssertEqual(try file.tensor("q").values(as: Int8.self), [-128, 127])
        XCTAssertEqual(try file.floatTensor("empty").shape, [0, 4])
    }

    func testLayoutIsPaddedSortedAndDeterministic() throws {
        let tensors = try sampleTensors()
        let data = try Safetensors.encode(tensors, metadata: ["b": "2", "a": "1"])
        XCTAssertEqual(data, try Safetensors.encode(tensors, metadata: ["a": "1", "b": "2"]))
        let headerLength = Int(data.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        XCTAssertEqual(headerLength % 8, 0)
        let header = String(decoding: data[8..<8 + headerLength], as: UTF8.self)
        XCTAssertTrue(header.hasPrefix(#"{"__metadata__":{"a":"1","b":"2"},"empty":{"dtype":"F32","shape":[0,4],"data_offsets":[0,0]},"layers.0.bias":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}"#), header)
        XCTAssertEqual(header.trimmingCharacters(in: .whitespaces).last, "}")
        let payload = tensors.values.map(\.bytes.count).reduce(0, +)
        XCTAssertEqual(data.count, 8 + headerLength + payload)
        // The file written to disk is the same bytes.
        let url = try makeTemporaryDirectory(self).appendingPathComponent("a.safetensors")
        try Safetensors.write(tensors, metadata: ["a": "1", "b": "2"], to: url)
        XCTAssertEqual(try Data(contentsOf: url), data)
    }

    func testFloatTensorConvenienceAndWrongDTypeMessages() throws {
        let url = try makeTemporaryDirectory(self).appendingPathComponent("f.safetensors")
        let w = try Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])
        try Safetensors.write(floatTensors: ["w": w], to: url)
        let file = try Safetensors.read(from: url)
        XCTAssertEqual(try file.floatTensor("w").scalars, [1, 2, 3, 4])
        XCTAssertEqual(file.metadata, [:])
        XCTAssertEqual(thrownMessage(try file.floatTensor("missing")), "\(url.path): no tensor named 'missing'")
        let ints = try Safetensors.decode(try Safetensors.encode(["i": try SafetensorsTensor(shape: [1], values: [Int64(3)])]), source: "x.safetensors")
        XCTAssertEqual(thrownMessage(try ints.floatTensor("i")), "x.safetensors: tensor 'i' has dtype I64, not F32")
        XCTAssertThrowsError(try ints.tensor("i").values(as: Int32.self))
    }

    func testWriterRejectsInconsistentTensorsAndReservedName() throws {
        XCTAssertThrowsError(try SafetensorsTensor(dtype: .f32, shape: [2, 2], bytes: Data(count: 15)))
        XCTAssertThrowsError(try SafetensorsTensor(dtype: .i8, shape: [-1], bytes: Data()))
        XCTAssertThrowsError(try SafetensorsTensor(dtype: .i64, shape: [Int.max, 2], bytes: Data()))
        let url = try makeTemporaryDirectory(self).appendingPathComponent("r.safetensors")
        let message = thrownMessage(try Safetensors.write(["__metadata__": try SafetensorsTensor(shape: [1], values: [UInt8(1)])], to: url))
        XCTAssertTrue(message.contains("'__metadata__' is reserved"), message)
        XCTAssertFalse(FileManager.default.fileExists(atPath: url.path))
    }
}
