import CohortFormats
import Foundation
import XCTest

final class TensorBoardEventWriterTests: XCTestCase {
    func testFileNameVersionEventAndScalars() throws {
        let dir = try makeTemporaryDirectory(self).appendingPathComponent("logs/run1")
        let created = Date(timeIntervalSince1970: 1_700_000_000.25)
        let writer = try TensorBoardEventWriter(directory: dir, hostname: "node7", now: created)
        XCTAssertEqual(writer.url.lastPathComponent, "events.out.tfevents.1700000000.node7")
        try writer.addScalar(tag: "train/loss", value: 2.5, step: 1, wallTime: 1_700_000_001.5)
        try writer.addScalar(tag: "train/loss", value: 0.125, step: 2, wallTime: 1_700_000_002)
        try writer.addScalars([("eval/accuracy", 0.875), ("eval/loss", -1e-3)], step: -3, wallTime: 7)
        try writer.flush()
        // Flushed records are visible before close.
        XCTAssertEqual(try EventFileDecoder.decode(Data(contentsOf: writer.url)).count, 4)
        try writer.addScalar(tag: "lr", value: .infinity, step: 9, wallTime: 8)
        try writer.close()
        try writer.close()
        XCTAssertThrowsError(try writer.addScalar(tag: "late", value: 1, step: 10))

        let events = try EventFileDecoder.decode(Data(contentsOf: writer.url))
        XCTAssertEqual(events, [
            DecodedEvent(wallTime: 1_700_000_000.25, step: 0, fileVersion: "brain.Event:2"),
            DecodedEvent(wallTime: 1_700_000_001.5, step: 1, values: [("train/loss", 2.5)]),
            DecodedEvent(wallTime: 1_700_000_002, step: 2, values: [("train/loss", 0.125)]),
            DecodedEvent(wallTime: 7, step: -3, values: [("eval/accuracy", 0.875), ("eval/loss", -1e-3)]),
            DecodedEvent(wallTime: 8, step: 9, values: [("lr", .infinity)]),
        ])
    }

    func testExactBytesOfAScalarRecord() throws {
        let dir = try makeTemporaryDirectory(self)
        let writer = try TensorBoardEventWriter(directory: dir, hostname: "h", now: Date(timeIntervalSince1970: 0))
        try writer.addScalar(tag: "a", value: 1, step: 3, wallTime: 0)
        try writer.close()
        let data = try Data(contentsOf: writer.url)
        // Event{wall_time: 0.0, step: 3, summary{value{tag: "a", simple_value: 1.0}}}, encoded by hand.
        let event: [UInt8] = [0x09, 0, 0, 0, 0, 0, 0, 0, 0, 0x10, 0x03,
                              0x2A, 0x0A, 0x0A, 0x08, 0x0A, 0x01, 0x61, 0x15, 0x00, 0x00, 0x80, 0x3F]
        XCTAssertEqual(Array(data.suffix(event.count + 4).prefix(event.count)), event)
        XCTAssertEqual(Array(data.suffix(event.count + 16).prefix(8)), [UInt8(event.count), 0, 0, 0, 0, 0, 0, 0])
    }

    func testTwoWritersInOneSecondGetDistinctFiles() throws {
        let dir = try makeTemporaryDirectory(self)
        let now = Date(timeIntervalSince1970: 1_600_000_000)
        let a = try TensorBoardEventWriter(directory: dir, hostname: "h", now: now)
        let b = try TensorBoardEventWriter(directory: dir, hostname: "h", now: now)
        XCTAssertNotEqual(a.url, b.url)
        XCTAssertTrue(b.url.lastPathComponent.hasPrefix("events.out.tfevents.1600000000.h"))
        try a.close()
        try b.close()
    }

    func testDecoderCatchesCorruption() throws {
        let dir = try makeTemporaryDirectory(self)
        let writer = try TensorBoardEventWriter(directory: dir, hostname: "h")
        try writer.addScalar(tag: "x", value: 1, step: 1)
        try writer.close()
        var data = try Data(contentsOf: writer.url)
        data[data.count - 6] ^= 0x01
        XCTAssertThrowsError(try EventFileDecoder.decode(data))
    }

    func testTensorBoardReadsTheScalars() throws {
        try requirePythonModule("tensorboard")
        let dir = try makeTemporaryDirectory(self)
        let writer = try TensorBoardEventWriter(directory: dir, hostname: "test")
        for step in 0..<5 {
            try writer.addScalars([("loss", 1 / Float(step + 1)), ("accuracy", Float(step) / 4)], step: Int64(step * 10),
                                  wallTime: 1_700_000_000 + Double(step))
        }
        try writer.close()
        let script = """
        import sys, json
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
        acc = EventAccumulator(sys.argv[1])
        acc.Reload()
        print(json.dumps({t: [[e.step, e.value, e.wall_time] for e in acc.Scalars(t)] for t in acc.Tags()["scalars"]}))
        """
        let (status, output) = try runPython(script, [dir.path])
        XCTAssertEqual(status, 0, output)
        let jsonLine = output.split(separator: "\n").last.map(String.init) ?? ""
        let scalars = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(jsonLine.utf8)) as? [String: [[Double]]], output)
        XCTAssertEqual(Set(scalars.keys), ["loss", "accuracy"])
        XCTAssertEqual(scalars["loss"]?.map { $0[0] }, [0, 10, 20, 30, 40])
        XCTAssertEqual(scalars["loss"]?.map { Float($0[1]) }, (0..<5).map { 1 / Float($0 + 1) })
        XCTAssertEqual(scalars["accuracy"]?.map { Float($0[1]) }, [0, 0.25, 0.5, 0.75, 1])
        XCTAssertEqual(scalars["accuracy"]?.map { $0[2] }, (0..<5).map { 1_700_000_000 + Double($0) })
    }
}
