import Cohort
import Foundation

/// The contents of a safetensors file, validated.
public struct SafetensorsFile: Sendable {
    /// Where the tensors came from, used in error messages.
    public let source: String
    public let tensors: [String: SafetensorsTensor]
    public let metadata: [String: String]

    /// Tensor names, sorted.
    public var names: [String] { tensors.keys.sorted() }

    /// The tensor called `name`, or an error naming the file and the missing tensor.
    public func tensor(_ name: String) throws -> SafetensorsTensor {
        guard let tensor = tensors[name] else {
            throw CohortError.invalid("\(source): no tensor named '\(name)'")
        }
        return tensor
    }

    /// The F32 tensor called `name` as a Float tensor.
    public func floatTensor(_ name: String) throws -> Tensor {
        let entry = try tensor(name)
        guard entry.dtype == .f32 else {
            throw CohortError.invalid("\(source): tensor '\(name)' has dtype \(entry.dtype.rawValue), not F32")
        }
        return try entry.floatTensor()
    }
}

extension Safetensors {
    /// Reads and validates `url`. Every problem (truncation, bad JSON, unknown dtype, offsets that
    /// overlap, leave gaps or run past the data, shapes that disagree with byte counts) is thrown as
    /// `CohortError.invalid` with one line naming the file and what is wrong.
    public static func read(from url: URL) throws -> SafetensorsFile {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            let reason = (error as NSError).localizedDescription.replacingOccurrences(of: "\n", with: " ")
            throw CohortError.invalid("\(url.path): cannot read: \(reason)")
        }
        return try decode(data, source: url.path)
    }

    /// Validates and decodes a whole file held in memory; `source` names it in errors.
    public static func decode(_ data: Data, source: String) throws -> SafetensorsFile {
        func fail(_ what: String) -> CohortError { .invalid("\(source): \(what)") }
        let data = Data(data)  // Rebase a slice so indices start at 0.
        guard data.count >= 8 else {
            throw fail("file is \(data.count) bytes, too short for the 8-byte header length")
        }
        let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= UInt64(data.count - 8) else {
            throw fail("header length \(headerLength) exceeds the \(data.count - 8) bytes after the length field")
        }
        guard headerLength <= UInt64(maxHeaderLength) else {
            throw fail("header length \(headerLength) exceeds the \(maxHeaderLength)-byte limit")
        }
        let headerEnd = 8 + Int(headerLength)
        let header = try decodeHeader(data[8..<headerEnd], fail: fail)
        let bufferLength = data.count - headerEnd

        // Every tensor's own consistency first, then the layout of all of them together.
        for entry in header.entries {
            guard let needed = SafetensorsTensor.byteCount(dtype: entry.dtype, shape: entry.shape) else {
                throw fail("tensor '\(entry.name)' has a negative or overflowing shape \(shapeString(entry.shape))")
            }
            guard entry.begin <= entry.end else {
                throw fail("tensor '\(entry.name)' has data_offsets [\(entry.begin), \(entry.end)] that end before they begin")
            }
            guard entry.end <= bufferLength else {
                throw fail("tensor '\(entry.name)' has data_offsets [\(entry.begin), \(entry.end)] beyond the \(bufferLength)-byte data buffer")
            }
            guard entry.end - entry.begin == needed else {
                throw fail("tensor '\(entry.name)' of shape \(shapeString(entry.shape)) and dtype \(entry.dtype.rawValue) needs \(needed) bytes but data_offsets [\(entry.begin), \(entry.end)] hold \(entry.end - entry.begin)")
            }
        }
        var covered = 0
        var previous: String?
        for entry in header.entries.sorted(by: { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }) {
            if entry.begin < covered {
                throw fail("tensor '\(entry.name)' overlaps tensor '\(previous ?? "")' (data_offsets start at \(entry.begin), previous ends at \(covered))")
            }
            if entry.begin > covered {
                throw fail("bytes \(covered)..<\(entry.begin) of the data buffer belong to no tensor")
            }
            covered = entry.end
            previous = entry.name
        }
        guard covered == bufferLength else {
            throw fail("tensors cover \(covered) bytes but the data buffer has \(bufferLength)")
        }

        var tensors: [String: SafetensorsTensor] = [:]
        for entry in header.entries {
            let bytes = data.subdata(in: headerEnd + entry.begin ..< headerEnd + entry.end)
            tensors[entry.name] = try SafetensorsTensor(dtype: entry.dtype, shape: entry.shape, bytes: bytes)
        }
        return SafetensorsFile(source: source, tensors: tensors, metadata: header.metadata)
    }

    private struct HeaderEntry {
        let name: String
        let dtype: SafetensorsDType
        let shape: [Int]
        let begin: Int
        let end: Int
    }

    private static func decodeHeader(_ bytes: Data, fail: (String) -> CohortError) throws
        -> (entries: [HeaderEntry], metadata: [String: String]) {
        guard bytes.first == UInt8(ascii: "{") else { throw fail("header is not a JSON object") }
        let root: [String: JSONValue]
        do {
            root = try JSONDecoder().decode([String: JSONValue].self, from: bytes)
        } catch {
            throw fail("header is not valid JSON")
        }
        var entries: [HeaderEntry] = []
        var metadata: [String: String] = [:]
        for (name, value) in root {
            if name == metadataKey {
                guard case let .object(fields) = value else { throw fail("'\(metadataKey)' is not an object") }
                for (key, field) in fields {
                    guard case let .string(text) = field else { throw fail("metadata '\(key)' is not a string") }
                    metadata[key] = text
                }
                continue
            }
            guard case let .object(fields) = value else { throw fail("tensor '\(name)' is not an object") }
            guard case let .string(dtypeName)? = fields["dtype"] else { throw fail("tensor '\(name)' has no string 'dtype'") }
            guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
                let known = SafetensorsDType.allCases.map(\.rawValue).joined(separator: ", ")
                throw fail("tensor '\(name)' has dtype '\(dtypeName)', which Cohort does not read (known: \(known))")
            }
            guard case let .array(dims)? = fields["shape"], let shape = integers(dims) else {
                throw fail("tensor '\(name)' has no 'shape' array of integers")
            }
            guard case let .array(offsets)? = fields["data_offsets"], let pair = integers(offsets), pair.count == 2 else {
                throw fail("tensor '\(name)' has no 'data_offsets' pair of integers")
            }
            guard pair[0] >= 0, pair[1] >= 0 else {
                throw fail("tensor '\(name)' has negative data_offsets [\(pair[0]), \(pair[1])]")
            }
            entries.append(HeaderEntry(name: name, dtype: dtype, shape: shape, begin: pair[0], end: pair[1]))
        }
        return (entries, metadata)
    }

    private static func integers(_ values: [JSONValue]) -> [Int]? {
        var result: [Int] = []
        for value in values {
            guard case let .integer(n) = value else { return nil }
            result.append(n)
        }
        return result
    }
}

/// Just enough JSON to validate a header: integers are kept apart from other numbers so that
/// `2.5` or `true` is rejected as a dimension instead of being rounded.
private enum JSONValue: Decodable {
    case object([String: JSONValue])
    case array([JSONValue])
    case string(String)
    case integer(Int)
    case other

    init(from decoder: Decoder) throws {
        if let keyed = try? decoder.container(keyedBy: AnyCodingKey.self) {
            var fields: [String: JSONValue] = [:]
            for key in keyed.allKeys { fields[key.stringValue] = try keyed.decode(JSONValue.self, forKey: key) }
            self = .object(fields)
            return
        }
        if var unkeyed = try? decoder.unkeyedContainer() {
            var items: [JSONValue] = []
            while !unkeyed.isAtEnd { items.append(try unkeyed.decode(JSONValue.self)) }
            self = .array(items)
            return
        }
        let single = try decoder.singleValueContainer()
        if let text = try? single.decode(String.self) {
            self = .string(text)
        } else if (try? single.decode(Bool.self)) != nil {
            self = .other
        } else if let n = try? single.decode(Int.self) {
            self = .integer(n)
        } else {
            self = .other
        }
    }
}
