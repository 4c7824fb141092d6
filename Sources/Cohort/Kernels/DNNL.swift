import CDNNL

/// oneDNN's CPU engine and stream, made once per process: every primitive belongs to one engine,
/// and making them is expensive. Only the kernel layer (`GEMM`) uses this.
public final class DNNL {
    /// nil when oneDNN cannot make a CPU engine (then fp32 stays on OpenBLAS and bf16 is refused).
    public static let shared: DNNL? = { _ = ceilingApplied; return try? DNNL() }()

    /// COHORT_CPU's cap as oneDNN's maximal ISA, set before oneDNN's first other call (it takes
    /// effect only then); every entry point into oneDNN here goes through `shared` or `effectiveISA`.
    private static let ceilingApplied: Void = {
        if let isa = CPU.oneDNNCeiling { _ = dnnl_set_max_cpu_isa(isa) }
    }()

    /// The instruction set oneDNN dispatches to, within the cap.
    public static var effectiveISA: dnnl_cpu_isa_t {
        _ = ceilingApplied
        return dnnl_get_effective_cpu_isa()
    }

    /// Whether oneDNN dispatches to its AVX-512 kernels (avx512_core and above, within the cap):
    /// where its f32 matmul is brgemm and where it has Winograd convolutions.
    public static var runsAVX512: Bool {
        switch effectiveISA {
        case dnnl_cpu_isa_avx512_core, dnnl_cpu_isa_avx512_core_vnni, dnnl_cpu_isa_avx512_core_bf16, dnnl_cpu_isa_avx512_core_amx: return true
        default: return false
        }
    }

    let engine: dnnl_engine_t
    let stream: dnnl_stream_t
    /// Primitive executions so far.
    public internal(set) var executions = 0
    /// The process's heap allocations so far, where the binary counts them (`cohort bench train`
    /// interposes malloc); nil elsewhere. With it set, every execution is bracketed by two reads.
    public var allocationCounter: (() -> Int)?
    /// Allocations made while oneDNN executed a primitive (counted around each execution, on every
    /// thread: oneDNN 2.6 builds each call's argument map on the heap, and what its kernels allocate
    /// depends on the implementation it picks for the CPU), so the allocation benchmark can tell
    /// them from Cohort's own.
    public internal(set) var allocationsInside = 0

    private init() throws {
        var e: dnnl_engine_t?
        try DNNL.check(dnnl_engine_create(&e, dnnl_cpu, 0), "dnnl_engine_create")
        var s: dnnl_stream_t?
        try DNNL.check(dnnl_stream_create(&s, e, dnnl_stream_default_flags.rawValue), "dnnl_stream_create")
        engine = e!
        stream = s!
    }

    static func check(_ status: dnnl_status_t, _ what: String) throws {
        if status != dnnl_success { throw CohortError.invalid("oneDNN: \(what) failed (status \(status.rawValue))") }
    }

    /// Makes a primitive add its result into the destination (a sum post-op with scale 1).
    static func appendSum(_ attr: dnnl_primitive_attr_t?) throws {
        var ops: dnnl_post_ops_t?
        try check(dnnl_post_ops_create(&ops), "dnnl_post_ops_create")
        defer { dnnl_post_ops_destroy(ops) }
        try check(dnnl_post_ops_append_sum(ops, 1), "dnnl_post_ops_append_sum")
        try check(dnnl_primitive_attr_set_post_ops(attr, ops), "post ops")
    }

    /// The instruction set oneDNN's kernels use on this CPU.
    public static var isa: String {
        switch effectiveISA {
        case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx"
        case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16"
        case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni"
        case dnnl_cpu_isa_avx512_core: return "avx512_core"
        case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni"
        case dnnl_cpu_isa_avx2: return "avx2"
        case dnnl_cpu_isa_avx: return "avx"
        case dnnl_cpu_isa_sse41: return "sse41"
        case let other: return "isa 0x\(String(other.rawValue, radix: 16))"
        }
    }

    public static var version: String {
        let v = dnnl_version()!.pointee
        return "\(v.major).\(v.minor).\(v.patch)"
    }

    /// oneDNN's threads are OpenMP's (Debian builds it on OpenMP).
    public static var threads: Int { Int(cohort_omp_get_max_threads()) }
    public static func setThreads(_ n: Int) { _ = cohort_omp_set_num_threads(Int32(n)) }
}

/// One oneDNN matmul primitive of fixed shape, data type and transposes, made once and executed
/// every step on whatever buffers the caller passes (`dnnl_memory_set_data_handle`): C[m x n]
/// (+)= op(A) op(B), row-major, fp32 C, A and B fp32 or bf16. Its scratchpad is allocated here, once.
final class DNNLMatmul {
    var implementation: String { primitive.implementation }
    private let primitive: DNNLPrimitive

    init(dnnl: DNNL, m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool, accumulate: Bool, bf16: Bool) throws {
        let type = bf16 ? dnnl_bf16 : dnnl_f32
        var aDesc = dnnl_memory_desc_t(), bDesc = dnnl_memory_desc_t(), cDesc = dnnl_memory_desc_t()
        // A transposed is stored [k][m]: logical [m, k] with format "ba"; likewise B.
        try DNNL.check(dnnl_memory_desc_init_by_tag(&aDesc, 2, [Int64(m), Int64(k)], type, transposeA ? dnnl_ba : dnnl_ab), "memory desc A")
        try DNNL.check(dnnl_memory_desc_init_by_tag(&bDesc, 2, [Int64(k), Int64(n)], type, transposeB ? dnnl_ba : dnnl_ab), "memory desc B")
        try DNNL.check(dnnl_memory_desc_init_by_tag(&cDesc, 2, [Int64(m), Int64(n)], dnnl_f32, dnnl_ab), "memory desc C")
        var desc = dnnl_matmul_desc_t()
        try DNNL.check(dnnl_matmul_desc_init(&desc, &aDesc, &bDesc, nil, &cDesc), "dnnl_matmul_desc_init")
        primitive = try withUnsafePointer(to: &desc) {
            try DNNLPrimitive(dnnl: dnnl, descriptor: UnsafeRawPointer($0), what: "matmul \(m)x\(n)x\(k) \(bf16 ? "bf16" : "f32")") { attr in
                if accumulate { try DNNL.appendSum(attr) }  // C = op(A) op(B) + C, the sgemm beta = 1 of the fp32 path
            }
        }
    }

    func run(a pa: UnsafeRawPointer, b pb: UnsafeRawPointer, c pc: UnsafeMutableRawPointer) {
        primitive.execute(src: pa, weights: pb, dst: pc)
    }
}
