import Cohort

/// An IDX array of unsigned bytes (the MNIST family's format): big-endian header
/// `00 00 08 <rank>`, `rank` big-endian UInt32 dimensions, then the bytes in row-major order.
public struct IDXFile: Sendable {
    /// The file's dimensions, e.g. [60000, 28, 28] for images, [60000] for labels.
    public let dimensions: [Int]
    /// The payload, row-major.
    public let bytes: [UInt8]

    /// Magic number of an IDX file holding unsigned bytes in `rank` dimensions (0x0803 for images).
    public static func magic(rank: Int) -> UInt32 { 0x0000_0800 | UInt32(rank) }

    /// Reads an IDX file of unsigned bytes with exactly `rank` dimensions, plain or gzip-compressed.
    /// Every defect throws `CohortError.invalid("<path>: <what is wrong>")`: bad magic, wrong data type
    /// or rank, a payload shorter or longer than the header says, a corrupt gzip stream.
    public static func read(path: String, rank: Int) throws -> IDXFile {
        let stream = try DataFileStream(path: path)
        let header = try readHeader(stream, rank: rank)
        let shape = header.map(String.init).joined(separator: "x")
        let (count, overflow) = header.reduce((1, false)) { acc, d in
            let r = acc.0.multipliedReportingOverflow(by: d)
            return (r.partialValue, acc.1 || r.overflow)
        }
        guard !overflow else { throw CohortError.invalid("\(path): header dimensions \(shape) overflow") }
        let what = "header says \(shape)"
        let bytes = try stream.readArray(of: UInt8.self, count: count, what: what)
        try stream.expectEnd(after: "the \(count) bytes the header describes (\(shape))")
        return IDXFile(dimensions: header, bytes: bytes)
    }

    private static func readHeader(_ stream: DataFileStream, rank: Int) throws -> [Int] {
        let path = stream.path
        let headerSize = 4 + 4 * rank
        let header = try stream.readPrefix(headerSize)
        guard header.count >= 4 else {
            throw CohortError.invalid("\(path): truncated: \(header.count) bytes, too short for an IDX header (\(headerSize) bytes)")
        }
        let magic = header[0..<4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let expected = hex(Self.magic(rank: rank))
        guard header[0] == 0, header[1] == 0 else {
            throw CohortError.invalid("\(path): bad magic \(hex(magic)): not an IDX file (expected \(expected))")
        }
        guard header[2] == 0x08 else {
            throw CohortError.invalid("\(path): bad magic \(hex(magic)): IDX data type 0x\(String(header[2], radix: 16)) is not supported (only 0x08, unsigned byte; expected \(expected))")
        }
        guard Int(header[3]) == rank else {
            throw CohortError.invalid("\(path): bad magic \(hex(magic)): \(header[3]) dimensions where \(rank) are expected (\(expected))")
        }
        guard header.count == headerSize else {
            throw CohortError.invalid("\(path): truncated: \(header.count) bytes, too short for an IDX header with \(rank) dimensions (\(headerSize) bytes)")
        }
        return (0..<rank).map { d in
            header[4 + 4 * d..<8 + 4 * d].reduce(0) { $0 << 8 | Int($1) }
        }
    }

    private static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }
}
