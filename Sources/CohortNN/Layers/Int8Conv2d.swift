import CInt8
import Cohort

extension Conv2d {
    /// Inference in int8: each image quantised to uint8 by its own range (as an int8 Linear layer
    /// quantises each row, so a prediction does not depend on its batch), the exact integer sums
    /// over the kernel with the int8 weights [out, C*kh*kw], the zero point over the padding (the
    /// quantised 0), then per output y = (sum q w - zero point x sum w) * (image scale * weight
    /// scale) + bias. The ONNX export computes the same with Pad,
    /// the per-image quantisation, ConvInteger, Sub, Cast, Mul and Add (`cohort export`).
    /// `epilogue`: the ReLU (and 2x2 max pooling) that follow the layer, applied in the same pass
    /// over each image's products (`fusedInt8Forward`), with the separate layers' results.
    func int8Forward(_ x: Var, _ weights: Int8Weights, _ tape: Tape, epilogue: cohort_int8_epilogue = COHORT_INT8_EPILOGUE_NONE) throws -> Var {
        let g = try geometry(x.shape)
        let backend = Int8Weights.backend(batch: g.outPixels, inFeatures: weights.inFeatures, outFeatures: weights.outFeatures)
        let n = try tape.node(Int8Conv2dNode.self, reusable: {
            $0.layer === self && $0.weights === weights && $0.xShape == x.shape && $0.wanted == backend && $0.epilogue == epilogue
        }) {
            try Int8Conv2dNode(layer: self, weights: weights, xShape: x.shape, geometry: g, backend: backend, epilogue: epilogue)
        }
        n.x = x
        n.forward()
        return n.output
    }

    /// An int8 convolution at the head of `layers` with the ReLU, or ReLU and 2x2 stride-2 max
    /// pooling, right after it run as one layer (inference only): the output and how many layers
    /// it stands for; nil where `layers` does not start with an int8 convolution.
    static func fusedInt8Forward(_ layers: ArraySlice<Layer>, _ x: Var, _ ctx: ForwardContext) throws -> (Var, layers: Int)? {
        guard let conv = layers.first as? Conv2d, let weights = conv.int8, !ctx.tape.isRecording else { return nil }
        let rest = layers.dropFirst()
        guard let relu = rest.first as? Activation, relu.kind == .relu else { return (try conv.int8Forward(x, weights, ctx.tape), 1) }
        if let pool = rest.dropFirst().first as? Pool2d, pool.kind == .max, pool.window == (2, 2), pool.stride == (2, 2),
           try conv.outputShape(for: x.shape)[2...].allSatisfy({ $0 >= 2 }) {
            return (try conv.int8Forward(x, weights, ctx.tape, epilogue: COHORT_INT8_EPILOGUE_RELU_MAXPOOL2), 3)
        }
        return (try conv.int8Forward(x, weights, ctx.tape, epilogue: COHORT_INT8_EPILOGUE_RELU), 2)
    }
}

/// The buffers of one int8 convolution (kept by the tape from batch to batch), allocated once.
/// Image by image, so an image's patches and products stay in cache between their making and
/// their epilogue. The integer sums come from Cohort's kernel on the image's patch rows
/// (`cohort_int8_im2row`, `cohort_int8_gemm`) or from oneDNN's int8 convolution on the image in
/// nhwc with its padding (`DNNLInt8Convolution`), the same int32s either way.
final class Int8Conv2dNode: TapeNode {
    unowned let layer: Conv2d
    let weights: Int8Weights
    let xShape: [Int]
    let g: ConvGeometry
    /// The backend asked for, and the one used.
    let wanted: Int8Backend, backend: Int8Backend
    let epilogue: cohort_int8_epilogue
    var x: Var
    let output: Var
    /// The batch's images as uint8, each padded to a multiple of 4 bytes, with each image's scale and zero point.
    private let quantized: UnsafeMutablePointer<UInt8>
    private let imageScales: UnsafeMutablePointer<Float>, imageZeros: UnsafeMutablePointer<UInt8>
    private let imageStride: Int
    /// One image's patch rows [outPixels][rowStride] (Cohort's kernel) or the image padded in nhwc
    /// (oneDNN's), and its products [outPixels][out].
    private let patches: UnsafeMutablePointer<UInt8>
    private let rowStride: Int
    private let accumulators: UnsafeMutablePointer<Int32>
    /// The epilogue's floats [outPixels][out], before they go to the image's planes.
    private let scratch: UnsafeMutablePointer<Float>
    /// Output pixels per plane after the epilogue (fewer with pooling).
    private let planePixels: Int
    /// oneDNN's convolution of one padded image, for the oneDNN backend.
    private let convolution: DNNLInt8Convolution?

