import CDNNL

/// A 2-D convolution through oneDNN's fp32 convolution primitives: forward with the bias fused,
/// backward data, and backward weights with the bias gradient. Made once per shape (the backward
/// primitives on the first backward that needs them) and run every step on the caller's tensors,
/// which stay NCHW and [out, in, kh, kw] (PyTorch's layouts). Source, weights and destination are
/// given to oneDNN as `format_tag_any`, so it picks the layouts of its fastest implementation
/// (blocked ones such as nChw8c on AVX2); each operand goes through a `DNNLLayoutCopy`, so the
/// reorders and their buffers are made here once and a step allocates nothing.
/// Gradients are added (+=) into the caller's, as every tape node does. With `winograd`, each
/// primitive is oneDNN's Winograd F(4x4, 3x3) one where oneDNN has it (f32 3x3 stride 1 with
/// channels in blocks of 16, on AVX-512: 4x fewer multiplies), and the direct one elsewhere.
public final class DNNLConvolution {
    public let batch: Int, geometry: ConvGeometry, outChannels: Int, hasBias: Bool
    private let dnnl: DNNL
    private let what: String
    /// The caller's layouts, and the shapes with `format_tag_any` that every primitive is described with.
    private let plain: (src: dnnl_memory_desc_t, weights: dnnl_memory_desc_t, dst: dnnl_memory_desc_t)
    private let any: (src: dnnl_memory_desc_t, weights: dnnl_memory_desc_t, dst: dnnl_memory_desc_t, bias: dnnl_memory_desc_t)
    private let strides: [Int64], padLeft: [Int64], padRight: [Int64]
    private let forwardPrimitive: DNNLPrimitive
    /// Whether Winograd was asked for, and whether the forward runs it (the backward primitives then try it too).
    public let winogradRequested: Bool, usesWinograd: Bool
    private let x: DNNLLayoutCopy, w: DNNLLayoutCopy, y: DNNLLayoutCopy
    private var data: (primitive: DNNLPrimitive, dy: DNNLLayoutCopy, w: DNNLLayoutCopy, dx: DNNLLayoutCopy)?
    private var weights: (primitive: DNNLPrimitive, x: DNNLLayoutCopy, dy: DNNLLayoutCopy, dw: DNNLLayoutCopy)?
    /// One image's im2col columns [channels*kh*kw, outPixels], when the weight gradient is Cohort's
    /// im2col + sgemm instead of the primitive (see `prepareBackward`).
    private var columns: UnsafeMutablePointer<Float>?
    /// The bias gradient as oneDNN writes it (overwritten), added into the caller's.
    private let biasGradient: UnsafeMutablePointer<Float>?

    /// oneDNN's implementation of the forward convolution ("jit:avx2").
    public var implementation: String { forwardPrimitive.implementation }

    /// The right padding oneDNN needs for PyTorch's output size (floor division): it may be less
    /// than the left one, and is negative where the last rows of the input are never read.
    public static func rightPadding(_ g: ConvGeometry) -> (Int, Int) {
        ((g.outH - 1) * g.strideH + g.kernelH - g.height - g.padH, (g.outW - 1) * g.strideW + g.kernelW - g.width - g.padW)
    }

