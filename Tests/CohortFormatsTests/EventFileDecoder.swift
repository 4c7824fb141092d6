import CohortFormats
import Foundation
import XCTest

/// An independent reader of TFRecord-framed Event protobufs, to check what the writer produced.
struct DecodedEvent: Equatable {
    var wallTime: Double?
    var step: Int64?
    var fileVersion: String?
    var values: [(tag: String, value: Float)] = []

    static func == (a: DecodedEvent, b: DecodedEvent) -> Bool {
        a.wallTime == b.wallTime && a.step == b.step && a.fileVersion == b.fileVersion
            && a.values.map(\.tag) == b.values.map(\.tag) && a.values.map(\.value) == b.values.map(\.value)
    }
}

enum EventFileDecoder {
    struct Failure: Error, CustomStringConvertible { let description: String }

    /// Splits the file into records, checking both masked CRCs of each, and decodes the events.
    static func decode(_ data: Data) throws -> [DecodedEvent] {
        let bytes = [UInt8](data)
        var events: [DecodedEvent] = []
        var i = 0
        func uint32(_ at: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(bytes[at + $1]) << (8 * UInt32($1)) } }
        while i < bytes.count {
            guard i + 12 <= bytes.count else { throw Failure(description: "truncated record header at \(i)") }
            let length = Int((0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[i + $1]) << (8 * UInt64($1)) })
            guard uint32(i + 8) == CRC32C.masked(CRC32C.checksum(bytes[i..<i + 8])) else {
                throw Failure(description: "bad length CRC at \(i)")
            }
            let start = i + 12
            guard start + length + 4 <= bytes.count else { throw Failure(description: "truncated record at \(i)") }
            let payload = Array(bytes[start..<start + length])
            guard uint32(start + length) == CRC32C.masked(CRC32C.checksum(payload)) else {
                throw Failure(description: "bad data CRC at \(i)")
            }
            events.append(try event(payload))
            i = start + length + 4
        }
        return events
    }

    private static func event(_ bytes: [UInt8]) throws -> DecodedEvent {
        var event = DecodedEvent()
        for (field, value) in try fields(bytes) {
            switch (field, value) {
            case let (1, .fixed64(bits)): event.wallTime = Double(bitPattern: bits)
            case let (2, .varint(v)): event.step = Int64(bitPattern: v)
            case let (3, .bytes(b)): event.fileVersion = String(decoding: b, as: UTF8.self)
            case let (5, .bytes(summary)):
                for case let (1, .bytes(entry)) in try fields(summary) {
                    var tag = "", simple: Float = .nan
                    for (f, v) in try fields(entry) {
                        if case let (1, .bytes(t)) = (f, v) { tag = String(decoding: t, as: UTF8.self) }
                        if case let (2, .fixed32(bits)) = (f, v) { simple = Float(bitPattern: bits) }
                    }
                    event.values.append((tag, simple))
                }
            default: throw Failure(description: "unexpected Event field \(field)")
            }
        }
        return event
    }

    enum WireValue { case varint(UInt64), fixed64(UInt64), fixed32(UInt32), bytes([UInt8]) }

    static func fields(_ bytes: [UInt8]) throws -> [(Int, WireValue)] {
        var result: [(Int, WireValue)] = []
        var i = 0
        func varint() throws -> UInt64 {
            var value: UInt64 = 0, shift: UInt64 = 0
            while true {
                guard i < bytes.count, shift < 64 else { throw Failure(description: "bad varint") }
                let b = bytes[i]; i += 1
                value |= UInt64(b & 0x7F) << shift
                if b < 0x80 { return value }
                shift += 7
            }
        }
        func take(_ n: Int) throws -> [UInt8] {
            guard n >= 0, i + n <= bytes.count else { throw Failure(description: "field runs past its message") }
            defer { i += n }
            return Array(bytes[i..<i + n])
        }
        while i < bytes.count {
            let key = try varint()
            let field = Int(key >> 3)
            switch key & 7 {
            case 0: result.append((field, .varint(try varint())))
            case 1: result.append((field, .fixed64(try take(8).reversed().reduce(0) { $0 << 8 | UInt64($1) })))
            case 2: result.append((field, .bytes(try take(Int(try varint())))))
            case 5: result.append((field, .fixed32(try take(4).reversed().reduce(0) { $0 << 8 | UInt32($1) })))
            default: throw Failure(description: "unknown wire type \(key & 7)")
            }
        }
        return result
    }
}
