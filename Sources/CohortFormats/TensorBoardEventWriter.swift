#if canImport(Glibc)
import Glibc
#endif
import Cohort
import Foundation

/// Writes TensorBoard event files (`events.out.tfevents.<unix seconds>.<hostname>`) by hand.
///
/// Each record is: length (UInt64 LE), masked CRC-32C of the length bytes (UInt32 LE), the
/// serialized `Event` protobuf, masked CRC-32C of it. The first event carries
/// `file_version = "brain.Event:2"`; scalars are `Event{wall_time, step, summary{value{tag, simple_value}}}`.
/// Records are buffered in memory until `flush()` (or until 1 MiB is pending), so logging a
/// scalar is cheap; TensorBoard sees them after a flush. Not thread-safe: one writer, one thread.
public final class TensorBoardEventWriter {
    /// The event file being written.
    public let url: URL
    private var fd: Int32
    private var pending: [UInt8] = []
    private static let autoFlushBytes = 1 << 20

    /// Creates the log directory if needed and a new event file in it, then writes the version event.
    /// - Parameters:
    ///   - directory: TensorBoard's `--logdir` (or a run folder below it).
    ///   - hostname: the file name's last part; the machine's name by default.
    ///   - now: the file's creation time, also the version event's wall time.
    public init(directory: URL, hostname: String? = nil, now: Date = Date()) throws {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw CohortError.invalid("\(directory.path): cannot create the TensorBoard log directory")
        }
        let host = hostname ?? TensorBoardEventWriter.machineName()
        let base = "events.out.tfevents.\(Int64(now.timeIntervalSince1970)).\(host)"
        // Two writers started in the same second must not share a file: add a suffix on collision.
        var attempt = 0
        while true {
            let name = attempt == 0 ? base : "\(base).\(attempt)"
            let candidate = directory.appendingPathComponent(name)
            let fd = open(candidate.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if fd >= 0 {
                self.fd = fd
                url = candidate
                break
            }
            if errno != EEXIST || attempt >= 1000 { throw POSIXFile.error(candidate.path, "create") }
            attempt += 1
        }
        var event = ProtobufEncoder()
        event.double(1, now.timeIntervalSince1970)
        event.int64(2, 0)
        event.string(3, "brain.Event:2")
        append(record: event.bytes)
        try flush()
    }

    deinit { try? close() }

    /// Logs one scalar (shown as a chart named `tag`) at `step`.
    /// - Parameter wallTime: seconds since 1970; now by default.
    public func addScalar(tag: String, value: Float, step: Int64, wallTime: Double = Date().timeIntervalSince1970) throws {
        try addScalars([(tag, value)], step: step, wallTime: wallTime)
    }

    /// Logs several scalars in one event, all at `step`.
    public func addScalars(_ values: [(tag: String, value: Float)], step: Int64,
                           wallTime: Double = Date().timeIntervalSince1970) throws {
        guard fd >= 0 else { throw CohortError.invalid("\(url.path): event file is closed") }
        var summary = ProtobufEncoder()
        for (tag, value) in values {
            var entry = ProtobufEncoder()
            entry.string(1, tag)
            entry.float(2, value)
            summary.message(1, entry.bytes)
        }
        var event = ProtobufEncoder()
        event.double(1, wallTime)
        event.int64(2, step)
        event.message(5, summary.bytes)
        append(record: event.bytes)
        if pending.count >= TensorBoardEventWriter.autoFlushBytes { try flush() }
    }

    /// Hands buffered records to the operating system, where TensorBoard can read them.
    public func flush() throws {
        guard fd >= 0, !pending.isEmpty else { return }
        defer { pending.removeAll(keepingCapacity: true) }
        try POSIXFile.writeAll(fd, pending, path: url.path)
    }

    /// Flushes, fsyncs and closes the file; later calls do nothing.
    public func close() throws {
        guard fd >= 0 else { return }
        defer { fd = -1 }
        do {
            try flush()
            try POSIXFile.sync(fd, path: url.path)
        } catch {
            _ = Glibc.close(fd)
            throw error
        }
        try POSIXFile.closeFile(fd, path: url.path)
    }

    /// Frames `data` as a TFRecord: length, masked CRC of the length, data, masked CRC of the data.
    private func append(record data: [UInt8]) {
        let length = withUnsafeBytes(of: UInt64(data.count).littleEndian) { Array($0) }
        pending += length
        withUnsafeBytes(of: CRC32C.masked(CRC32C.checksum(length)).littleEndian) { pending.append(contentsOf: $0) }
        pending += data
        let dataCRC = data.withUnsafeBytes { CRC32C.checksum($0) }
        withUnsafeBytes(of: CRC32C.masked(dataCRC).littleEndian) { pending.append(contentsOf: $0) }
    }

    private static func machineName() -> String {
        var name = [CChar](repeating: 0, count: 256)
        guard gethostname(&name, name.count - 1) == 0 else { return "localhost" }
        let host = String(cString: name)
        // A slash would make the name a path.
        return host.isEmpty ? "localhost" : host.replacingOccurrences(of: "/", with: "_")
    }
}
