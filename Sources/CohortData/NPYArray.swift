#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Cohort

/// An array read from a NumPy .npy file (format 1.0, 2.0 or 3.0; C order; little-endian
/// `<f4`, `<f8`, `<i4`, `<i8` or `|u1`), plain or gzip-compressed.
public struct NPYArray: Sendable {
    /// The values in their stored type.
    public enum Values: Sendable {
        case float32([Float]), float64([Double]), uint8([UInt8]), int32([Int32]), int64([Int64])
    }

    /// The file the array came from, for messages.
    public let path: String
    /// NumPy's dtype string, e.g. "<f4".
    public let dtype: String
    public let shape: [Int]
    public let values: Values

    /// Number of elements: the product of `shape`.
    public var count: Int { shape.reduce(1, *) }

    /// Reads `path`. A bad magic, unsupported version or dtype, Fortran order, a malformed header,
    /// or data shorter or longer than the shape says throws `CohortError.invalid("<path>: ...")`.
    public static func read(path: String) throws -> NPYArray {
        let stream = try DataFileStream(path: path)
        let header = try NPYHeader.read(stream)
        guard !header.fortranOrder else {
            throw CohortError.invalid("\(path): fortran_order arrays are not supported; save a C-order array (np.ascontiguousarray)")
        }
        let (count, overflow) = header.shape.reduce((1, false)) { acc, d in
            let r = acc.0.multipliedReportingOverflow(by: d)
            return (r.partialValue, acc.1 || r.overflow)
        }
        guard !overflow else { throw CohortError.invalid("\(path): shape \(header.shapeText) overflows") }
        let what = "shape \(header.shapeText) of \(header.descr)"
        // The host is little-endian (x86-64, arm64), so little-endian data is read as is.
        let values: Values
        switch header.descr {
        case "<f4": values = .float32(try stream.readArray(of: Float.self, count: count, what: what))
        case "<f8": values = .float64(try stream.readArray(of: Double.self, count: count, what: what))
        case "|u1", "<u1": values = .uint8(try stream.readArray(of: UInt8.self, count: count, what: what))
        case "<i4": values = .int32(try stream.readArray(of: Int32.self, count: count, what: what))
        case "<i8": values = .int64(try stream.readArray(of: Int64.self, count: count, what: what))
        default:
            let endianHint = header.descr.hasPrefix(">") ? " (big-endian; save with .astype('<\(header.descr.dropFirst())'))" : ""
            throw CohortError.invalid("\(path): dtype '\(header.descr)' is not supported\(endianHint); supported: <f4, <f8, |u1, <i4, <i8")
        }
        try stream.expectEnd(after: "the data of \(what)")
        return NPYArray(path: path, dtype: header.descr, shape: header.shape, values: values)
    }

    /// The values as Float; NaN or infinity throws (naming the file and flat index), since one
    /// such input poisons a whole training run.
    public func floats() throws -> [Float] {
        let result: [Float]
        switch values {
        case let .float32(v): result = v
        case let .float64(v): result = v.map { Float($0) }
        case let .uint8(v): result = v.map(Float.init)
        case let .int32(v): result = v.map(Float.init)
        case let .int64(v): result = v.map(Float.init)
        }
        if let i = result.firstIndex(where: { !$0.isFinite }) {
            throw CohortError.invalid("\(path): element \(i) is \(result[i]) (not finite)")
        }
        return result
    }

    /// The values as class labels: an integer dtype, every value in 0...Int32.max.
    public func labels() throws -> [Int32] {
        func checked<T: BinaryInteger>(_ v: [T]) throws -> [Int32] {
            if let i = v.firstIndex(where: { $0 < 0 || $0 > T(Int32.max) }) {
                throw CohortError.invalid("\(path): label \(v[i]) at index \(i) is not a non-negative 32-bit integer")
            }
            return v.map { Int32($0) }
        }
        switch values {
        case let .uint8(v): return v.map(Int32.init)
        case let .int32(v): return try checked(v)
        case let .int64(v): return try checked(v)
        case .float32, .float64:
            throw CohortError.invalid("\(path): labels need an integer dtype (|u1, <i4, <i8), not \(dtype)")
        }
    }
}

extension NPYArray {
    /// An array to write (`write(to:)`), e.g. predictions or a test's data.
    public init(shape: [Int], values: Values) {
        self.shape = shape
        self.values = values
        path = ""
        switch values {
        case .float32: dtype = "<f4"
        case .float64: dtype = "<f8"
        case .uint8: dtype = "|u1"
        case .int32: dtype = "<i4"
        case .int64: dtype = "<i8"
        }
    }

    /// The .npy bytes (format 1.0, C order, little-endian), as NumPy's `np.save` writes them.
    public var fileBytes: [UInt8] {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = Array("{'descr': '\(dtype)', 'fortran_order': False, 'shape': \(shapeText), }".utf8)
        while (10 + header.count + 1) % 64 != 0 { header.append(0x20) }  // the data starts 64-byte aligned
        header.append(0x0a)
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        bytes += withUnsafeBytes(of: UInt16(header.count).littleEndian) { Array($0) }
        bytes += header
        func append<T>(_ v: [T]) { v.withUnsafeBytes { bytes += $0 } }
        switch values {
        case let .float32(v): append(v)
        case let .float64(v): append(v)
        case let .uint8(v): append(v)
        case let .int32(v): append(v)
        case let .int64(v): append(v)
        }
        return bytes
    }

    public func write(to path: String) throws {
        guard let file = fopen(path, "wb") else {
            throw CohortError.invalid("\(path): cannot write the .npy file: \(String(cString: strerror(errno)))")
        }
        let bytes = fileBytes
        let written = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        guard fclose(file) == 0, written == bytes.count else { throw CohortError.invalid("\(path): cannot write the .npy file") }
    }
}
