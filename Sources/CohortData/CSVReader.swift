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

/// A CSV file with a header row read for training: the feature columns as numbers, and the target
/// column as text, with where each target field stands, so that classes (text or integers) or
/// regression values can be decided by the caller and their errors still name line and column.
public struct CSVColumns: Sendable {
    public let path: String
    public let featureNames: [String]
    /// Row-major features, rowCount * featureNames.count values.
    public let features: [Float]
    public let targetName: String
    /// The target field of every row, as written (unquoted, trimmed).
    public let targets: [String]
    /// 1-based line and character column of every row's target field.
    let targetLines: [Int32], targetColumns: [Int32]

    public var rowCount: Int { targets.count }

    /// "<path>:<line>:<column>" of row `row`'s target field.
    public func location(ofTarget row: Int) -> String { "\(path):\(targetLines[row]):\(targetColumns[row])" }
}

/// Reads CSV (optionally .gz). Blank lines are skipped, CRLF is accepted, fields may have
/// surrounding spaces; quoting is not (numbers need none; a quoted header name or target is
/// unquoted). Errors read `<path>:<line>:<column>: ...` with 1-based line and character column.
public enum CSVReader {
    /// Every field but the label column a number; the label column non-negative integers.
    public static func read(path: String, hasHeader: Bool, labelColumn: CSVLabelColumn?,
                            delimiter: Character = ",") throws -> CSVTable {
        var labels: [Int32] = []
        let (names, features, count) = try parse(path: path, delimiter: delimiter, hasHeader: hasHeader) { header, columns, parser in
            let index = try parser.resolve(labelColumn, header: header, columns: columns)
            return (index, nil)
        } target: { parser, field, column, lineStart in
            labels.append(try parser.label(field, column: column, lineStart: lineStart))
        }
        return CSVTable(featureNames: names, featureCount: count, features: features, labels: labels)
    }

    /// A file with a header row: `target` names the target column (nil: the last), `features` the
    /// feature columns in the order wanted (nil: every other column, in file order).
    public static func readColumns(path: String, target: String?, features wanted: [String]?,
                                   delimiter: Character = ",") throws -> CSVColumns {
        var targets: [String] = [], lines: [Int32] = [], columns: [Int32] = []
        var targetName = "", order: [Int]?
        let (names, values, count) = try parse(path: path, delimiter: delimiter, hasHeader: true) { header, columnCount, parser in
            let header = header!
            let index = try parser.resolve(target.map { .name($0) } ?? .last, header: header, columns: columnCount)!
            targetName = header[index]
            guard let wanted else { return (index, nil) }
            if let duplicate = wanted.first(where: { name in wanted.filter { $0 == name }.count > 1 }) {
                throw CohortError.invalid("\(path): data.features lists '\(duplicate)' twice")
            }
            order = try wanted.map { name in
                guard let i = header.firstIndex(of: name) else {
                    throw CohortError.invalid("\(path):\(parser.lineNumber): no column named '\(name)' in the header (\(header.joined(separator: ", ")))")
                }
                guard i != index else { throw CohortError.invalid("\(path): '\(name)' is the target column; it cannot also be a feature") }
                return i
            }
            return (index, Set(order!))
        } target: { parser, field, _, lineStart in
            targets.append(parser.unquoted(parser.string(field)))
            lines.append(Int32(parser.lineNumber))
            columns.append(Int32(field.start - lineStart + 1))
        }
        // Kept columns arrive in file order; put them in the order data.features lists them.
        var featureNames = names ?? [], features = values
        if let order, order != order.sorted() {
            let fileOrder = order.sorted(), rows = targets.count
            let position = order.map { fileOrder.firstIndex(of: $0)! }
            featureNames = position.map { featureNames[$0] }
            features = [Float](repeating: 0, count: values.count)
            for r in 0..<rows { for (j, p) in position.enumerated() { features[r * count + j] = values[r * count + p] } }
        }
        guard count > 0 else { throw CohortError.invalid("\(path): no feature columns besides the target column '\(targetName)'") }
        return CSVColumns(path: path, featureNames: featureNames, features: features, targetName: targetName, targets: targets,
                          targetLines: lines, targetColumns: columns)
    }

