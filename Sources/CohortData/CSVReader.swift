#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Cohort

/// Which column of a CSV file holds the class label.
public enum CSVLabelColumn: Sendable, Equatable {
    /// Zero-based column index.
    case index(Int)
    /// The last column.
    case last
    /// The column with this header name (needs a header row).
    case name(String)
}

/// A numeric CSV file: every field a finite number, one label column of non-negative integers.
public struct CSVTable: Sendable {
    /// Header names of the feature columns, if the file had a header row.
    public let featureNames: [String]?
    /// Features per row (columns minus the label column).
    public let featureCount: Int
    /// Row-major features, rowCount * featureCount values.
    public let features: [Float]
    /// One label per row, or empty when no label column was asked for.
    public let labels: [Int32]
    public var rowCount: Int { featureCount == 0 ? labels.count : features.count / featureCount }
}

/// Reads numeric CSV (optionally .gz). Blank lines are skipped, CRLF is accepted, fields may have
/// surrounding spaces; quoting is not (numbers need none). Errors read `<path>:<line>:<column>: ...`
/// with 1-based line and character column.
public enum CSVReader {
    public static func read(path: String, hasHeader: Bool, labelColumn: CSVLabelColumn?,
                            delimiter: Character = ",") throws -> CSVTable {
        guard let d = delimiter.asciiValue, d != UInt8(ascii: "\n"), d != UInt8(ascii: "\r") else {
            throw CohortError.invalid("\(path): delimiter \(delimiter) must be one ASCII character other than a line break")
        }
        var bytes = try DataFileStream(path: path).readAll()
        bytes.append(0)  // strtod stops at the terminator after the last field
        return try bytes.withUnsafeBufferPointer { buffer in
            var parser = CSVParser(path: path, text: buffer.baseAddress!, length: buffer.count - 1, delimiter: d)
            return try parser.parse(hasHeader: hasHeader, labelColumn: labelColumn)
        }
    }
}

/// One pass over the bytes of a CSV file.
private struct CSVParser {
    let path: String
    let text: UnsafePointer<UInt8>
    let length: Int
    let delimiter: UInt8
    var lineNumber = 0

    init(path: String, text: UnsafePointer<UInt8>, length: Int, delimiter: UInt8) {
        self.path = path
        self.text = text
        self.length = length
        self.delimiter = delimiter
    }

    /// Byte ranges [start, end) of a line's fields, trimmed of spaces and tabs.
    typealias Field = (start: Int, end: Int)

    mutating func parse(hasHeader: Bool, labelColumn: CSVLabelColumn?) throws -> CSVTable {
        var position = 0
        var columns = -1
        var labelIndex: Int?
        var names: [String]?
        var features: [Float] = []
        var labels: [Int32] = []
        var fields: [Field] = []
        var firstLine = 0
        while let (lineStart, lineEnd) = nextLine(&position) {
            splitFields(lineStart, lineEnd, into: &fields)
            if columns < 0 {
                columns = fields.count
                firstLine = lineNumber
                var header: [String]?
                if hasHeader {
                    header = fields.map { unquoted(string($0)) }
                }
                labelIndex = try resolve(labelColumn, header: header, columns: columns)
                if let header {
                    names = header.enumerated().filter { $0.offset != labelIndex }.map(\.element)
                    continue
                }
            } else if fields.count != columns {
                let column = fields.count > columns ? fields[columns].start - lineStart + 1 : lineEnd - lineStart + 1
                throw CohortError.invalid("\(path):\(lineNumber):\(column): \(fields.count) fields, but line \(firstLine) has \(columns)")
            }
            for (c, field) in fields.enumerated() {
                if c == labelIndex {
                    labels.append(try label(field, column: c, lineStart: lineStart))
                } else {
                    features.append(try number(field, column: c, lineStart: lineStart))
                }
            }
        }
        guard columns >= 0 else { throw CohortError.invalid("\(path): no data (the file is empty)") }
        let featureCount = columns - (labelIndex == nil ? 0 : 1)
        guard labels.count + features.count > 0 else {
            throw CohortError.invalid("\(path): no data rows after the header")
        }
        return CSVTable(featureNames: names, featureCount: featureCount, features: features, labels: labels)
    }

