import CDNNL

/// One oneDNN u8 x s8 -> s32 convolution of fixed shape, made once and run on the caller's buffers:
/// the integer sums of `cohort_int8_gemm` over an int8 convolution's patches, without laying the
/// patches out as rows (no zero point, no scale: the caller applies them). The images come already
/// padded (nhwc, [batch][height][width][channels] bytes, the padding holding each image's zero
/// point, which oneDNN's own zero padding could not), so oneDNN pads nothing; the result is nhwc,
/// [batch][outH][outW][outChannels] int32, i.e. each image's [pixels][outputs] as
/// `cohort_int8_conv_epilogue` reads it. Exact only where oneDNN multiplies with VNNI
/// (`DNNLInt8Matmul.isExact`), like the int8 matmul.
public final class DNNLInt8Convolution {
    public let batch: Int, channels: Int, height: Int, width: Int, outChannels: Int
    public let outH: Int, outW: Int
    /// oneDNN's implementation name ("brg:avx512_core_vnni", "jit_int8:avx512_core_vnni").
    public var implementation: String { primitive.implementation }
    private let primitive: DNNLPrimitive
    /// The weights in the primitive's layout, reordered once from [out][channels][kh][kw].
    private let weights: DNNLLayoutCopy
    private let weightData: UnsafeRawPointer
    /// The caller's weights, copied (the primitive reads them in place where its layout is oihw).
    private let plainValues: UnsafeMutablePointer<Int8>

    /// `height` x `width`: the padded image's size; `weights` [outChannels][channels][kernel.0][kernel.1].
    public init(dnnl: DNNL, batch: Int, channels: Int, height: Int, width: Int, outChannels: Int, kernel: (Int, Int),
                stride: (Int, Int), weights values: UnsafePointer<Int8>) throws {
        precondition(batch > 0 && channels > 0 && outChannels > 0 && height >= kernel.0 && width >= kernel.1, "DNNLInt8Convolution: empty shape")
        self.batch = batch; self.channels = channels; self.height = height; self.width = width; self.outChannels = outChannels
        outH = (height - kernel.0) / stride.0 + 1
        outW = (width - kernel.1) / stride.1 + 1
        let what = "int8 convolution [\(batch), \(channels), \(height), \(width)] -> [\(batch), \(outChannels), \(outH), \(outW)], "
            + "kernel \(kernel.0)x\(kernel.1), stride \(stride.0)"
        func desc(_ dims: [Int], _ type: dnnl_data_type_t, _ tag: dnnl_format_tag_t) throws -> dnnl_memory_desc_t {
            var d = dnnl_memory_desc_t()
            try DNNL.check(dnnl_memory_desc_init_by_tag(&d, Int32(dims.count), dims.map(Int64.init), type, tag), "\(what): memory desc \(dims)")
            return d
        }
        var src = try desc([batch, channels, height, width], dnnl_u8, dnnl_nhwc)
        var dst = try desc([batch, outChannels, outH, outW], dnnl_s32, dnnl_nhwc)
        var anyWeights = try desc([outChannels, channels, kernel.0, kernel.1], dnnl_s8, dnnl_format_tag_any)
        let plainWeights = try desc([outChannels, channels, kernel.0, kernel.1], dnnl_s8, dnnl_oihw)
        // No padding on the left; on the right, what the last window leaves unread (zero or less).
        let padRight = [Int64((outH - 1) * stride.0 + kernel.0 - height), Int64((outW - 1) * stride.1 + kernel.1 - width)]
        var conv = dnnl_convolution_desc_t()
        try DNNL.check(dnnl_convolution_forward_desc_init(&conv, dnnl_forward_inference, dnnl_convolution_direct, &src, &anyWeights, nil, &dst,
                                                          [Int64(stride.0), Int64(stride.1)], [0, 0], padRight),
                       "\(what): forward descriptor")
        primitive = try withUnsafePointer(to: &conv) { try DNNLPrimitive(dnnl: dnnl, descriptor: UnsafeRawPointer($0), what: what) }
        weights = try DNNLLayoutCopy(dnnl: dnnl, plain: plainWeights, layout: primitive.layout(of: .weights), toPlain: false, what: what)
        let count = outChannels * channels * kernel.0 * kernel.1
        plainValues = .allocate(capacity: count)
        plainValues.initialize(from: values, count: count)
        weightData = weights.read(plainValues)
    }

    deinit { plainValues.deallocate() }

    /// `src` [batch][height][width][channels] bytes (padded as the caller wants), `dst` [batch][outH][outW][outChannels].
    public func run(src: UnsafePointer<UInt8>, dst: UnsafeMutablePointer<Int32>) {
        primitive.execute(src: src, weights: weightData, dst: dst)
    }
}
