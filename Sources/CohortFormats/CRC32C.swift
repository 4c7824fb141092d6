/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum TFRecord and TensorBoard
/// event files use. `checksum("123456789") == 0xE3069283`.
public enum CRC32C {
    private static let table: [UInt32] = (0..<256).map { byte in
        var crc = UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        return crc
    }

    /// The CRC of `bytes`; pass a previous result as `continuing` to checksum data in pieces.
    public static func checksum(_ bytes: UnsafeRawBufferPointer, continuing previous: UInt32 = 0) -> UInt32 {
        var crc = ~previous
        table.withUnsafeBufferPointer { table in
            for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        }
        return ~crc
    }

    /// The CRC of `bytes`.
    public static func checksum<Bytes: Sequence>(_ bytes: Bytes) -> UInt32 where Bytes.Element == UInt8 {
        Array(bytes).withUnsafeBytes { checksum($0) }
    }

    /// The TFRecord masking, which keeps a CRC stored next to its data from checksumming well:
    /// rotate right by 15 bits and add a constant.
    public static func masked(_ crc: UInt32) -> UInt32 {
        ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }
}