    /// `training`: the forward keeps what the backward primitives need (oneDNN's forward_training).
    public init(dnnl: DNNL, batch: Int, geometry g: ConvGeometry, outChannels: Int, bias: Bool, training: Bool, winograd: Bool = false) throws {
        self.dnnl = dnnl
        self.batch = batch; geometry = g; self.outChannels = outChannels; hasBias = bias
        what = "convolution [\(batch), \(g.channels), \(g.height), \(g.width)] -> [\(batch), \(outChannels), \(g.outH), \(g.outW)], "
            + "kernel \(g.kernelH)x\(g.kernelW), stride \(g.strideH), padding \(g.padH)"
        let right = Self.rightPadding(g)
        strides = [Int64(g.strideH), Int64(g.strideW)]
        padLeft = [Int64(g.padH), Int64(g.padW)]
        padRight = [Int64(right.0), Int64(right.1)]
        let srcDims = [batch, g.channels, g.height, g.width], weightDims = [outChannels, g.channels, g.kernelH, g.kernelW]
        let dstDims = [batch, outChannels, g.outH, g.outW]
        plain = (try Self.desc(srcDims, dnnl_nchw), try Self.desc(weightDims, dnnl_oihw), try Self.desc(dstDims, dnnl_nchw))
        any = (try Self.desc(srcDims, dnnl_format_tag_any), try Self.desc(weightDims, dnnl_format_tag_any),
               try Self.desc(dstDims, dnnl_format_tag_any), try Self.desc([outChannels], dnnl_x))
        let (any, what) = (any, what)
        let (strides, padLeft, padRight) = (strides, padLeft, padRight)
        winogradRequested = winograd
        (forwardPrimitive, usesWinograd) = try Self.made(winograd: winograd && Self.winogradPays(g, outChannels: outChannels)) { algorithm in
            var src = any.src, wei = any.weights, dst = any.dst, biasDesc = any.bias
            var desc = dnnl_convolution_desc_t()
            try withUnsafePointer(to: &biasDesc) { pb in
                try DNNL.check(dnnl_convolution_forward_desc_init(&desc, training ? dnnl_forward_training : dnnl_forward_inference, algorithm,
                                                                  &src, &wei, bias ? pb : nil, &dst, strides, padLeft, padRight),
                               "\(what): forward descriptor")
            }
            return try withUnsafePointer(to: &desc) {
                try DNNLPrimitive(dnnl: dnnl, descriptor: UnsafeRawPointer($0), what: what, arguments: bias ? [.src, .weights, .bias, .dst] : [.src, .weights, .dst])
            }
        }
        x = try DNNLLayoutCopy(dnnl: dnnl, plain: plain.src, layout: forwardPrimitive.layout(of: .src), toPlain: false, what: what)
        w = try DNNLLayoutCopy(dnnl: dnnl, plain: plain.weights, layout: forwardPrimitive.layout(of: .weights), toPlain: false, what: what)
        y = try DNNLLayoutCopy(dnnl: dnnl, plain: plain.dst, layout: forwardPrimitive.layout(of: .dst), toPlain: true, what: what)
        biasGradient = bias && training ? .allocate(capacity: outChannels) : nil
    }

    /// What computes the weight gradient: oneDNN's implementation ("jit:avx2"), or "im2col+sgemm"
    /// where oneDNN would fall back to its gemm convolution; nil before `prepareBackward`.
    public private(set) var weightGradientImplementation: String?

    deinit { biasGradient?.deallocate(); columns?.deallocate() }

    /// Where Winograd is worth trying: 3x3 stride 1 with whole blocks of 16 channels in and out.
    /// oneDNN would also take a 1-channel first layer, padded to 16 channels: 16 times the multiplies.
    public static func winogradPays(_ g: ConvGeometry, outChannels: Int) -> Bool {
        g.kernelH == 3 && g.kernelW == 3 && g.strideH == 1 && g.strideW == 1 && g.channels % 16 == 0 && outChannels % 16 == 0
    }

    /// The primitive `make` builds with Winograd where asked for and oneDNN has it for this shape
    /// and CPU (it refuses the rest, as unimplemented), else with the direct algorithm; and which it got.
    private static func made(winograd: Bool, _ make: (dnnl_alg_kind_t) throws -> DNNLPrimitive) throws -> (DNNLPrimitive, Bool) {
        if winograd, let p = try? make(dnnl_convolution_winograd) { return (p, true) }
        return (try make(dnnl_convolution_direct), false)
    }

