import Cohort
import CohortFormats
import Foundation
import XCTest

/// Every way a safetensors file can be wrong must give a one-line error naming the file, never a crash.
final class SafetensorsCorruptionTests: XCTestCase {
    let source = "run/bad.safetensors"

    /// A file with `header` as its JSON header and `bufferSize` zero bytes of data.
    func file(header: String, bufferSize: Int = 0, declaredLength: UInt64? = nil) -> Data {
        var data = Data()
        let json = Data(header.utf8)
        withUnsafeBytes(of: (declaredLength ?? UInt64(json.count)).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        data.append(Data(count: bufferSize))
        return data
    }

    func assertRejected(_ data: Data, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        let message = thrownMessage(try Safetensors.decode(data, source: source), file: file, line: line)
        XCTAssertTrue(message.hasPrefix("\(source): "), message, file: file, line: line)
        XCTAssertTrue(message.contains(expected), "'\(message)' does not mention '\(expected)'", file: file, line: line)
        XCTAssertFalse(message.contains("\n"), message, file: file, line: line)
    }

    func entry(_ name: String, dtype: String = "F32", shape: String = "[2]", offsets: String = "[0,8]") -> String {
        #""\#(name)":{"dtype":"\#(dtype)","shape":\#(shape),"data_offsets":\#(offsets)}"#
    }

    func testValidMinimalFileIsAccepted() throws {
        let decoded = try Safetensors.decode(file(header: "{\(entry("a"))}   ", bufferSize: 8), source: source)
        XCTAssertEqual(try decoded.floatTensor("a").scalars, [0, 0])
        XCTAssertEqual(try Safetensors.decode(file(header: "{}"), source: source).tensors.count, 0)
    }

    func testShortFiles() {
        assertRejected(Data(), "file is 0 bytes, too short for the 8-byte header length")
        assertRejected(Data([1, 0, 0]), "file is 3 bytes")
    }

    func testHeaderLengthBeyondFile() {
        assertRejected(file(header: "{}", declaredLength: 3), "header length 3 exceeds the 2 bytes after the length field")
        assertRejected(file(header: "{}", declaredLength: UInt64.max), "header length 18446744073709551615 exceeds")
    }

    func testInvalidJSON() {
        assertRejected(file(header: "{\"a\": "), "header is not valid JSON")
        assertRejected(file(header: "{\"a\":{}} trailing"), "header is not valid JSON")
        assertRejected(file(header: "[1, 2]"), "header is not a JSON object")
        assertRejected(file(header: ""), "header is not a JSON object")
        assertRejected(file(header: "{\"a\": 1}"), "tensor 'a' is not an object")
    }

    func testUnknownOrMissingDType() {
        assertRejected(file(header: "{\(entry("w", dtype: "BF16", shape: "[4]"))}", bufferSize: 8),
                       "tensor 'w' has dtype 'BF16', which Cohort does not read (known: F32, I8, U8, I32, I64)")
        assertRejected(file(header: #"{"w":{"shape":[2],"data_offsets":[0,8]}}"#, bufferSize: 8), "tensor 'w' has no string 'dtype'")
    }

    func testMalformedShapesAndOffsets() {
        assertRejected(file(header: "{\(entry("w", shape: "[2.5]"))}", bufferSize: 8), "tensor 'w' has no 'shape' array of integers")
        assertRejected(file(header: "{\(entry("w", shape: "[true]"))}", bufferSize: 8), "no 'shape' array of integers")
        assertRejected(file(header: "{\(entry("w", shape: "\"2\""))}", bufferSize: 8), "no 'shape' array of integers")
        assertRejected(file(header: "{\(entry("w", offsets: "[0,8,9]"))}", bufferSize: 8), "no 'data_offsets' pair of integers")
        assertRejected(file(header: "{\(entry("w", offsets: "[0]"))}", bufferSize: 8), "no 'data_offsets' pair of integers")
        assertRejected(file(header: "{\(entry("w", offsets: "[0,1e40]"))}", bufferSize: 8), "no 'data_offsets' pair of integers")
        assertRejected(file(header: "{\(entry("w", offsets: "[-8,0]"))}", bufferSize: 8), "negative data_offsets [-8, 0]")
        assertRejected(file(header: "{\(entry("w", shape: "[-2]"))}", bufferSize: 8), "negative or overflowing shape [-2]")
        assertRejected(file(header: "{\(entry("w", shape: "[4611686018427387904,4]"))}", bufferSize: 8), "negative or overflowing shape")
    }

    func testOffsetsOutOfBounds() {
        assertRejected(file(header: "{\(entry("w", offsets: "[8,0]"))}", bufferSize: 8), "data_offsets [8, 0] that end before they begin")
        assertRejected(file(header: "{\(entry("w", offsets: "[0,8]"))}", bufferSize: 4), "data_offsets [0, 8] beyond the 4-byte data buffer")
        assertRejected(file(header: "{\(entry("w", offsets: "[9223372036854775000,9223372036854775008]"))}", bufferSize: 8), "beyond the 8-byte data buffer")
    }

    func testShapeDisagreesWithByteLength() {
        assertRejected(file(header: "{\(entry("w", shape: "[3]", offsets: "[0,8]"))}", bufferSize: 8),
                       "tensor 'w' of shape [3] and dtype F32 needs 12 bytes but data_offsets [0, 8] hold 8")
        assertRejected(file(header: "{\(entry("w", dtype: "I64", shape: "[2]", offsets: "[0,8]"))}", bufferSize: 8), "needs 16 bytes")
    }

    func testOverlapGapAndUncoveredBytes() {
        assertRejected(file(header: "{\(entry("a", offsets: "[0,8]")),\(entry("b", offsets: "[4,12]"))}", bufferSize: 12),
                       "tensor 'b' overlaps tensor 'a'")
        assertRejected(file(header: "{\(entry("a", offsets: "[0,8]")),\(entry("b", offsets: "[0,8]"))}", bufferSize: 8), "overlaps")
        assertRejected(file(header: "{\(entry("a", offsets: "[0,8]")),\(entry("b", offsets: "[12,20]"))}", bufferSize: 20),
                       "bytes 8..<12 of the data buffer belong to no tensor")
        assertRejected(file(header: "{\(entry("a", offsets: "[0,8]"))}", bufferSize: 10), "tensors cover 8 bytes but the data buffer has 10")
        assertRejected(file(header: "{}", bufferSize: 3), "tensors cover 0 bytes but the data buffer has 3")
    }

    func testMalformedMetadata() {
        assertRejected(file(header: #"{"__metadata__":{"epoch":3}}"#), "metadata 'epoch' is not a string")
        assertRejected(file(header: #"{"__metadata__":["a"]}"#), "'__metadata__' is not an object")
    }

    func testMissingFileNamesThePath() {
        let message = thrownMessage(try Safetensors.read(from: URL(fileURLWithPath: "/nonexistent/ckpt.safetensors")))
        XCTAssertTrue(message.hasPrefix("/nonexistent/ckpt.safetensors: cannot read"), message)
        XCTAssertFalse(message.contains("\n"), message)
    }

    /// Every truncation and many random byte flips of a valid file must throw or decode, never crash.
    func testTruncationsAndBitFlipsNeverCrash() throws {
        let good = try Safetensors.encode([
            "a": SafetensorsTensor(try Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])),
            "b": try SafetensorsTensor(shape: [3], values: [Int64(1), 2, 3]),
        ], metadata: ["k": "v"])
        for length in 0..<good.count {
            XCTAssertThrowsError(try Safetensors.decode(good.prefix(length), source: source), "prefix of \(length) bytes")
        }
        var rng = SystemRandomNumberGenerator()
        let headerEnd = 8 + Int(good.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        for _ in 0..<300 {
            var bad = good
            let position = Int.random(in: 0..<headerEnd, using: &rng)
            bad[position] = UInt8.random(in: 0...255, using: &rng)
            if let decoded = try? Safetensors.decode(bad, source: source) {
                XCTAssertEqual(decoded.tensors.values.map(\.bytes.count).reduce(0, +), good.count - headerEnd)
            }
        }
    }
}
