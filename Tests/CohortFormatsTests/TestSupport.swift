import Foundation
import XCTest

/// A fresh directory under the system temp directory, removed when the test ends.
func makeTemporaryDirectory(_ test: XCTestCase) throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("cohort-formats-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url
}

/// Runs `python3 -c script args...`, returning exit status and combined output.
@discardableResult
func runPython(_ script: String, _ arguments: [String] = []) throws -> (status: Int32, output: String) {
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

/// Skips the calling test, saying why, unless `python3` can import `module`.
func requirePythonModule(_ module: String) throws {
    let result: (status: Int32, output: String)
    do {
        result = try runPython("import \(module)")
    } catch {
        print("skipping: cannot run python3: \(error)")
        throw XCTSkip("python3 is not available: \(error)")
    }
    guard result.status == 0 else {
        let reason = result.output.split(separator: "\n").last.map(String.init) ?? "exit \(result.status)"
        print("skipping: python3 cannot import \(module): \(reason)")
        throw XCTSkip("python3 cannot import \(module) (\(reason)); pip install \(module) to run this test")
    }
}

/// The `CohortError` description of what `body` throws, failing the test if it does not throw.
func thrownMessage<T>(_ body: @autoclosure () throws -> T, file: StaticString = #filePath, line: UInt = #line) -> String {
    do {
        _ = try body()
        XCTFail("expected an error", file: file, line: line)
        return ""
    } catch {
        return "\(error)"
    }
}
