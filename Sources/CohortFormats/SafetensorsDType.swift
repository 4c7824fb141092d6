// safetensors stores little-endian bytes; Cohort copies them without swapping.
#if !_endian(little)
#error("CohortFormats assumes a little-endian host")
#endif

/// The element types Cohort writes to and reads from safetensors files, by their header names.
public enum SafetensorsDType: String, CaseIterable, Sendable, Codable {
    case f32 = "F32"
    case i8 = "I8"
    case u8 = "U8"
    case i32 = "I32"
    case i64 = "I64"

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .i8, .u8: return 1
        case .f32, .i32: return 4
        case .i64: return 8
        }
    }
}

/// A Swift scalar type with a safetensors dtype of the same size and layout.
public protocol SafetensorsScalar: Sendable {
    static var safetensorsDType: SafetensorsDType { get }
}

extension Float: SafetensorsScalar { public static var safetensorsDType: SafetensorsDType { .f32 } }
extension Int8: SafetensorsScalar { public static var safetensorsDType: SafetensorsDType { .i8 } }
extension UInt8: SafetensorsScalar { public static var safetensorsDType: SafetensorsDType { .u8 } }
extension Int32: SafetensorsScalar { public static var safetensorsDType: SafetensorsDType { .i32 } }
extension Int64: SafetensorsScalar { public static var safetensorsDType: SafetensorsDType { .i64 } }
