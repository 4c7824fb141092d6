/// The few protobuf wire-format pieces an Event needs, so no protobuf library is required.
/// Field keys are `(number << 3) | wireType`.
struct ProtobufEncoder {
    private(set) var bytes: [UInt8] = []

    private enum WireType: UInt64 {
        case varint = 0, fixed64 = 1, lengthDelimited = 2, fixed32 = 5
    }

    private mutating func key(_ field: Int, _ type: WireType) {
        varint(UInt64(field) << 3 | type.rawValue)
    }

    private mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    /// An int64 field; negative values take ten bytes, as protobuf specifies.
    mutating func int64(_ field: Int, _ value: Int64) {
        key(field, .varint)
        varint(UInt64(bitPattern: value))
    }

    mutating func double(_ field: Int, _ value: Double) {
        key(field, .fixed64)
        withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func float(_ field: Int, _ value: Float) {
        key(field, .fixed32)
        withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func string(_ field: Int, _ value: String) {
        message(field, Array(value.utf8))
    }

    /// An embedded message (or any length-delimited bytes).
    mutating func message(_ field: Int, _ encoded: [UInt8]) {
        key(field, .lengthDelimited)
        varint(UInt64(encoded.count))
        bytes += encoded
    }
}
