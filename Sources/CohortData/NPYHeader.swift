import Cohort

/// The header of a NumPy .npy file: magic `\x93NUMPY`, version, header length, then a Python dict
/// literal such as `{'descr': '<f4', 'fortran_order': False, 'shape': (60000, 784), }`.
struct NPYHeader {
    var descr: String
    var fortranOrder: Bool
    var shape: [Int]

    /// Reads and parses the header, leaving `stream` at the first data byte.
    static func read(_ stream: DataFileStream) throws -> NPYHeader {
        let path = stream.path
        let prefix = try stream.readPrefix(8)
        let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
        guard prefix.count >= 6, Array(prefix[0..<6]) == magic else {
            throw CohortError.invalid("\(path): not a NumPy .npy file (it does not start with \\x93NUMPY)")
        }
        guard prefix.count == 8 else {
            throw CohortError.invalid("\(path): truncated: \(prefix.count) bytes, too short for an .npy header")
        }
        let (major, minor) = (prefix[6], prefix[7])
        let lengthBytes: Int
        switch (major, minor) {
        case (1, 0): lengthBytes = 2
        case (2, 0), (3, 0): lengthBytes = 4
        default:
            throw CohortError.invalid("\(path): .npy format version \(major).\(minor) is not supported (1.0, 2.0, 3.0 are)")
        }
        let lengthField = try stream.readPrefix(lengthBytes)
        guard lengthField.count == lengthBytes else {
            throw CohortError.invalid("\(path): truncated: the file ends inside the .npy header length")
        }
        let length = lengthField.reversed().reduce(0) { $0 << 8 | Int($1) }  // little-endian
        let text = try stream.readPrefix(length)
        guard text.count == length else {
            throw CohortError.invalid("\(path): truncated: header length is \(length) bytes, found \(text.count)")
        }
        // Versions 1 and 2 are latin-1, 3 is UTF-8; every valid key and value is ASCII either way.
        var parser = DictParser(bytes: text, path: path)
        return try parser.parseHeader()
    }

    /// The header as NumPy would print the shape, e.g. `(60000, 784)`.
    var shapeText: String {
        shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    }
}

/// A parser for the small subset of Python literals .npy headers use: a dict of string keys to
/// strings, booleans and tuples of integers.
private struct DictParser {
    let bytes: [UInt8]
    let path: String
    var i = 0

    init(bytes: [UInt8], path: String) {
        self.bytes = bytes
        self.path = path
    }

    enum Value {
        case string(String), bool(Bool), tuple([Int])
    }

    mutating func parseHeader() throws -> NPYHeader {
        var fields: [String: Value] = [:]
        try expect(UInt8(ascii: "{"))
        while true {
            skipSpace()
            if peek == UInt8(ascii: "}") { i += 1; break }
            guard case let .string(key) = try value() else { throw bad("expected a string key") }
            try expect(UInt8(ascii: ":"))
            guard fields[key] == nil else { throw bad("key '\(key)' appears twice") }
            fields[key] = try value()
            skipSpace()
            if peek == UInt8(ascii: ",") { i += 1 } else if peek != UInt8(ascii: "}") { throw bad("expected ',' or '}'") }
        }
        skipSpace()
        guard i == bytes.count else { throw bad("unexpected text after the dict") }
        let known: Set<String> = ["descr", "fortran_order", "shape"]
        if let extra = fields.keys.sorted().first(where: { !known.contains($0) }) {
            throw bad("unexpected key '\(extra)'")
        }
        guard case let .string(descr)? = fields["descr"] else { throw bad("no string 'descr'") }
        guard case let .bool(fortran)? = fields["fortran_order"] else { throw bad("no boolean 'fortran_order'") }
        guard case let .tuple(shape)? = fields["shape"] else { throw bad("no tuple 'shape'") }
        return NPYHeader(descr: descr, fortranOrder: fortran, shape: shape)
    }

    private var peek: UInt8? { i < bytes.count ? bytes[i] : nil }

    private func bad(_ what: String) -> CohortError {
        let text = String(decoding: bytes, as: UTF8.self).trimmingSpaces
        return .invalid("\(path): malformed .npy header: \(what) at offset \(i) in \(text)")
    }

    private mutating func skipSpace() {
        while let c = peek, c == 0x20 || c == 0x0a || c == 0x09 || c == 0x0d { i += 1 }
    }

    private mutating func expect(_ c: UInt8) throws {
        skipSpace()
        guard peek == c else { throw bad("expected '\(Character(Unicode.Scalar(c)))'") }
        i += 1
    }

    private mutating func value() throws -> Value {
        skipSpace()
        guard let c = peek else { throw bad("unexpected end") }
        switch c {
        case UInt8(ascii: "'"), UInt8(ascii: "\""):
            i += 1
            let start = i
            while let d = peek, d != c { i += 1 }
            guard peek == c else { throw bad("unterminated string") }
            i += 1
            return .string(String(decoding: bytes[start..<i - 1], as: UTF8.self))
        case UInt8(ascii: "("):
            i += 1
            var items: [Int] = []
            while true {
                skipSpace()
                if peek == UInt8(ascii: ")") { i += 1; break }
                items.append(try integer())
                skipSpace()
                if peek == UInt8(ascii: ",") { i += 1 } else if peek != UInt8(ascii: ")") { throw bad("expected ',' or ')' in shape") }
            }
            return .tuple(items)
        case UInt8(ascii: "["):
            throw bad("structured dtypes (a list 'descr') are not supported")
        default:
            if match("True") { return .bool(true) }
            if match("False") { return .bool(false) }
            throw bad("unexpected value")
        }
    }

    private mutating func match(_ word: String) -> Bool {
        let w = Array(word.utf8)
        guard i + w.count <= bytes.count, Array(bytes[i..<i + w.count]) == w else { return false }
        i += w.count
        return true
    }

    /// A non-negative decimal integer (Python 2 headers may append 'L').
    private mutating func integer() throws -> Int {
        var value = 0, digits = 0
        while let c = peek, c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") {
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times.addingReportingOverflow(Int(c - UInt8(ascii: "0")))
            guard !o1, !o2 else { throw bad("dimension too large") }
            value = sum
            digits += 1
            i += 1
        }
        guard digits > 0 else { throw bad("expected a non-negative integer dimension") }
        if peek == UInt8(ascii: "L") { i += 1 }
        return value
    }
}

extension String {
    /// Without leading and trailing spaces and newlines (header padding).
    var trimmingSpaces: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
