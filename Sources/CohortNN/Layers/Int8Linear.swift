import CInt8
import Cohort

/// A Linear layer's weight as int8, one float scale per output (`Int8Quantization`), packed for
/// the integer kernel with each output's weight sum. Inference multiplies uint8 activations
/// (quantised per batch) by it with 32-bit accumulation: AVX-512 VNNI where the CPU has it.
public final class Int8Weights {
    public let outFeatures: Int, inFeatures: Int
    public let scales: [Float]
    let packed: [Int8]
    let columnSums: [Int32]
    /// Chosen once per process from the CPU's features.
    public static let usesVNNI = cohort_int8_has_vnni() != 0

    /// `values` [out][in] and `scales` [out], as a quantised file stores them.
    public init(values: [Int8], scales: [Float], outFeatures: Int, inFeatures: Int) {
        precondition(values.count == outFeatures * inFeatures && scales.count == outFeatures, "int8 weight layout")
        self.outFeatures = outFeatures
        self.inFeatures = inFeatures
        self.scales = scales
        var packed = [Int8](repeating: 0, count: cohort_int8_packed_size(Int32(outFeatures), Int32(inFeatures)))
        var sums = [Int32](repeating: 0, count: outFeatures)
        packed.withUnsafeMutableBufferPointer { p in
            sums.withUnsafeMutableBufferPointer { cohort_int8_pack(values, Int32(outFeatures), Int32(inFeatures), p.baseAddress, $0.baseAddress) }
        }
        self.packed = packed
        columnSums = sums
    }
}

extension Linear {
    /// Inference in int8: quantise the batch, integer product, then per output
    /// y = (sum (q - zero point) w) * (input scale * weight scale) + bias, as ONNX's
    /// DynamicQuantizeLinear, MatMulInteger, Cast, Mul, Add compute it (`cohort export`).
    func int8Forward(_ x: Var, _ weights: Int8Weights, _ tape: Tape) -> Var {
        let batch = x.shape[0]
        let n = tape.node(Int8LinearNode.self, reusable: { $0.batch == batch && $0.layer === self }) {
            Int8LinearNode(layer: self, weights: weights, batch: batch)
        }
        n.x = x
        n.forward()
        return n.output
    }
}

/// The buffers of one int8 product (kept by the tape from batch to batch).
final class Int8LinearNode: TapeNode {
    unowned let layer: Linear
    let weights: Int8Weights
    let batch: Int
    var x: Var
    let output: Var
    /// Quantised inputs, rows padded to a multiple of 4 bytes with zeros.
    private var quantized: [UInt8]
    private var accumulators: [Int32]
    private let stride: Int

    init(layer: Linear, weights: Int8Weights, batch: Int) {
        self.layer = layer
        self.weights = weights
        self.batch = batch
        x = Var(Tensor(zeros: [0]))
        output = Var(output: [batch, weights.outFeatures], requiresGrad: false)
        stride = (weights.inFeatures + 3) / 4 * 4
        quantized = [UInt8](repeating: 0, count: batch * stride)
        accumulators = [Int32](repeating: 0, count: batch * weights.outFeatures)
    }

    func forward() {
        let (k, nOut) = (weights.inFeatures, weights.outFeatures)
        var scale: Float = 0, zero: UInt8 = 0
        quantized.withUnsafeMutableBufferPointer { q in
            cohort_int8_quantize_u8(x.value.pointer, batch * k, batch, stride, q.baseAddress, &scale, &zero, Int8Weights.usesVNNI ? 1 : 0)
        }
        quantized.withUnsafeBufferPointer { q in
            weights.packed.withUnsafeBufferPointer { w in
                accumulators.withUnsafeMutableBufferPointer { c in
                    cohort_int8_gemm(q.baseAddress, Int32(batch), Int32(k), stride, w.baseAddress, Int32(nOut), c.baseAddress, nOut,
                                     Int8Weights.usesVNNI ? 1 : 0)
                }
            }
        }
        accumulators.withUnsafeBufferPointer { c in
            weights.columnSums.withUnsafeBufferPointer { sums in
                weights.scales.withUnsafeBufferPointer { ws in
                    cohort_int8_dequantize(c.baseAddress, Int32(batch), Int32(nOut), sums.baseAddress, zero, scale, ws.baseAddress,
                                           layer.bias?.value.pointer, output.value.pointer)
                }
            }
        }
    }

    func backward() {}
}
