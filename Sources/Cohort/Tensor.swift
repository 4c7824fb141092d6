import Foundation

/// A dense, row-major Float32 tensor of any rank.
///
/// The shape is a value; the data is a reference into a `Storage` (like PyTorch's tensors):
/// copying a `Tensor` copies the view, not the numbers. Views into a parameter arena are how
/// layers own their weights while the optimizer and the allreduce see one flat buffer.
public struct Tensor: @unchecked Sendable {
    public private(set) var shape: [Int]
    public let storage: Storage
    public let offset: Int
    public let count: Int

    /// A zero-filled tensor.
    public init(zeros shape: [Int]) {
        let n = Tensor.elementCount(shape)
        self.shape = shape
        storage = Storage(capacity: n)
        offset = 0
        count = n
    }

    /// A tensor filled with `value`.
    public init(shape: [Int], repeating value: Float) {
        self.init(zeros: shape)
        if value != 0 { fill(value) }
    }

    /// A tensor holding `scalars`, which must have exactly as many elements as `shape`.
    public init(shape: [Int], scalars: [Float]) throws {
        let n = Tensor.elementCount(shape)
        guard n == scalars.count else {
            throw CohortError.shape(op: "Tensor(shape:scalars:)",
                                    detail: "shape \(shapeString(shape)) holds \(n) elements but \(scalars.count) were given")
        }
        self.init(zeros: shape)
        scalars.withUnsafeBufferPointer { src in
            if n > 0 { pointer.update(from: src.baseAddress!, count: n) }
        }
    }

    /// A view of `shape` starting at element `offset` of `storage`.
    public init(storage: Storage, offset: Int, shape: [Int]) {
        let n = Tensor.elementCount(shape)
        precondition(offset >= 0 && offset + n <= storage.capacity, "view outside its storage")
        self.storage = storage
        self.offset = offset
        self.shape = shape
        count = n
    }

    @inlinable public static func elementCount(_ shape: [Int]) -> Int {
        var n = 1
        for d in shape {
            precondition(d >= 0, "negative dimension in shape \(shapeString(shape))")
            n *= d
        }
        return n
    }

    @inlinable public var rank: Int { shape.count }
    @inlinable public var pointer: UnsafeMutablePointer<Float> { storage.pointer + offset }
    @inlinable public var buffer: UnsafeMutableBufferPointer<Float> { .init(start: pointer, count: count) }

    /// The elements in row-major order (a copy).
    public var scalars: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    /// The single element of a one-element tensor.
    public var item: Float {
        precondition(count == 1, "item of a tensor of shape \(shapeString(shape))")
        return pointer[0]
    }

    /// Element at a multi-index (for tests and small tools; hot loops use `pointer`).
    public subscript(_ index: Int...) -> Float {
        get { pointer[flatIndex(index)] }
        nonmutating set { pointer[flatIndex(index)] = newValue }
    }

    private func flatIndex(_ index: [Int]) -> Int {
        precondition(index.count == shape.count, "index \(index) for shape \(shapeString(shape))")
        var flat = 0
        for (i, d) in zip(index, shape) {
            precondition(i >= 0 && i < d, "index \(index) out of range for shape \(shapeString(shape))")
            flat = flat * d + i
        }
        return flat
    }

    /// The same data seen with another shape of the same element count; one dimension may be -1.
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        let resolved = try Tensor.resolve(newShape, count: count, op: "reshape", from: shape)
        return Tensor(storage: storage, offset: offset, shape: resolved)
    }

    static func resolve(_ newShape: [Int], count: Int, op: String, from shape: [Int]) throws -> [Int] {
        var resolved = newShape
        let unknown = newShape.indices.filter { newShape[$0] == -1 }
        guard unknown.count <= 1, newShape.allSatisfy({ $0 >= -1 }) else {
            throw CohortError.shape(op: op, detail: "cannot reshape \(shapeString(shape)) to \(shapeString(newShape))")
        }
        let known = newShape.filter { $0 != -1 }.reduce(1, *)
        if let u = unknown.first {
            guard known > 0, count % known == 0 else {
                throw CohortError.shape(op: op, detail: "cannot reshape \(shapeString(shape)) to \(shapeString(newShape))")
            }
            resolved[u] = count / known
        }
        guard resolved.reduce(1, *) == count else {
            throw CohortError.shape(op: op, detail: "cannot reshape \(shapeString(shape)) (\(count) elements) to \(shapeString(newShape))")
        }
        return resolved
    }

    /// A deep copy in fresh storage.
    public func copy() -> Tensor {
        let t = Tensor(zeros: shape)
        if count > 0 { t.pointer.update(from: pointer, count: count) }
        return t
    }

    /// Copies `other`'s elements into this tensor; the element counts must agree.
    public func assign(_ other: Tensor) throws {
        guard other.count == count else {
            throw CohortError.shape(op: "assign", detail: "\(shapeString(other.shape)) into \(shapeString(shape))")
        }
        if count > 0 { pointer.update(from: other.pointer, count: count) }
    }

    public func fill(_ value: Float) {
        if value == 0 { memset(pointer, 0, count * MemoryLayout<Float>.stride); return }
        pointer.update(repeating: value, count: count)
    }

    public func zero() { fill(0) }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let shown = scalars.prefix(8).map { String(format: "%.4g", Double($0)) }.joined(separator: ", ")
        return "Tensor\(shapeString(shape))[\(shown)\(count > 8 ? ", ..." : "")]"
    }
}

