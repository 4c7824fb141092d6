import Cohort
import CohortFormats

extension Model {
    /// Loads every parameter and buffer from a safetensors file that holds them by path ("1.weight"):
    /// a checkpoint or a model-only file, float, pruned (its masks are not needed: pruned weights
    /// are stored as zeros) or int8 (I8 values with F32 per-output-channel scales "<path>.scale").
    /// Every tensor must be there, with the model's shape. An int8 Linear or Conv2d weight is kept
    /// as int8 for inference (`Int8Weights`: integer products), and as q * scale in the parameter
    /// arena, which training and every other layer use.
    public func load(_ file: SafetensorsFile) throws {
        let layers = Dictionary(uniqueKeysWithValues: Self.int8Layers(network).map { (ObjectIdentifier($0.weight), $0) })
        for arena in [parameters, buffers] {
            for (e, p) in zip(arena.entries, arena.parameters) {
                guard let stored = file.tensors[e.path] else {
                    throw CohortError.invalid("\(file.source): no tensor '\(e.path)' (the checkpoint is not of this model)")
                }
                guard stored.shape == e.shape else {
                    throw CohortError.invalid("\(file.source): '\(e.path)' has shape \(shapeString(stored.shape)) but the model's is \(shapeString(e.shape))")
                }
                if stored.dtype == .i8 {
                    let (values, scales) = try Self.dequantize(file, e, into: p.value)
                    layers[ObjectIdentifier(p)]?.int8 = Int8Weights(values: values, scales: scales, outFeatures: e.shape[0],
                                                                     inFeatures: e.count / e.shape[0])
                } else {
                    try p.value.assign(try file.floatTensor(e.path))
                }
            }
        }
    }

    /// Every layer below `layer` that can compute in int8 (Linear and Conv2d).
    static func int8Layers(_ layer: Layer) -> [Int8Capable] {
        (layer as? Int8Capable).map { [$0] } ?? layer.children.flatMap { int8Layers($0.1) }
    }

    /// An int8 weight: values q [out, ...] and per-output-channel scales "<path>.scale" [out].
    @discardableResult
    static func dequantize(_ file: SafetensorsFile, _ e: ParameterArena.Entry, into out: Tensor) throws -> (values: [Int8], scales: [Float]) {
        let rows = e.shape.first ?? 1, columns = e.count / max(rows, 1)
        guard let scaleTensor = file.tensors[e.path + ".scale"], scaleTensor.dtype == .f32, scaleTensor.shape == [rows] else {
            throw CohortError.invalid("\(file.source): int8 tensor '\(e.path)' needs F32 scales '\(e.path).scale' of shape [\(rows)]")
        }
        let values: [Int8] = try file.tensor(e.path).values()
        let scales: [Float] = try scaleTensor.values()
        guard scales.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw CohortError.invalid("\(file.source): '\(e.path).scale' holds a scale that is not a positive number")
        }
        Int8Quantization.dequantize(values, scales: scales, rows: rows, columns: columns, into: out.pointer)
        return (values, scales)
    }
}