    init(layer: Conv2d, weights: Int8Weights, xShape: [Int], geometry: ConvGeometry, backend: Int8Backend,
         epilogue: cohort_int8_epilogue) throws {
        precondition(weights.inFeatures == geometry.patchSize && weights.outFeatures == layer.outChannels, "int8 convolution weight layout")
        self.layer = layer
        self.weights = weights
        self.xShape = xShape
        g = geometry
        wanted = backend
        self.epilogue = epilogue
        let P = geometry.outPixels, batch = xShape[0]
        let (paddedH, paddedW) = (geometry.height + 2 * geometry.padH, geometry.width + 2 * geometry.padW)
        if backend == .oneDNN, let dnnl = DNNL.shared, Int8Weights.oneDNNAvailable {
            convolution = try weights.values.withUnsafeBufferPointer {
                try DNNLInt8Convolution(dnnl: dnnl, batch: 1, channels: geometry.channels, height: paddedH, width: paddedW,
                                        outChannels: layer.outChannels, kernel: (geometry.kernelH, geometry.kernelW),
                                        stride: (geometry.strideH, geometry.strideW), weights: $0.baseAddress!)
            }
            self.backend = .oneDNN
        } else {
            convolution = nil
            self.backend = .cohort
        }
        x = Var(Tensor(zeros: [0]))
        let (outH, outW) = epilogue == COHORT_INT8_EPILOGUE_RELU_MAXPOOL2
            ? ((geometry.outH - 2) / 2 + 1, (geometry.outW - 2) / 2 + 1) : (geometry.outH, geometry.outW)
        planePixels = outH * outW
        output = Var(output: [batch, layer.outChannels, outH, outW], requiresGrad: false)
        let image = geometry.channels * geometry.height * geometry.width
        imageStride = (image + 3) / 4 * 4
        let slack = Int(COHORT_INT8_CONV_SLACK)
        quantized = .allocate(capacity: batch * imageStride + slack)
        quantized.initialize(repeating: 0, count: batch * imageStride + slack)
        imageScales = .allocate(capacity: max(batch, 1))
        imageZeros = .allocate(capacity: max(batch, 1))
        rowStride = (geometry.patchSize + 3) / 4 * 4
        patches = .allocate(capacity: max(P * rowStride, paddedH * paddedW * geometry.channels) + slack)
        accumulators = .allocate(capacity: P * layer.outChannels)
        scratch = .allocate(capacity: P * layer.outChannels)
    }

    deinit {
        quantized.deallocate(); imageScales.deallocate(); imageZeros.deallocate()
        patches.deallocate(); accumulators.deallocate(); scratch.deallocate()
    }

    var batch: Int { xShape[0] }

    func forward() {
        let (k, nOut, path, P) = (weights.inFeatures, weights.outFeatures, weights.path, g.outPixels)
        let image = g.channels * g.height * g.width
        cohort_int8_quantize_rows(x.value.pointer, batch, image, image, quantized, imageStride, imageScales, imageZeros, path)
        let y = output.value.pointer, bias = layer.bias?.value.pointer
        let (C, H, W) = (Int32(g.channels), Int32(g.height), Int32(g.width))
        weights.packed.withUnsafeBufferPointer { w in
            weights.columnSums.withUnsafeBufferPointer { sums in
                weights.scales.withUnsafeBufferPointer { ws in
                    for b in 0..<batch {
                        let q = quantized + b * imageStride
                        if let convolution {
                            cohort_int8_pad_nhwc(q, C, H, W, Int32(g.padH), Int32(g.padW), imageZeros[b], patches)
                            convolution.run(src: patches, dst: accumulators)
                        } else {
                            cohort_int8_im2row(q, C, H, W, Int32(g.kernelH), Int32(g.kernelW), Int32(g.strideH), Int32(g.strideW),
                                               Int32(g.padH), Int32(g.padW), imageZeros[b], patches, rowStride)
                            cohort_int8_gemm(patches, Int32(P), Int32(k), rowStride, w.baseAddress, Int32(nOut), accumulators, nOut, path)
                        }
                        cohort_int8_conv_epilogue(accumulators, Int32(g.outH), Int32(g.outW), Int32(nOut), sums.baseAddress, imageZeros[b],
                                                  imageScales[b], ws.baseAddress, bias, epilogue, scratch, y + b * nOut * planePixels, path)
                    }
                }
            }
        }
    }

    func backward() {}
}

extension Int8Weights {
    /// What computes int8 convolutions now, for reports (the choice per image's product, as `backend` makes it).
    public static var convolutionDescription: String {
        backendDescription(own: "Cohort's kernel on patch rows", theirs: "oneDNN's int8 convolution", per: "images")
            + "; a ReLU and 2x2 max pooling right after one run in its epilogue"
    }
}
