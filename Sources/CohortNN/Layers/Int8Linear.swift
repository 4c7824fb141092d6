import CInt8
import Cohort
import Foundation

/// Which kernel multiplies an int8 Linear layer's uint8 activations by its int8 weights. Both give
/// the same int32 accumulators (`DNNLInt8MatmulTests`), so the choice changes speed only.
public enum Int8Backend: String, CaseIterable, Sendable {
    /// `cohort_int8_gemm` (Sources/CInt8) on the fastest path the CPU allows (`Int8Weights.path`:
    /// AVX-512 VNNI, AVX-VNNI, AVX2, dot product, NEON, or the portable loop); one thread.
    case cohort
    /// oneDNN's u8 x s8 -> s32 matmul (`DNNLInt8Matmul`), on oneDNN's (OpenMP's) threads.
    case oneDNN = "onednn"
}

/// A Linear layer's weight as int8, one float scale per output (`Int8Quantization`), packed for
/// the integer kernel's path with each output's weight sum (and kept for oneDNN, which reorders it
/// into its own layout once per layer). Inference multiplies uint8 activations (each row quantised
/// by its own range, so a sample's output does not depend on its batch) by it with exact 32-bit
/// accumulation, by the kernel `Int8Weights.backend(batch:inFeatures:outFeatures:)` names.
public final class Int8Weights {
    public let outFeatures: Int, inFeatures: Int
    public let scales: [Float]
    /// The kernel path `packed` is laid out for (and that multiplies with it).
    public let path: cohort_int8_path
    let packed: [Int8]
    let columnSums: [Int32]
    /// The values [out][in] as the file stores them (oneDNN's int8 convolution reorders them itself).
    let values: [Int8]
    /// The weights for oneDNN; nil where oneDNN's int8 products are unavailable or inexact.
    let dnnl: DNNLInt8Weights?
    /// The fastest path of Cohort's kernel on this CPU within the COHORT_CPU cap, chosen once.
    public static let defaultPath = cohort_int8_best_path()
    /// Every path the kernels have, on any CPU.
    public static let allPaths = (0..<COHORT_INT8_PATH_COUNT.rawValue).map { cohort_int8_path(rawValue: $0) }
    /// Every path this CPU can run (tests compare each with the portable one).
    public static var availablePaths: [cohort_int8_path] { allPaths.filter { cohort_int8_path_available($0) != 0 } }
    public static func name(of path: cohort_int8_path) -> String { String(cString: cohort_int8_path_name(path)) }
    /// What Cohort's own kernel runs on here, for reports.
    public static var cohortKernelName: String { name(of: defaultPath) }

    /// The default per product shape, from `cohort bench int8 --rounds 7 --batches
    /// 1,16,32,64,128,256 --threads 1` on an AVX-512 VNNI Xeon (twice, whole int8 layers, oneDNN /
    /// Cohort as that build printed it, idle machine):
    /// oneDNN pays about a microsecond per call, so Cohort's kernel wins small products (784->100
    /// at batch 1: 0.79-0.80; 100->10 at batch 1-64: 0.41-0.80; 512->10 at batch 1-16: 0.43-0.91),
    /// oneDNN large ones (784->512 and 512->512 from batch 1: 0.98-1.39, mostly above 1.05; 784->100
    /// from batch 64 and 512->10 from 64: 1.05-1.26). Products of batch x in x out multiply-adds
    /// from `oneDNNMinimumProduct` on go to oneDNN; the cells near it were ties (0.94-1.10).
    public static func measuredBackend(batch: Int, inFeatures: Int, outFeatures: Int) -> Int8Backend {
        batch * inFeatures * outFeatures >= oneDNNMinimumProduct ? .oneDNN : .cohort
    }
    /// A power of two: `kernelDescription` prints its exponent.
    public static let oneDNNMinimumProduct = 1 << 18

