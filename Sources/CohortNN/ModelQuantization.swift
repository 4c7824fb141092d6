import Cohort

/// A layer whose weight [out, ...] can be int8 for inference: its products are then integer
/// products on quantised activations (Int8Linear.swift, Int8Conv2d.swift).
public protocol Int8Capable: AnyObject {
    var weight: Parameter { get }
    var int8: Int8Weights? { get set }
}

extension Linear: Int8Capable {}
extension Conv2d: Int8Capable {}

extension Model {
    /// Quantises every Linear and Conv2d weight to int8, symmetric with one scale per output
    /// channel (`Int8Quantization`, as int8 model files store them): inference then computes those
    /// layers with integer products (`Int8Weights`), and the parameter arena holds q * scale, so a
    /// model read back from its int8 file is this model.
    public func quantizeInt8Layers() {
        for layer in Self.int8Layers(network) {
            let shape = layer.weight.shape
            let (out, inputs) = (shape[0], layer.weight.value.count / shape[0])
            let w = layer.weight.value.pointer
            let (q, scales) = Int8Quantization.quantize(w, rows: out, columns: inputs)
            Int8Quantization.dequantize(q, scales: scales, rows: out, columns: inputs, into: w)
            layer.int8 = Int8Weights(values: q, scales: scales, outFeatures: out, inFeatures: inputs)
        }
    }
}
