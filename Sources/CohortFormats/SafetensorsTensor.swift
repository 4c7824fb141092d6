import Cohort
import Foundation

/// One named entry of a safetensors file: a dtype, a shape, and the raw little-endian bytes.
public struct SafetensorsTensor: Equatable, Sendable {
    public let dtype: SafetensorsDType
    public let shape: [Int]
    /// Row-major element bytes; `bytes.count == elementCount * dtype.byteSize`.
    public let bytes: Data

    /// Elements the shape holds (1 for a scalar of shape `[]`).
    public var elementCount: Int { shape.reduce(1, *) }

    /// Wraps raw bytes; throws unless the shape is non-negative and matches the byte count.
    public init(dtype: SafetensorsDType, shape: [Int], bytes: Data) throws {
        guard let count = SafetensorsTensor.byteCount(dtype: dtype, shape: shape) else {
            throw CohortError.invalid("safetensors: shape \(shapeString(shape)) is negative or too large")
        }
        guard count == bytes.count else {
            throw CohortError.invalid("safetensors: shape \(shapeString(shape)) of \(dtype.rawValue) needs \(count) bytes, got \(bytes.count)")
        }
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    /// A copy of a Float tensor's elements as F32.
    public init(_ tensor: Tensor) {
        dtype = .f32
        shape = tensor.shape
        bytes = Data(bytes: tensor.pointer, count: tensor.count * MemoryLayout<Float>.stride)
    }

    /// A copy of `values` with `shape`, whose element count must equal `values.count`.
    public init<Scalar: SafetensorsScalar>(shape: [Int], values: [Scalar]) throws {
        let data = values.withUnsafeBytes { Data($0) }
        try self.init(dtype: Scalar.safetensorsDType, shape: shape, bytes: data)
    }

    /// The elements as `Scalar`, which must match the dtype.
    public func values<Scalar: SafetensorsScalar>(as type: Scalar.Type = Scalar.self) throws -> [Scalar] {
        guard dtype == Scalar.safetensorsDType else {
            throw CohortError.invalid("safetensors: tensor has dtype \(dtype.rawValue), not \(Scalar.safetensorsDType.rawValue)")
        }
        return [Scalar](unsafeUninitializedCapacity: elementCount) { buffer, initialized in
            _ = bytes.copyBytes(to: buffer)
            initialized = elementCount
        }
    }

    /// The elements as a new Float tensor of this shape; the dtype must be F32.
    public func floatTensor() throws -> Tensor {
        guard dtype == .f32 else {
            throw CohortError.invalid("safetensors: tensor has dtype \(dtype.rawValue), not F32")
        }
        let tensor = Tensor(zeros: shape)
        _ = bytes.copyBytes(to: UnsafeMutableBufferPointer(start: tensor.pointer, count: tensor.count))
        return tensor
    }

    /// `product(shape) * dtype.byteSize`, or nil when a dimension is negative or the product overflows.
    static func byteCount(dtype: SafetensorsDType, shape: [Int]) -> Int? {
        var count = dtype.byteSize
        for d in shape {
            guard d >= 0 else { return nil }
            let (product, overflow) = count.multipliedReportingOverflow(by: d)
            if overflow { return nil }
            count = product
        }
        return count
    }
}