    /// COHORT_INT8_BACKEND=cohort|onednn, read once; another value stops the process with a message.
    public static let environmentBackend: Int8Backend? = {
        guard let value = ProcessInfo.processInfo.environment["COHORT_INT8_BACKEND"], !value.isEmpty else { return nil }
        guard let backend = Int8Backend(rawValue: value) else {
            fatalError("COHORT_INT8_BACKEND must be one of \(Int8Backend.allCases.map(\.rawValue)), got \(value)")
        }
        return backend
    }()

    /// Overrides the environment and the measured default for int8 layers run afterwards (`cohort bench int8`).
    nonisolated(unsafe) public static var backendOverride: Int8Backend?

    /// One backend for every shape, when the override or COHORT_INT8_BACKEND asks for it; nil for
    /// the measured choice per shape.
    public static var fixedBackend: Int8Backend? { backendOverride ?? environmentBackend }

    /// Whether oneDNN can compute int8 products here with the results of Cohort's kernel: an
    /// engine, and VNNI in the instruction set oneDNN uses.
    public static var oneDNNAvailable: Bool { DNNL.shared != nil && DNNLInt8Matmul.isExact }

    /// The kernel an int8 product of `batch` rows by `inFeatures` into `outFeatures` uses now: the
    /// fixed backend if one is asked for, else the measured choice for the shape; Cohort's own
    /// wherever oneDNN is unavailable (`oneDNNAvailable`).
    public static func backend(batch: Int, inFeatures: Int, outFeatures: Int) -> Int8Backend {
        let wanted = fixedBackend ?? measuredBackend(batch: batch, inFeatures: inFeatures, outFeatures: outFeatures)
        return wanted == .oneDNN && !oneDNNAvailable ? .cohort : wanted
    }

    /// What computes int8 products now, for reports.
    public static var kernelDescription: String {
        backendDescription(own: cohortKernelName, theirs: "oneDNN \(DNNL.isa)", per: "products")
    }

    /// Which of `own` and `theirs` computes now, as `backend` chooses per product (`per`: what a
    /// product is, "products" or "images"), for reports.
    static func backendDescription(own: String, theirs: String, per: String) -> String {
        switch fixedBackend {
        case .oneDNN? where oneDNNAvailable: return theirs
        case .oneDNN?, .cohort?: return own
        case nil where !oneDNNAvailable: return own
        case nil: return "\(theirs) for \(per) of 2^\(oneDNNMinimumProduct.trailingZeroBitCount)+ multiply-adds, else \(own)"
        }
    }

    /// `values` [out][in] and `scales` [out], as a quantised file stores them, packed for `path`
    /// (one this CPU can run).
    public init(values: [Int8], scales: [Float], outFeatures: Int, inFeatures: Int, path: cohort_int8_path = Int8Weights.defaultPath) {
        precondition(values.count == outFeatures * inFeatures && scales.count == outFeatures, "int8 weight layout")
        precondition(cohort_int8_path_available(path) != 0, "int8 path \(Int8Weights.name(of: path)) is not available on this CPU")
        self.outFeatures = outFeatures
        self.inFeatures = inFeatures
        self.scales = scales
        self.path = path
        var packed = [Int8](repeating: 0, count: cohort_int8_packed_size(Int32(outFeatures), Int32(inFeatures), path))
        var sums = [Int32](repeating: 0, count: outFeatures)
        packed.withUnsafeMutableBufferPointer { p in
            sums.withUnsafeMutableBufferPointer { cohort_int8_pack(values, Int32(outFeatures), Int32(inFeatures), p.baseAddress, $0.baseAddress, path) }
        }
        self.packed = packed
        columnSums = sums
        self.values = values
        dnnl = Int8Weights.oneDNNAvailable ? values.withUnsafeBufferPointer {
            DNNLInt8Weights(values: $0.baseAddress!, n: outFeatures, k: inFeatures)
        } : nil
    }
}

