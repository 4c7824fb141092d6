#if canImport(Glibc)
import Glibc
#endif
import Cohort
import Foundation

/// One value in a metrics line.
public enum MetricValue: Equatable, Sendable, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByStringLiteral {
    case int(Int)
    case double(Double)
    case string(String)

    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }

    /// The JSON text; non-finite doubles become `null`, which JSON can represent and NaN cannot.
    var json: String {
        switch self {
        case let .int(n): return String(n)
        case let .double(d): return JSONText.number(d)
        case let .string(s): return JSONText.quoted(s)
        }
    }
}

/// Appends metrics as JSON lines: one object per line, keys in the order given, e.g.
/// `{"step":100,"epoch":1,"split":"train","loss":0.412,"accuracy":0.87,"lr":0.01}`.
///
/// The file is opened for appending (a resumed run continues the same log) and every line is
/// handed to the operating system in one `write` as soon as it is logged, so `tail -f` and a crash
/// both see whole lines. Not thread-safe: one writer, one thread.
public final class MetricsLogWriter {
    /// The log file.
    public let url: URL
    private var fd: Int32

    /// Opens `url` for appending, creating it if needed (its directory must exist).
    public init(url: URL) throws {
        self.url = url
        fd = try POSIXFile.openFile(url.path, flags: O_WRONLY | O_CREAT | O_APPEND)
    }

    deinit { if fd >= 0 { _ = Glibc.close(fd) } }

    /// Appends one line with `fields` in order; a key given twice is written once, last value wins.
    public func append(_ fields: KeyValuePairs<String, MetricValue>) throws {
        try append(fields.map { ($0.key, $0.value) })
    }

    /// Appends one line with `fields` in order; a key given twice is written once, last value wins.
    public func append(_ fields: [(String, MetricValue)]) throws {
        guard fd >= 0 else { throw CohortError.invalid("\(url.path): metrics log is closed") }
        try POSIXFile.writeAll(fd, Array(MetricsLogWriter.line(fields).utf8), path: url.path)
    }

    /// Closes the file; later appends throw.
    public func close() throws {
        guard fd >= 0 else { return }
        defer { fd = -1 }
        try POSIXFile.closeFile(fd, path: url.path)
    }

    /// The JSON object for `fields` plus a newline.
    static func line(_ fields: [(String, MetricValue)]) -> String {
        var order: [String] = []
        var values: [String: MetricValue] = [:]
        for (key, value) in fields {
            if values.updateValue(value, forKey: key) == nil { order.append(key) }
        }
        return JSONText.object(order.map { ($0, values[$0]!.json) }) + "\n"
    }
}
