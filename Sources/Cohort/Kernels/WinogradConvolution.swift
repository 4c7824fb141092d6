import CWinograd

/// Cohort's own Winograd F(4x4, 3x3) convolution, for 3x3 stride-1 convolutions with the same
/// padding on every side, on every CPU (oneDNN 2.6 has Winograd on AVX-512 only). Each pass is a
/// transform of Sources/CWinograd (AVX2 or portable, chosen at run time), 36 `GEMM`s, and a
/// transform back: 36 multiply-adds per 4x4 output tile and channel pair instead of the direct
/// convolution's 144. The backward passes are the exact transposes of the forward's, so the
/// gradients are those of the function the forward computes.
///
/// Made once per shape, with every buffer (nothing allocated per step); the caller's tensors stay
/// NCHW and [out, in, 3, 3]. Gradients are added (+=) into the caller's, as every tape node does.
/// The forward keeps the transformed input (V) for the weight gradient, so `backward` needs the
/// forward of the same step before it.
public final class WinogradConvolution {
    public let batch: Int, geometry: ConvGeometry, outChannels: Int
    /// The transforms' path ("avx2", "portable").
    public let path: String
    private var shape: cohort_wino_shape
    private let cPath: cohort_wino_path
    private let tiles: Int
    private let xp: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>, u: UnsafeMutablePointer<Float>
    private let m: UnsafeMutablePointer<Float>
    /// M[xi] (P x kp) = V[xi] (P x cp) U[xi] (cp x kp).
    private let forwardProduct: GEMM
    /// dV[xi] (P x cp) = dM[xi] (P x kp) U[xi]^T, into V's buffer (after the weight gradient has read V).
    private var dataProduct: GEMM?
    /// dU[xi] (cp x kp) = V[xi]^T dM[xi], and its buffer.
    private var weightProduct: (product: GEMM, du: UnsafeMutablePointer<Float>)?

    /// Whether this convolution can run here: 3x3, stride 1, the same padding on both axes.
    public static func applies(_ g: ConvGeometry) -> Bool {
        g.kernelH == 3 && g.kernelW == 3 && g.strideH == 1 && g.strideW == 1 && g.padH == g.padW
    }

    /// Whether the cohort-winograd path runs this convolution on Winograd: where it applies and the
    /// input has at least 8 channels. The transforms work on blocks of 8 channels, so a first layer
    /// of 1 channel would transform and multiply 8: the cnn's first layer took 14.8-16.3 ms a step so,
    /// against 2.8-4.1 ms for sgemm at its direct rate (docs/benchmarks.md); such layers stay direct.
    public static func pays(_ g: ConvGeometry) -> Bool { applies(g) && g.channels >= 8 }

    /// The transforms' fastest path within COHORT_CPU ("avx2", "portable").
    public static var bestPath: String { String(cString: cohort_wino_path_name(cohort_wino_best_path())) }

