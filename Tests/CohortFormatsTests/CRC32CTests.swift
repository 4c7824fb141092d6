import CohortFormats
import XCTest

final class CRC32CTests: XCTestCase {
    func testKnownVectors() {
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
        XCTAssertEqual(CRC32C.checksum([UInt8]()), 0)
        // RFC 3720 (iSCSI) appendix B.4 vectors.
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)), 0x62A8_AB43)
        XCTAssertEqual(CRC32C.checksum((0..<32).map { UInt8($0) }), 0x46DD_794E)
        XCTAssertEqual(CRC32C.checksum((0..<32).map { UInt8(31 - $0) }), 0x113F_DB5C)
    }

    func testIncrementalEqualsOneShot() {
        let bytes = Array("The quick brown fox jumps over the lazy dog".utf8)
        let whole = CRC32C.checksum(bytes)
        let first = bytes[..<10].withUnsafeBytes { CRC32C.checksum($0) }
        let both = bytes[10...].withUnsafeBytes { CRC32C.checksum($0, continuing: first) }
        XCTAssertEqual(both, whole)
        XCTAssertEqual(whole, 0x2262_0404)
    }

    func testMasking() {
        XCTAssertEqual(CRC32C.masked(0), 0xA282_EAD8)
        // Rotate right by 15: bit 15 moves to bit 0; then add the constant, wrapping.
        XCTAssertEqual(CRC32C.masked(1 << 15), 1 &+ 0xA282_EAD8)
        XCTAssertEqual(CRC32C.masked(0xFFFF_FFFF), 0xFFFF_FFFF &+ 0xA282_EAD8)
        // Values from TensorBoard's own masked_crc32c, of the length fields of 0- and 24-byte records.
        XCTAssertEqual(CRC32C.masked(CRC32C.checksum([UInt8](repeating: 0, count: 8))), 0x0798_0329)
        XCTAssertEqual(CRC32C.masked(CRC32C.checksum([24, 0, 0, 0, 0, 0, 0, 0])), 0x224B_7FA3)
    }
}
