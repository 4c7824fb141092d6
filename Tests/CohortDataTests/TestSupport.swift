import Cohort
import CZlib
import Foundation
import XCTest

/// A fresh directory under the system temp directory, removed when the test ends.
func makeTemporaryDirectory(_ test: XCTestCase) throws -> String {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("cohort-data-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url.path
}

/// Writes `bytes` to `path` as a plain file.
func writeFile(_ path: String, _ bytes: [UInt8]) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

/// Writes `bytes` to `path` gzip-compressed, through zlib's gzopen/gzwrite.
func writeGzipFile(_ path: String, _ bytes: [UInt8]) throws {
    guard let file = gzopen(path, "wb") else { throw CohortError.invalid("\(path): gzopen failed") }
    let written = bytes.withUnsafeBytes { gzwrite(file, $0.baseAddress, UInt32($0.count)) }
    let closed = gzclose(file)
    guard written == Int32(bytes.count) || bytes.isEmpty, closed == Z_OK else {
        throw CohortError.invalid("\(path): gzwrite failed")
    }
}

/// The gzip encoding of `bytes` (written and read back through a temporary file).
func gzipBytes(_ bytes: [UInt8], in directory: String) throws -> [UInt8] {
    let path = directory + "/gzip-\(UUID().uuidString).gz"
    try writeGzipFile(path, bytes)
    return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
}

/// An IDX file's bytes: magic 00 00 08 <rank>, big-endian dimensions, payload.
func idxBytes(dimensions: [Int], payload: [UInt8]) -> [UInt8] {
    var bytes: [UInt8] = [0, 0, 0x08, UInt8(dimensions.count)]
    for d in dimensions { bytes += withUnsafeBytes(of: UInt32(d).bigEndian) { Array($0) } }
    return bytes + payload
}

/// The message of the error `body` throws; fails the test if it throws nothing or something else.
func thrownMessage<T>(_ body: @autoclosure () throws -> T, file: StaticString = #filePath, line: UInt = #line) -> String {
    do {
        _ = try body()
        XCTFail("expected an error", file: file, line: line)
        return ""
    } catch let error as CohortError {
        return error.description
    } catch {
        XCTFail("expected a CohortError, got \(error)", file: file, line: line)
        return ""
    }
}

/// Asserts that `body` throws a one-line CohortError that starts with `prefix` and contains `expected`.
func assertThrows<T>(_ body: @autoclosure () throws -> T, prefix: String, _ expected: String,
                     file: StaticString = #filePath, line: UInt = #line) {
    let message = thrownMessage(try body(), file: file, line: line)
    XCTAssertTrue(message.hasPrefix(prefix), "'\(message)' does not start with '\(prefix)'", file: file, line: line)
    XCTAssertTrue(message.contains(expected), "'\(message)' does not mention '\(expected)'", file: file, line: line)
    XCTAssertFalse(message.contains("\n"), "'\(message)' is not one line", file: file, line: line)
}

/// A .npy file's bytes: magic, version, padded header dictionary, payload.
func npyBytes(descr: String, shape: String, fortran: Bool = false, version: UInt8 = 1, dict: String? = nil,
              payload: [UInt8]) -> [UInt8] {
    let text = dict ?? "{'descr': '\(descr)', 'fortran_order': \(fortran ? "True" : "False"), 'shape': \(shape), }"
    let prefixLength = version == 1 ? 10 : 12
    var header = Array(text.utf8)
    while (prefixLength + header.count + 1) % 64 != 0 { header.append(0x20) }
    header.append(0x0a)
    var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [version, 0]
    if version == 1 {
        bytes += withUnsafeBytes(of: UInt16(header.count).littleEndian) { Array($0) }
    } else {
        bytes += withUnsafeBytes(of: UInt32(header.count).littleEndian) { Array($0) }
    }
    return bytes + header + payload
}

func littleEndianBytes<T>(_ values: [T]) -> [UInt8] { values.withUnsafeBytes { Array($0) } }
