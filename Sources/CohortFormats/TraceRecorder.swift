#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A span name and category registered with a `TraceRecorder` ahead of time, so recording a span
/// copies no strings.
public struct TraceLabel: Hashable, Sendable {
    let index: Int32
}

/// Collects timed spans (forward, backward, allreduce of bucket 3, ...) and writes them as a
/// Chrome / Perfetto trace: `{"traceEvents":[{"name","cat","ph":"X","ts","dur","pid","tid"}, ...]}`,
/// times in microseconds, which chrome://tracing and ui.perfetto.dev open directly.
///
/// Spans go into an array reserved up front, so recording one is a clock read and a store, with no
/// allocation; spans beyond the capacity are counted in `droppedCount` rather than growing the array
/// inside a training step. Timestamps come from the monotonic clock, so traces of processes on one
/// node line up. Not thread-safe: use one recorder per thread, or record from one thread.
public final class TraceRecorder {
    private struct Span {
        let label: Int32
        let thread: Int32
        let start: UInt64
        let duration: UInt64
    }

    /// The trace's process id; use the rank so that several ranks' traces can be told apart.
    public let processID: Int
    /// Shown as the process's name in the viewer, e.g. "rank 0".
    public let processName: String?
    /// The most spans kept.
    public let capacity: Int
    /// Spans not kept because the recorder was full.
    public private(set) var droppedCount = 0
    private var spans: [Span] = []
    private var labels: [(name: String, category: String)] = []
    private var labelIndex: [String: Int32] = [:]
    private var threadNames: [Int: String] = [:]

    /// A recorder with room for `capacity` spans.
    public init(processID: Int = 0, processName: String? = nil, capacity: Int = 1 << 16) {
        self.processID = processID
        self.processName = processName
        self.capacity = max(capacity, 0)
        spans.reserveCapacity(self.capacity)
    }

    /// The label for `name` in `category`, registering it the first time (call outside hot loops).
    public func label(_ name: String, category: String = "cohort") -> TraceLabel {
        let key = category + "\u{0}" + name
        if let index = labelIndex[key] { return TraceLabel(index: index) }
        let index = Int32(labels.count)
        labels.append((name, category))
        labelIndex[key] = index
        return TraceLabel(index: index)
    }

    /// Names a thread id in the viewer (e.g. 1 = "allreduce").
    public func nameThread(_ thread: Int, _ name: String) {
        threadNames[thread] = name
    }

    /// The monotonic clock in nanoseconds, the time base of `record`.
    public static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    /// Records a span from `start` to `end` (nanoseconds from `now()`) on `thread`.
    @inline(__always)
    public func record(_ label: TraceLabel, start: UInt64, end: UInt64, thread: Int = 0) {
        guard spans.count < capacity else { droppedCount += 1; return }
        spans.append(Span(label: label.index, thread: Int32(truncatingIfNeeded: thread), start: start,
                          duration: end >= start ? end - start : 0))
    }

    /// Runs `body` and records how long it took.
    @inline(__always)
    public func measure<T>(_ label: TraceLabel, thread: Int = 0, _ body: () throws -> T) rethrows -> T {
        let start = TraceRecorder.now()
        defer { record(label, start: start, end: TraceRecorder.now(), thread: thread) }
        return try body()
    }

    /// Spans recorded so far.
    public var spanCount: Int { spans.count }

    /// Forgets all spans (labels and thread names stay).
    public func removeAllSpans() {
        spans.removeAll(keepingCapacity: true)
        droppedCount = 0
    }

    /// The trace as JSON: metadata events naming the process and threads, then the spans in
    /// recording order.
    public func jsonData() -> Data {
        var events: [String] = []
        events.reserveCapacity(spans.count + threadNames.count + 1)
        func metadata(_ kind: String, thread: Int, name: String) -> String {
            JSONText.object([("name", JSONText.quoted(kind)), ("ph", "\"M\""), ("pid", String(processID)),
                             ("tid", String(thread)), ("args", JSONText.object([("name", JSONText.quoted(name))]))])
        }
        if let processName { events.append(metadata("process_name", thread: 0, name: processName)) }
        for (thread, name) in threadNames.sorted(by: { $0.key < $1.key }) {
            events.append(metadata("thread_name", thread: thread, name: name))
        }
        let quotedLabels = labels.map { (JSONText.quoted($0.name), JSONText.quoted($0.category)) }
        for span in spans {
            let (name, category) = quotedLabels[Int(span.label)]
            events.append("{\"name\":\(name),\"cat\":\(category),\"ph\":\"X\",\"ts\":\(Self.micros(span.start)),"
                + "\"dur\":\(Self.micros(span.duration)),\"pid\":\(processID),\"tid\":\(span.thread)}")
        }
        let other = JSONText.object([("droppedSpans", String(droppedCount))])
        let text = "{\"traceEvents\":[\n" + events.joined(separator: ",\n") + "\n],\"displayTimeUnit\":\"ms\",\"otherData\":\(other)}\n"
        return Data(text.utf8)
    }

    /// Atomically writes the trace to `url`.
    public func write(to url: URL) throws {
        try AtomicFile.write(jsonData(), to: url)
    }

    /// Nanoseconds as microseconds with three decimals, in integer arithmetic so no precision is lost.
    private static func micros(_ nanoseconds: UInt64) -> String {
        let fraction = String(nanoseconds % 1000)
        return "\(nanoseconds / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }
}