    private static func desc(_ dims: [Int], _ tag: dnnl_format_tag_t) throws -> dnnl_memory_desc_t {
        var d = dnnl_memory_desc_t()
        try DNNL.check(dnnl_memory_desc_init_by_tag(&d, Int32(dims.count), dims.map(Int64.init), dnnl_f32, tag), "memory desc \(dims)")
        return d
    }

    /// y = conv(x, weight) + bias, every pointer to the caller's plain tensors.
    public func forward(x px: UnsafePointer<Float>, weight pw: UnsafePointer<Float>, bias pb: UnsafePointer<Float>?,
                        y py: UnsafeMutablePointer<Float>) {
        let p = forwardPrimitive
        p.bind(0, x.read(px))
        p.bind(1, w.read(pw))  // every forward: the weights change between steps, and gradient checks move them
        if hasBias, let pb { p.bind(2, pb) }
        p.bind(hasBias ? 3 : 2, y.target(py))
        p.execute()
        y.write(py)
    }

    /// Makes the backward primitives this convolution needs (on its first backward). `weights`
    /// covers the bias gradient too.
    public func prepareBackward(data needsData: Bool, weights needsWeights: Bool) throws {
        let what = what
        if needsData && data == nil {
            let p = try Self.made(winograd: usesWinograd) { algorithm in
                var dx = any.src, wei = any.weights, dy = any.dst
                var desc = dnnl_convolution_desc_t()
                try DNNL.check(dnnl_convolution_backward_data_desc_init(&desc, algorithm, &dx, &wei, &dy, strides, padLeft, padRight),
                               "\(what): backward data descriptor")
                return try withUnsafePointer(to: &desc) {
                    try DNNLPrimitive(dnnl: dnnl, descriptor: UnsafeRawPointer($0), hint: forwardPrimitive, what: "\(what) (backward data)",
                                      arguments: [.diffDst, .weights, .diffSrc])
                }
            }.0
            data = (p, try copy(of: p.layout(of: .diffDst), plain: plain.dst),
                    w.holds(p.layout(of: .weights)) ? w : try copy(of: p.layout(of: .weights), plain: plain.weights),
                    try DNNLLayoutCopy(dnnl: dnnl, plain: plain.src, layout: p.layout(of: .diffSrc), toPlain: true, accumulate: true, what: what))
        }
        if needsWeights && weights == nil && columns == nil {  // made once: the primitive, or the columns in its stead
            // The forward's source layout, not `any`: for a first layer of fewer than 8 channels
            // the forward reads plain NCHW, where `any` would pad the channels to a block of 8
            // and the weight gradient would do 8 times the work (7.7 ms against 1.1 for the forward
            // on the cnn's first convolution); elsewhere it is the blocked layout `any` picks.
            let p = try Self.made(winograd: usesWinograd) { algorithm in
                var src = x.layout
                var dw = any.weights, db = any.bias, dy = any.dst
                var desc = dnnl_convolution_desc_t()
                try withUnsafePointer(to: &db) { pb in
                    try DNNL.check(dnnl_convolution_backward_weights_desc_init(&desc, algorithm, &src, &dw, hasBias ? pb : nil, &dy,
                                                                               strides, padLeft, padRight),
                                   "\(what): backward weights descriptor")
                }
                return try withUnsafePointer(to: &desc) {
                    try DNNLPrimitive(dnnl: dnnl, descriptor: UnsafeRawPointer($0), hint: forwardPrimitive, what: "\(what) (backward weights)",
                                      arguments: hasBias ? [.src, .diffDst, .diffWeights, .diffBias] : [.src, .diffDst, .diffWeights])
                }
            }.0
            weightGradientImplementation = p.implementation
            if p.implementation.contains("gemm") {
                // oneDNN's gemm convolution (its im2col fallback, for a first layer of fewer than 8
                // channels) ran the cnn's first weight gradient at 5.4 GFLOP/s, 4.6 ms of a 46 ms
                // step on an AVX2 EPYC; im2col per image and one OpenBLAS sgemm each do it faster
                // (docs/benchmarks.md).
                columns = .allocate(capacity: geometry.channels * geometry.kernelH * geometry.kernelW * geometry.outPixels)
                weightGradientImplementation = "im2col+sgemm"
                return
            }
            let dyLayout = p.layout(of: .diffDst)
            weights = (p, x.holds(p.layout(of: .src)) ? x : try copy(of: p.layout(of: .src), plain: plain.src),
                       data.map { $0.dy.holds(dyLayout) } == true ? data!.dy : try copy(of: dyLayout, plain: plain.dst),
                       try DNNLLayoutCopy(dnnl: dnnl, plain: plain.weights, layout: p.layout(of: .diffWeights), toPlain: true, accumulate: true, what: what))
        }
    }