    /// One pass over the file. `columns` decides, from the header (when there is one) and the
    /// column count, which column is the target and which others are kept as features (nil: all);
    /// `target` receives each row's target field. Returns the kept columns' names, their values and count.
    private static func parse(path: String, delimiter: Character, hasHeader: Bool,
                              columns: ([String]?, Int, CSVParser) throws -> (target: Int?, kept: Set<Int>?),
                              target: (CSVParser, CSVParser.Field, Int, Int) throws -> Void) throws -> ([String]?, [Float], Int) {
        guard let d = delimiter.asciiValue, d != UInt8(ascii: "\n"), d != UInt8(ascii: "\r") else {
            throw CohortError.invalid("\(path): delimiter \(delimiter) must be one ASCII character other than a line break")
        }
        var bytes = try DataFileStream(path: path).readAll()
        bytes.append(0)  // strtod stops at the terminator after the last field
        return try bytes.withUnsafeBufferPointer { buffer in
            var parser = CSVParser(path: path, text: buffer.baseAddress!, length: buffer.count - 1, delimiter: d)
            return try parser.parse(hasHeader: hasHeader, columns: columns, target: target)
        }
    }
}

/// One pass over the bytes of a CSV file.
struct CSVParser {
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

    mutating func parse(hasHeader: Bool, columns decide: ([String]?, Int, CSVParser) throws -> (target: Int?, kept: Set<Int>?),
                        target: (CSVParser, Field, Int, Int) throws -> Void) throws -> ([String]?, [Float], Int) {
        var position = 0
        var columns = -1
        var targetIndex: Int?
        var keep: [Bool] = []
        var names: [String]?
        var features: [Float] = []
        var rows = 0
        var fields: [Field] = []
        var firstLine = 0
        while true {
            let lineStart: Int
            if columns < 0 {
                guard let (start, end) = nextLine(&position) else { break }
                splitFields(start, end, into: &fields)
                columns = fields.count
                firstLine = lineNumber
                let header = hasHeader ? fields.map { unquoted(string($0)) } : nil
                let (t, kept) = try decide(header, columns, self)
                targetIndex = t
                keep = (0..<columns).map { $0 != t && (kept?.contains($0) ?? true) }
                if let header {
                    names = header.indices.filter { keep[$0] }.map { header[$0] }
                    continue
                }
                lineStart = start
            } else {
                guard let start = try nextRow(&position, columns: columns, firstLine: firstLine, into: &fields) else { break }
                lineStart = start
            }
            for (c, field) in fields.enumerated() {
                if c == targetIndex {
                    try target(self, field, c, lineStart)
                } else if keep[c] {
                    features.append(try number(field, column: c, lineStart: lineStart))
                }
            }
            rows += 1
        }
        guard columns >= 0 else { throw CohortError.invalid("\(path): no data (the file is empty)") }
        guard rows > 0 else { throw CohortError.invalid("\(path): no data rows after the header") }
        return (names, features, keep.filter { $0 }.count)
    }

    /// The fields of the next non-blank line, which must have `columns` of them (the count of line
    /// `firstLine`); returns where the line starts, or nil at the end.
    mutating func nextRow(_ position: inout Int, columns: Int, firstLine: Int, into fields: inout [Field]) throws -> Int? {
        guard let (lineStart, lineEnd) = nextLine(&position) else { return nil }
        splitFields(lineStart, lineEnd, into: &fields)
        if fields.count != columns {
            let column = fields.count > columns ? fields[columns].start - lineStart + 1 : lineEnd - lineStart + 1
            throw CohortError.invalid("\(path):\(lineNumber):\(column): \(fields.count) fields, but line \(firstLine) has \(columns)")
        }
        return lineStart
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