    /// The transforms' fastest path within COHORT_CPU; `portable` forces the C loops (tests).
    public init(batch: Int, geometry g: ConvGeometry, outChannels: Int, portable: Bool = false) throws {
        let what = "winograd convolution [\(batch), \(g.channels), \(g.height), \(g.width)] -> [\(batch), \(outChannels), \(g.outH), \(g.outW)]"
        guard Self.applies(g) else {
            throw CohortError.shape(op: what, detail: "kernel \(g.kernelH)x\(g.kernelW), stride \(g.strideH)x\(g.strideW), padding \(g.padH)x\(g.padW): Winograd F(4x4, 3x3) needs 3x3, stride 1 and equal padding")
        }
        var s = cohort_wino_shape()
        guard cohort_wino_shape_make(Int32(batch), Int32(g.channels), Int32(g.height), Int32(g.width), Int32(g.padH), Int32(outChannels), &s) != 0 else {
            throw CohortError.shape(op: what, detail: "sizes must be positive")
        }
        self.batch = batch; geometry = g; self.outChannels = outChannels
        shape = s
        cPath = portable ? COHORT_WINO_PORTABLE : cohort_wino_best_path()
        path = String(cString: cohort_wino_path_name(cPath))
        tiles = batch * Int(s.tiles_h) * Int(s.tiles_w)
        func buffer(_ count: Int) -> UnsafeMutablePointer<Float> {
            let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 16) * 4, alignment: 64)
            return raw.initializeMemory(as: Float.self, repeating: 0, count: max(count, 16))
        }
        xp = buffer(cohort_wino_xp_count(&s)); v = buffer(cohort_wino_v_count(&s)); u = buffer(cohort_wino_u_count(&s))
        m = buffer(cohort_wino_m_count(&s))
        forwardProduct = try GEMM(m: tiles, n: Int(s.kp), k: Int(s.cp), accumulate: false, precision: .fp32)
    }

    deinit {
        for p in [xp, v, u, m] { UnsafeMutableRawPointer(p).deallocate() }
        if let du = weightProduct?.du { UnsafeMutableRawPointer(du).deallocate() }
    }

    private var cp: Int { Int(shape.cp) }
    private var kp: Int { Int(shape.kp) }

    /// y = conv(x, weight) + bias.
    public func forward(x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>) {
        cohort_wino_filter(&shape, weight, u, cPath)  // every forward: the weights change between steps
        cohort_wino_input(&shape, x, xp, v, cPath)
        let (vStride, uStride, mStride) = (tiles * cp, cp * kp, tiles * kp)
        for i in 0..<36 { forwardProduct.run(a: v + i * vStride, b: u + i * uStride, c: m + i * mStride) }
        cohort_wino_output(&shape, m, bias, y, cPath)
    }

    /// Makes the backward products this convolution needs (on its first backward).
    public func prepareBackward(data needsData: Bool, weights needsWeights: Bool) throws {
        if needsData && dataProduct == nil {
            dataProduct = try GEMM(m: tiles, n: cp, k: kp, transposeB: true, accumulate: false, precision: .fp32)
        }
        if needsWeights && weightProduct == nil {
            let count = Int(cohort_wino_u_count(&shape))
            let du = UnsafeMutableRawPointer.allocate(byteCount: count * 4, alignment: 64).initializeMemory(as: Float.self, repeating: 0, count: count)
            weightProduct = (try GEMM(m: cp, n: kp, k: tiles, transposeA: true, accumulate: false, precision: .fp32), du)
        }
    }

    /// Adds the gradients asked for (non-nil, and prepared) into the caller's, from dy and what
    /// this step's forward kept of x and the weight (their transforms: `x` and `weight` are not read).
    public func backward(x: UnsafePointer<Float>, weight: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                         dx: UnsafeMutablePointer<Float>?, dweight: UnsafeMutablePointer<Float>?, dbias: UnsafeMutablePointer<Float>?) {
        if let dbias {  // the sum of dy over images and pixels
            let pixels = geometry.outH * geometry.outW
            for b in 0..<batch {
                for o in 0..<outChannels { dbias[o] += AxisReduce.laneSum(dy + (b * outChannels + o) * pixels, pixels) }
            }
        }
        let weights = dweight.flatMap { dw in weightProduct.map { (dw, $0) } }
        let data = dx.flatMap { dx in dataProduct.map { (dx, $0) } }
        guard weights != nil || data != nil else { return }
        cohort_wino_output_grad(&shape, dy, m, cPath)  // m now holds dM
        let (vStride, uStride, mStride) = (tiles * cp, cp * kp, tiles * kp)
        if let (dw, (product, du)) = weights {
            for i in 0..<36 { product.run(a: v + i * vStride, b: m + i * mStride, c: du + i * uStride) }
            cohort_wino_filter_grad(&shape, du, dw, cPath)
        }
        if let (dx, product) = data {
            for i in 0..<36 { product.run(a: m + i * mStride, b: u + i * uStride, c: v + i * vStride) }  // V's buffer now holds dV
            cohort_wino_input_grad(&shape, v, xp, dx, cPath)
        }
    }
}