    private func copy(of layout: dnnl_memory_desc_t, plain: dnnl_memory_desc_t) throws -> DNNLLayoutCopy {
        try DNNLLayoutCopy(dnnl: dnnl, plain: plain, layout: layout, toPlain: false, what: what)
    }

    /// Adds the gradients asked for (non-nil, and prepared) into the caller's: dx from dy and the
    /// weights; dweight and dbias from dy and x, which must be the forward's input, unchanged.
    public func backward(x px: UnsafePointer<Float>, weight pw: UnsafePointer<Float>, dy pdy: UnsafePointer<Float>,
                         dx: UnsafeMutablePointer<Float>?, dweight: UnsafeMutablePointer<Float>?, dbias: UnsafeMutablePointer<Float>?) {
        var dyRead = false  // the data and weights primitives share one copy of dy where their layouts agree
        if let dx, let data {
            data.primitive.bind(0, data.dy.read(pdy))
            dyRead = true
            data.primitive.bind(1, data.w === w ? w.current! : data.w.read(pw))
            data.primitive.bind(2, data.dx.target(dx))
            data.primitive.execute()
            data.dx.write(dx)
        }
        guard dweight != nil || dbias != nil else { return }
        if let columns {
            weightGradientByIm2col(x: px, dy: pdy, columns: columns, dweight: dweight, dbias: dbias)
            return
        }
        guard let weights else { return }
        let p = weights.primitive
        p.bind(0, weights.x === x ? x.current! : weights.x.read(px))
        p.bind(1, dyRead && weights.dy === data?.dy ? weights.dy.current! : weights.dy.read(pdy))
        p.bind(2, weights.dw.target(dweight))  // written even when only dbias is wanted: then it stays in the copy's buffer
        if let biasGradient { p.bind(3, biasGradient) }
        p.execute()
        if let dweight { weights.dw.write(dweight) }
        if let dbias, let biasGradient {
            for o in 0..<outChannels { dbias[o] += biasGradient[o] }
        }
    }

    /// dweight [out, channels*kh*kw] += dy_b [out, outPixels] x columns_b^T, image by image, and
    /// dbias += dy summed over images and pixels.
    private func weightGradientByIm2col(x px: UnsafePointer<Float>, dy pdy: UnsafePointer<Float>, columns: UnsafeMutablePointer<Float>,
                                        dweight: UnsafeMutablePointer<Float>?, dbias: UnsafeMutablePointer<Float>?) {
        let g = geometry, P = g.outPixels, K = g.channels * g.kernelH * g.kernelW, O = outChannels
        let imageSize = g.channels * g.height * g.width
        for b in 0..<batch {
            let dyImage = pdy + b * O * P
            if let dweight {
                Im2col.forward(px + b * imageSize, g, cols: columns, ldc: P)
                BLAS.sgemm(transA: false, transB: true, m: O, n: K, k: P, a: dyImage, lda: P, b: columns, ldb: P, beta: 1, c: dweight, ldc: K)
            }
            if let dbias {
                for o in 0..<O { dbias[o] += AxisReduce.laneSum(dyImage + o * P, P) }
            }
        }
    }
}
