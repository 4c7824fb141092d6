import CohortFormats
import Foundation
import XCTest

final class AtomicFileTests: XCTestCase {
    func testWritesNewFileAndReplacesExistingOne() throws {
        let dir = try makeTemporaryDirectory(self)
        let url = dir.appendingPathComponent("out.bin")
        try AtomicFile.write(Data("first".utf8), to: url)
        XCTAssertEqual(try Data(contentsOf: url), Data("first".utf8))
        try AtomicFile.write(to: url) { sink in
            try sink.write("sec")
            try sink.write([UInt8]("ond".utf8))
            XCTAssertEqual(sink.byteCount, 6)
        }
        XCTAssertEqual(try Data(contentsOf: url), Data("second".utf8))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["out.bin"], "no temporary file left")
        let mode = try FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as? Int
        XCTAssertEqual(mode, 0o644)
    }

    func testFailureMidWriteKeepsOldContentAndRemovesTemporaryFile() throws {
        struct Interrupted: Error {}
        let dir = try makeTemporaryDirectory(self)
        let url = dir.appendingPathComponent("ckpt.safetensors")
        try AtomicFile.write(Data("old complete content".utf8), to: url)
        XCTAssertThrowsError(try AtomicFile.write(to: url) { sink in
            try sink.write("new, half writ")
            throw Interrupted()
        }) { XCTAssertTrue($0 is Interrupted) }
        XCTAssertEqual(try Data(contentsOf: url), Data("old complete content".utf8))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["ckpt.safetensors"])
    }

    func testConcurrentReaderSeesOnlyWholeVersions() throws {
        let dir = try makeTemporaryDirectory(self)
        let url = dir.appendingPathComponent("state.bin")
        let versions = (0..<2).map { Data(repeating: UInt8(ascii: $0 == 0 ? "a" : "b"), count: 256 * 1024) }
        try AtomicFile.write(versions[0], to: url)
        final class ReaderState: @unchecked Sendable {
            let lock = NSLock()
            var stop = false, reads = 0, torn = 0
        }
        let state = ReaderState()
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            while !state.lock.withLock({ state.stop }) {
                guard let data = try? Data(contentsOf: url) else { continue }
                state.lock.withLock {
                    state.reads += 1
                    if !versions.contains(data) { state.torn += 1 }
                }
            }
            done.signal()
        }
        for i in 0..<60 { try AtomicFile.write(versions[i % 2], to: url) }
        state.lock.withLock { state.stop = true }
        done.wait()
        let (reads, torn) = state.lock.withLock { (state.reads, state.torn) }
        XCTAssertGreaterThan(reads, 0)
        XCTAssertEqual(torn, 0, "a reader saw a partially written file")
    }

    func testMissingDirectoryIsReportedWithThePath() {
        let url = URL(fileURLWithPath: "/nonexistent-cohort-dir/x.bin")
        let message = thrownMessage(try AtomicFile.write(Data([1]), to: url))
        XCTAssertTrue(message.hasPrefix("/nonexistent-cohort-dir/x.bin: cannot create a temporary file"), message)
        XCTAssertFalse(message.contains("\n"))
    }
}
