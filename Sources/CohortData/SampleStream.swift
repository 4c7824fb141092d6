#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Cohort

/// The samples of an input file read a batch at a time, so a file larger than memory streams
/// through (`cohort predict`). Values come out as raw floats (bytes as 0...255), in file order.
public protocol SampleStream: AnyObject {
    var path: String { get }
    /// One sample's shape, e.g. [1, 28, 28] or [13].
    var sampleShape: [Int] { get }
    /// Whether the file stores bytes (pixels), which the model's normalisation divides by 255.
    var byteValues: Bool { get }
    /// Samples in the file, when its header says (for a progress bar).
    var sampleCount: Int? { get }
    /// Reads up to `maxSamples` samples into `out` (room for maxSamples x the values of a sample);
    /// returns how many it read, 0 at the end. A truncated file is an error naming it.
    func read(into out: UnsafeMutablePointer<Float>, maxSamples: Int) throws -> Int
}

/// Opens `path` as the format its content or name says: .npy (NumPy magic), IDX images (magic
/// 00 00 08 03), or else CSV with a header row whose `featureNames` columns are read.
public func openSampleStream(_ path: String, featureNames: [String]?) throws -> SampleStream {
    let prefix = try DataFileStream(path: path).readPrefix(6)
    if prefix == [0x93] + Array("NUMPY".utf8) { return try NPYSampleStream(path: path) }
    if prefix.count >= 4 && prefix[0] == 0 && prefix[1] == 0 && prefix[2] == 0x08 && prefix[3] == 3 { return try IDXSampleStream(path: path) }
    guard let featureNames else {
        throw CohortError.invalid("\(path): not a .npy or IDX image file, and the model was not trained on a CSV file (no feature names to read)")
    }
    return try CSVSampleStream(path: path, featureNames: featureNames)
}

/// A .npy array [N, ...] of float32, float64 or uint8, read in batches.
final class NPYSampleStream: SampleStream {
    let path: String
    let sampleShape: [Int]
    let byteValues: Bool
    let sampleCount: Int?
    private let stream: DataFileStream
    private let elementSize: Int
    private let dtype: String
    private var remaining: Int
    private var scratch: [UInt8] = []

    init(path: String) throws {
        self.path = path
        stream = try DataFileStream(path: path)
        let header = try NPYHeader.read(stream)
        guard !header.fortranOrder else { throw CohortError.invalid("\(path): fortran_order arrays are not supported; save a C-order array") }
        guard let n = header.shape.first else { throw CohortError.invalid("\(path): a 0-d array holds no samples") }
        switch header.descr {
        case "<f4": elementSize = 4
        case "<f8": elementSize = 8
        case "|u1", "<u1": elementSize = 1
        default: throw CohortError.invalid("\(path): dtype '\(header.descr)' is not supported for inputs; use float32 (<f4), float64 (<f8) or uint8 (|u1)")
        }
        dtype = header.descr
        sampleShape = header.shape.count == 1 ? [1] : Array(header.shape.dropFirst())
        byteValues = elementSize == 1
        sampleCount = n
        remaining = n
    }

    func read(into out: UnsafeMutablePointer<Float>, maxSamples: Int) throws -> Int {
        let count = min(maxSamples, remaining)
        guard count > 0 else {
            try stream.expectEnd(after: "the \(sampleCount!) samples the header describes")
            return 0
        }
        let values = count * sampleShape.reduce(1, *), bytes = values * elementSize
        if scratch.count < bytes { scratch = [UInt8](repeating: 0, count: bytes) }
        let got = try scratch.withUnsafeMutableBytes { try stream.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<bytes])) }
        guard got == bytes else {
            throw CohortError.invalid("\(path): truncated: \(sampleCount! - remaining + count) samples need \(bytes - got) more bytes than the file holds")
        }
        scratch.withUnsafeBytes { raw in
            switch elementSize {
            case 1: for i in 0..<values { out[i] = Float(raw[i]) }
            case 4: for i in 0..<values { out[i] = raw.load(fromByteOffset: 4 * i, as: Float.self) }
            default: for i in 0..<values { out[i] = Float(raw.load(fromByteOffset: 8 * i, as: Double.self)) }
            }
        }
        if let bad = (0..<values).first(where: { !out[$0].isFinite }) {
            throw CohortError.invalid("\(path): value \(out[bad]) of sample \(sampleCount! - remaining + bad / (values / count)) is not finite")
        }
        remaining -= count
        return count
    }
}

/// An IDX image file [N, H, W] of bytes, read in batches as [1, H, W] samples.
final class IDXSampleStream: SampleStream {
    let path: String
    let sampleShape: [Int]
    let byteValues = true
    let sampleCount: Int?
    private let stream: DataFileStream
    private var remaining: Int
    private var scratch: [UInt8] = []

