import Cohort
import Foundation

/// Reads and writes the Hugging Face safetensors format: an 8-byte little-endian header length N,
/// N bytes of JSON header (padded with spaces to a multiple of 8 so the data starts aligned), then
/// the tensors' bytes back to back. Offsets in the header are relative to the start of the data.
public enum Safetensors {
    /// The key that holds string metadata instead of a tensor.
    public static let metadataKey = "__metadata__"
    /// Readers refuse larger headers (the reference implementation's limit), so a corrupt
    /// length field cannot make us allocate gigabytes.
    public static let maxHeaderLength = 100_000_000

    /// Atomically writes `tensors` and `metadata` to `url` (temporary file, fsync, rename), so a
    /// crash never leaves a half-written checkpoint under the final name. Tensors are laid out in
    /// sorted name order, so equal inputs give identical files.
    public static func write(_ tensors: [String: SafetensorsTensor], metadata: [String: String] = [:],
                             to url: URL) throws {
        let names = tensors.keys.sorted()
        let header = try encodeHeader(tensors, names: names, metadata: metadata, file: url.path)
        try AtomicFile.write(to: url) { sink in
            try sink.write(header)
            for name in names { try sink.write(tensors[name]!.bytes) }
        }
    }

    /// Writes Float tensors as F32; see `write(_:metadata:to:)`.
    public static func write(floatTensors: [String: Tensor], metadata: [String: String] = [:], to url: URL) throws {
        try write(floatTensors.mapValues { SafetensorsTensor($0) }, metadata: metadata, to: url)
    }

    /// The whole file as bytes (for tests and in-memory use).
    public static func encode(_ tensors: [String: SafetensorsTensor], metadata: [String: String] = [:]) throws -> Data {
        let names = tensors.keys.sorted()
        var data = try encodeHeader(tensors, names: names, metadata: metadata, file: "safetensors")
        for name in names { data.append(tensors[name]!.bytes) }
        return data
    }

    /// Length prefix plus padded JSON header, keys in a fixed order: metadata first, then tensors by name.
    private static func encodeHeader(_ tensors: [String: SafetensorsTensor], names: [String],
                                     metadata: [String: String], file: String) throws -> Data {
        guard tensors[metadataKey] == nil else {
            throw CohortError.invalid("\(file): '\(metadataKey)' is reserved and cannot name a tensor")
        }
        var fields: [(String, String)] = []
        if !metadata.isEmpty {
            let entries = metadata.keys.sorted().map { ($0, JSONText.quoted(metadata[$0]!)) }
            fields.append((metadataKey, JSONText.object(entries)))
        }
        var offset = 0
        for name in names {
            let tensor = tensors[name]!
            let end = offset + tensor.bytes.count
            let shape = "[" + tensor.shape.map(String.init).joined(separator: ",") + "]"
            fields.append((name, JSONText.object([
                ("dtype", JSONText.quoted(tensor.dtype.rawValue)),
                ("shape", shape),
                ("data_offsets", "[\(offset),\(end)]"),
            ])))
            offset = end
        }
        var json = Array(JSONText.object(fields).utf8)
        json += [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8)
        var data = Data(capacity: 8 + json.count)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: json)
        return data
    }
}