extension Linear {
    /// Inference in int8: quantise each row by its range, integer product, then per output
    /// y = (sum q w - zero point x sum w) * (row scale * weight scale) + bias, as the exported
    /// graph's per-row quantisation, MatMulInteger, Sub, Cast, Mul and Add compute it (`cohort export`).
    func int8Forward(_ x: Var, _ weights: Int8Weights, _ tape: Tape) throws -> Var {
        let batch = x.shape[0], backend = Int8Weights.backend(batch: batch, inFeatures: weights.inFeatures,
                                                                     outFeatures: weights.outFeatures)
        let n = try tape.node(Int8LinearNode.self, reusable: { $0.batch == batch && $0.layer === self && $0.wanted == backend }) {
            try Int8LinearNode(layer: self, weights: weights, batch: batch, backend: backend)
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
    /// The backend asked for, and the one used (Cohort's for an empty batch).
    let wanted: Int8Backend, backend: Int8Backend
    var x: Var
    let output: Var
    /// Quantised inputs, rows padded to a multiple of 4 bytes with zeros, and each row's scale and zero point.
    private var quantized: [UInt8]
    private var rowScales: [Float]
    private var rowZeros: [UInt8]
    private var accumulators: [Int32]
    private let stride: Int
    /// oneDNN: the product of this batch's shape and the weights in its layout.
    private let product: DNNLInt8Matmul?
    private let productWeights: UnsafeRawPointer?

    init(layer: Linear, weights: Int8Weights, batch: Int, backend: Int8Backend) throws {
        self.layer = layer
        self.weights = weights
        self.batch = batch
        wanted = backend
        if backend == .oneDNN, batch > 0, let dnnl = DNNL.shared, let w = weights.dnnl {
            let p = try DNNLInt8Matmul(dnnl: dnnl, m: batch, n: weights.outFeatures, k: weights.inFeatures)
            product = p
            productWeights = try p.prepare(w)
            self.backend = .oneDNN
        } else {
            product = nil
            productWeights = nil
            self.backend = .cohort
        }
        x = Var(Tensor(zeros: [0]))
        output = Var(output: [batch, weights.outFeatures], requiresGrad: false)
        stride = (weights.inFeatures + 3) / 4 * 4
        quantized = [UInt8](repeating: 0, count: batch * stride)
        rowScales = [Float](repeating: 1, count: batch)
        rowZeros = [UInt8](repeating: 0, count: batch)
        accumulators = [Int32](repeating: 0, count: batch * weights.outFeatures)
    }

    func forward() {
        let (k, nOut, path) = (weights.inFeatures, weights.outFeatures, weights.path)
        quantized.withUnsafeMutableBufferPointer { q in
            rowScales.withUnsafeMutableBufferPointer { s in
                rowZeros.withUnsafeMutableBufferPointer { z in
                    cohort_int8_quantize_rows(x.value.pointer, batch, k, k, q.baseAddress, stride, s.baseAddress, z.baseAddress, path)
                }
            }
        }
        if let product, let productWeights {
            quantized.withUnsafeBufferPointer { q in
                accumulators.withUnsafeMutableBufferPointer { c in product.run(a: q.baseAddress!, weights: productWeights, c: c.baseAddress!) }
            }
        } else {
            quantized.withUnsafeBufferPointer { q in
                weights.packed.withUnsafeBufferPointer { w in
                    accumulators.withUnsafeMutableBufferPointer { c in
                        cohort_int8_gemm(q.baseAddress, Int32(batch), Int32(k), stride, w.baseAddress, Int32(nOut), c.baseAddress, nOut, path)
                    }
                }
            }
        }
        accumulators.withUnsafeBufferPointer { c in
            weights.columnSums.withUnsafeBufferPointer { sums in
                weights.scales.withUnsafeBufferPointer { ws in
                    cohort_int8_dequantize(c.baseAddress, Int32(batch), Int32(nOut), sums.baseAddress, rowZeros, rowScales, ws.baseAddress,
                                           layer.bias?.value.pointer, output.value.pointer)
                }
            }
        }
    }

    func backward() {}
}
