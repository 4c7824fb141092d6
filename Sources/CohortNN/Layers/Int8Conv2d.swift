import CInt8
import Cohort

extension Conv2d {
    /// Inference in int8: each image quantised to uint8 by its own range (as an int8 Linear layer
    /// quantises each row, so a prediction does not depend on its batch), its patches laid out as
    /// rows with the zero point over the padding (the quantised 0), one exact integer product with
    /// the int8 weights [out, C*kh*kw], then per output y = (sum q w - zero point x sum w) *
    /// (image scale * weight scale) + bias. The ONNX export computes the same with Pad,
    /// the per-image quantisation, ConvInteger, Sub, Cast, Mul and Add (`cohort export`).
    func int8Forward(_ x: Var, _ weights: Int8Weights, _ tape: Tape) throws -> Var {
        let g = try geometry(x.shape)
        let backend = Int8Weights.backend(batch: g.outPixels, inFeatures: weights.inFeatures, outFeatures: weights.outFeatures)
        let n = try tape.node(Int8Conv2dNode.self, reusable: {
            $0.layer === self && $0.weights === weights && $0.xShape == x.shape && $0.wanted == backend
        }) {
            try Int8Conv2dNode(layer: self, weights: weights, xShape: x.shape, geometry: g, backend: backend)
        }
        n.x = x
        n.forward()
        return n.output
    }
}

/// The buffers of one int8 convolution (kept by the tape from batch to batch), allocated once.
/// Image by image, so the patch rows of one image stay in cache between their layout and their product.
final class Int8Conv2dNode: TapeNode {
    unowned let layer: Conv2d
    let weights: Int8Weights
    let xShape: [Int]
    let g: ConvGeometry
    /// The backend asked for, and the one used.
    let wanted: Int8Backend, backend: Int8Backend
    var x: Var
    let output: Var
    /// The batch's images as uint8, each padded to a multiple of 4 bytes, with each image's scale and zero point.
    private let quantized: UnsafeMutablePointer<UInt8>
    private let imageScales: UnsafeMutablePointer<Float>, imageZeros: UnsafeMutablePointer<UInt8>
    private let imageStride: Int
    /// One image's patch rows [outPixels][rowStride] and their products [outPixels][out].
    private let rows: UnsafeMutablePointer<UInt8>
    private let rowStride: Int
    private let accumulators: UnsafeMutablePointer<Int32>
    /// oneDNN: the product of one image's rows by the weights in its layout.
    private let product: DNNLInt8Matmul?
    private let productWeights: UnsafeRawPointer?

    init(layer: Conv2d, weights: Int8Weights, xShape: [Int], geometry: ConvGeometry, backend: Int8Backend) throws {
        precondition(weights.inFeatures == geometry.patchSize && weights.outFeatures == layer.outChannels, "int8 convolution weight layout")
        self.layer = layer
        self.weights = weights
        self.xShape = xShape
        g = geometry
        wanted = backend
        let P = geometry.outPixels, batch = xShape[0]
        if backend == .oneDNN, let dnnl = DNNL.shared, let w = weights.dnnl {
            let p = try DNNLInt8Matmul(dnnl: dnnl, m: P, n: weights.outFeatures, k: weights.inFeatures)
            product = p
            productWeights = try p.prepare(w)
            self.backend = .oneDNN
        } else {
            product = nil
            productWeights = nil
            self.backend = .cohort
        }
        x = Var(Tensor(zeros: [0]))
        output = Var(output: [batch, layer.outChannels, geometry.outH, geometry.outW], requiresGrad: false)
        let image = geometry.channels * geometry.height * geometry.width
        imageStride = (image + 3) / 4 * 4
        let slack = Int(COHORT_INT8_CONV_SLACK)
        quantized = .allocate(capacity: batch * imageStride + slack)
        quantized.initialize(repeating: 0, count: batch * imageStride + slack)
        imageScales = .allocate(capacity: max(batch, 1))
        imageZeros = .allocate(capacity: max(batch, 1))
        rowStride = (geometry.patchSize + 3) / 4 * 4
        rows = .allocate(capacity: P * rowStride + slack)
        accumulators = .allocate(capacity: P * layer.outChannels)
    }

    deinit {
        quantized.deallocate(); imageScales.deallocate(); imageZeros.deallocate()
        rows.deallocate(); accumulators.deallocate()
    }

    var batch: Int { xShape[0] }

    func forward() {
        let (k, nOut, path, P) = (weights.inFeatures, weights.outFeatures, weights.path, g.outPixels)
        let image = g.channels * g.height * g.width
        cohort_int8_quantize_rows(x.value.pointer, batch, image, image, quantized, imageStride, imageScales, imageZeros, path)
        let y = output.value.pointer, bias = layer.bias?.value.pointer
        weights.packed.withUnsafeBufferPointer { w in
            weights.columnSums.withUnsafeBufferPointer { sums in
                weights.scales.withUnsafeBufferPointer { ws in
                    for b in 0..<batch {
                        cohort_int8_im2row(quantized + b * imageStride, Int32(g.channels), Int32(g.height), Int32(g.width),
                                           Int32(g.kernelH), Int32(g.kernelW), Int32(g.strideH), Int32(g.strideW),
                                           Int32(g.padH), Int32(g.padW), imageZeros[b], rows, rowStride)
                        if let product, let productWeights {
                            product.run(a: rows, weights: productWeights, c: accumulators)
                        } else {
                            cohort_int8_gemm(rows, Int32(P), Int32(k), rowStride, w.baseAddress, Int32(nOut), accumulators, nOut, path)
                        }
                        cohort_int8_dequantize_image(accumulators, Int32(P), Int32(nOut), sums.baseAddress, imageZeros[b], imageScales[b],
                                                     ws.baseAddress, bias, y + b * nOut * P)
                    }
                }
            }
        }
    }

    func backward() {}
}