    /// The next non-blank line as [start, end) without its line break; nil at the end.
    mutating func nextLine(_ position: inout Int) -> (Int, Int)? {
        while position < length {
            let start = position
            var end = start
            while end < length && text[end] != UInt8(ascii: "\n") { end += 1 }
            position = end + 1
            lineNumber += 1
            if end > start && text[end - 1] == UInt8(ascii: "\r") { end -= 1 }
            var blank = true
            for i in start..<end where !isSpace(text[i]) { blank = false; break }
            if !blank { return (start, end) }
        }
        return nil
    }

    func splitFields(_ start: Int, _ end: Int, into fields: inout [Field]) {
        fields.removeAll(keepingCapacity: true)
        var fieldStart = start
        for i in start...end where i == end || text[i] == delimiter {
            var s = fieldStart, e = i
            while s < e && isSpace(text[s]) { s += 1 }
            while e > s && isSpace(text[e - 1]) { e -= 1 }
            fields.append((s, e))
            fieldStart = i + 1
        }
    }

    func resolve(_ labelColumn: CSVLabelColumn?, header: [String]?, columns: Int) throws -> Int? {
        guard let labelColumn else { return nil }
        switch labelColumn {
        case .last:
            return columns - 1
        case let .index(i):
            guard i >= 0, i < columns else {
                throw CohortError.invalid("\(path):\(lineNumber): label column \(i) is outside the \(columns) columns (0..<\(columns))")
            }
            return i
        case let .name(name):
            guard let header else {
                throw CohortError.invalid("\(path): label column '\(name)' named, but the file is read without a header row")
            }
            guard let i = header.firstIndex(of: name) else {
                throw CohortError.invalid("\(path):\(lineNumber): no column named '\(name)' in the header (\(header.joined(separator: ", ")))")
            }
            return i
        }
    }

    func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 }

    func string(_ field: Field) -> String {
        String(decoding: UnsafeBufferPointer(start: text + field.start, count: field.end - field.start), as: UTF8.self)
    }

    func unquoted(_ s: String) -> String {
        s.count >= 2 && s.first == "\"" && s.last == "\"" ? String(s.dropFirst().dropLast()) : s
    }

    func location(_ field: Field, lineStart: Int) -> String {
        "\(path):\(lineNumber):\(field.start - lineStart + 1)"
    }

    /// The field as a finite number; anything else names line, column and field.
    func parsedDouble(_ field: Field, column: Int, lineStart: Int) throws -> Double {
        guard field.end > field.start else {
            throw CohortError.invalid("\(location(field, lineStart: lineStart)): field \(column + 1) is empty")
        }
        var end: UnsafeMutablePointer<CChar>?
        let start = UnsafeRawPointer(text + field.start).assumingMemoryBound(to: CChar.self)
        let value = strtod(start, &end)
        guard let end, UnsafePointer(end) - start == field.end - field.start else {
            throw CohortError.invalid("\(location(field, lineStart: lineStart)): field \(column + 1) '\(string(field))' is not a number")
        }
        guard value.isFinite, abs(value) <= Double(Float.greatestFiniteMagnitude) else {
            throw CohortError.invalid("\(location(field, lineStart: lineStart)): field \(column + 1) '\(string(field))' is not a finite 32-bit float")
        }
        return value
    }

    func number(_ field: Field, column: Int, lineStart: Int) throws -> Float {
        let value = try parsedDouble(field, column: column, lineStart: lineStart)
        return Float(value)
    }

    func label(_ field: Field, column: Int, lineStart: Int) throws -> Int32 {
        let value = try parsedDouble(field, column: column, lineStart: lineStart)
        guard value >= 0, value <= Double(Int32.max), value.rounded() == value else {
            throw CohortError.invalid("\(location(field, lineStart: lineStart)): label '\(string(field))' is not a non-negative integer")
        }
        return Int32(value)
    }
}
