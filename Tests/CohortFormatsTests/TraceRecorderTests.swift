import CohortFormats
import Foundation
import XCTest

final class TraceRecorderTests: XCTestCase {
    func testWritesChromeTraceEvents() throws {
        let trace = TraceRecorder(processID: 3, processName: "rank 3", capacity: 16)
        let forward = trace.label("forward", category: "compute")
        let reduce = trace.label("allreduce \"bucket\" 0", category: "comm")
        XCTAssertEqual(trace.label("forward", category: "compute"), forward)
        XCTAssertNotEqual(trace.label("forward", category: "other"), forward)
        trace.nameThread(1, "reducer")
        trace.record(forward, start: 5_000_123, end: 6_500_000)
        trace.record(reduce, start: 6_000_000, end: 7_000_001, thread: 1)
        let value = trace.measure(forward) { 42 }
        XCTAssertEqual(value, 42)
        XCTAssertEqual(trace.spanCount, 3)

        let url = try makeTemporaryDirectory(self).appendingPathComponent("trace.json")
        try trace.write(to: url)
        let root = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let events = try XCTUnwrap(root["traceEvents"] as? [[String: Any]])
        XCTAssertEqual(events.count, 5)
        XCTAssertEqual(events[0]["ph"] as? String, "M")
        XCTAssertEqual((events[0]["args"] as? [String: String])?["name"], "rank 3")
        XCTAssertEqual(events[1]["name"] as? String, "thread_name")
        XCTAssertEqual(events[1]["tid"] as? Int, 1)
        let spans = Array(events[2...])
        XCTAssertEqual(spans.map { $0["ph"] as? String }, ["X", "X", "X"])
        XCTAssertEqual(spans[0]["name"] as? String, "forward")
        XCTAssertEqual(spans[0]["cat"] as? String, "compute")
        XCTAssertEqual(spans[0]["ts"] as? Double, 5000.123)
        XCTAssertEqual(spans[0]["dur"] as? Double, 1499.877)
        XCTAssertEqual(spans[0]["pid"] as? Int, 3)
        XCTAssertEqual(spans[0]["tid"] as? Int, 0)
        XCTAssertEqual(spans[1]["name"] as? String, "allreduce \"bucket\" 0")
        XCTAssertEqual(spans[1]["tid"] as? Int, 1)
        XCTAssertEqual(spans[1]["dur"] as? Double, 1000.001)
        XCTAssertGreaterThanOrEqual(spans[2]["dur"] as? Double ?? -1, 0)
        XCTAssertEqual((root["otherData"] as? [String: Int])?["droppedSpans"], 0)
    }

    func testFullRecorderDropsAndCountsInsteadOfGrowing() {
        let trace = TraceRecorder(capacity: 2)
        let step = trace.label("step")
        for i in 0..<5 { trace.record(step, start: UInt64(i), end: UInt64(i + 1)) }
        XCTAssertEqual(trace.spanCount, 2)
        XCTAssertEqual(trace.droppedCount, 3)
        // An end before the start (clock misuse) records zero duration rather than wrapping.
        trace.removeAllSpans()
        trace.record(step, start: 10, end: 5)
        let text = String(decoding: trace.jsonData(), as: UTF8.self)
        XCTAssertTrue(text.contains("\"ts\":0.010,\"dur\":0.000"), text)
    }

    func testClockIsMonotonic() {
        let a = TraceRecorder.now(), b = TraceRecorder.now()
        XCTAssertGreaterThanOrEqual(b, a)
    }
}