    init(path: String) throws {
        self.path = path
        stream = try DataFileStream(path: path)
        let header = try stream.readPrefix(16)
        guard header.count == 16 else { throw CohortError.invalid("\(path): truncated: \(header.count) bytes, too short for an IDX image header (16 bytes)") }
        let dims = (0..<3).map { d in header[4 + 4 * d..<8 + 4 * d].reduce(0) { $0 << 8 | Int($1) } }
        sampleShape = [1, dims[1], dims[2]]
        sampleCount = dims[0]
        remaining = dims[0]
    }

    func read(into out: UnsafeMutablePointer<Float>, maxSamples: Int) throws -> Int {
        let count = min(maxSamples, remaining)
        guard count > 0 else {
            try stream.expectEnd(after: "the \(sampleCount!) images the header describes")
            return 0
        }
        let bytes = count * sampleShape.reduce(1, *)
        if scratch.count < bytes { scratch = [UInt8](repeating: 0, count: bytes) }
        let got = try scratch.withUnsafeMutableBytes { try stream.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<bytes])) }
        guard got == bytes else {
            throw CohortError.invalid("\(path): truncated: the header says \(sampleCount!) images, the data ends \(bytes - got) bytes short")
        }
        for i in 0..<bytes { out[i] = Float(scratch[i]) }
        remaining -= count
        return count
    }
}

/// A CSV file with a header row, read in chunks: the columns named `featureNames`, in that order,
/// are a sample's values (other columns, such as a target, are ignored). Errors name line and column.
final class CSVSampleStream: SampleStream {
    let path: String
    let sampleShape: [Int]
    let byteValues = false
    let sampleCount: Int? = nil
    private let stream: DataFileStream
    /// Bytes read but not parsed yet (whole lines are parsed; a partial one waits for the rest).
    private var pending: [UInt8] = []
    private var ended = false
    private var lineNumber = 0
    private var headerLine = 0
    private var columns = 0
    /// For each file column, its position among the features, or -1.
    private var featureOf: [Int] = []

    init(path: String, featureNames: [String]) throws {
        self.path = path
        sampleShape = [featureNames.count]
        stream = try DataFileStream(path: path)
        try fill()
        var header: [String] = []
        try parse(maxRows: 0) { parser, fields, _ in header = fields.map { parser.unquoted(parser.string($0)) } }
        guard !header.isEmpty else { throw CohortError.invalid("\(path): no data (the file is empty)") }
        featureOf = [Int](repeating: -1, count: header.count)
        for (j, name) in featureNames.enumerated() {
            guard let c = header.firstIndex(of: name) else {
                throw CohortError.invalid("\(path):\(headerLine): no column named '\(name)'; the model was trained on \(featureNames.count) columns: \(featureNames.joined(separator: ", "))")
            }
            featureOf[c] = j
        }
    }

    func read(into out: UnsafeMutablePointer<Float>, maxSamples: Int) throws -> Int {
        let n = sampleShape[0]
        var rows = 0
        while rows < maxSamples {
            let before = rows
            try parse(maxRows: maxSamples - rows) { parser, fields, lineStart in
                let dst = out + rows * n
                for (c, field) in fields.enumerated() where featureOf[c] >= 0 {
                    dst[featureOf[c]] = try parser.number(field, column: c, lineStart: lineStart)
                }
                rows += 1
            }
            if rows == before {
                if ended { break }
                try fill()
            }
        }
        return rows
    }

    /// Reads the next chunk of the file into `pending`.
    private func fill() throws {
        guard !ended else { return }
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        let got = try chunk.withUnsafeMutableBytes { try stream.read(into: $0) }
        pending += chunk[0..<got]
        if got < chunk.count { ended = true }
    }

    /// Parses whole lines of `pending` (the first one: the header) until `maxRows` data rows, removing them.
    private func parse(maxRows: Int, _ row: (CSVParser, [CSVParser.Field], Int) throws -> Void) throws {
        // Only complete lines, unless the file has ended; a 0 after them stops strtod.
        let end = ended ? pending.count : (pending.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0)
        guard end > 0 else { return }
        var text = Array(pending[0..<end])
        text.append(0)
        var consumed = 0
        try text.withUnsafeBufferPointer { buffer in
            var parser = CSVParser(path: path, text: buffer.baseAddress!, length: end, delimiter: UInt8(ascii: ","))
            parser.lineNumber = lineNumber
            var fields: [CSVParser.Field] = []
            var position = 0, rows = 0
            if columns == 0 {
                guard let (start, stop) = parser.nextLine(&position) else { return }
                parser.splitFields(start, stop, into: &fields)
                columns = fields.count
                headerLine = parser.lineNumber
                try row(parser, fields, start)
                consumed = position
            }
            while rows < maxRows, let start = try parser.nextRow(&position, columns: columns, firstLine: headerLine, into: &fields) {
                try row(parser, fields, start)
                rows += 1
                consumed = min(position, end)
            }
            if rows < maxRows { consumed = end }  // the rest was blank lines
            lineNumber = parser.lineNumber
        }
        pending.removeFirst(consumed)
    }
}
