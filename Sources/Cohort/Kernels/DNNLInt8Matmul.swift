import CDNNL

/// An int8 Linear weight for oneDNN's int8 matmul: the int8 values [n outputs][k inputs] (as int8
/// model files store them), kept with k padded to a multiple of 4 by zero columns, and reordered
/// once into each blocked layout a `DNNLInt8Matmul` asks for (oneDNN picks the layout per shape;
/// the layers of one model usually share one per weight). Not thread-safe: one model, one thread.
public final class DNNLInt8Weights {
    public let n: Int, k: Int
    /// [n][k4], zero padded: the logical [k4 x n] weight in oneDNN's "ba" format.
    private let plain: UnsafeMutablePointer<Int8>
    private var prepared: [(desc: dnnl_memory_desc_t, data: UnsafeMutableRawPointer)] = []

    public init(values: UnsafePointer<Int8>, n: Int, k: Int) {
        self.n = n
        self.k = k
        let k4 = DNNLInt8Matmul.paddedK(k)
        plain = .allocate(capacity: max(n * k4, 1))
        plain.initialize(repeating: 0, count: max(n * k4, 1))
        for j in 0..<n { (plain + j * k4).update(from: values + j * k, count: k) }
    }

    deinit {
        plain.deallocate()
        for p in prepared { p.data.deallocate() }
    }

    /// The weights in `desc`'s layout, reordered by oneDNN the first time this layout is asked for.
    func data(for desc: UnsafePointer<dnnl_memory_desc_t>, dnnl: DNNL) throws -> UnsafeMutableRawPointer {
        for p in prepared {
            var d = p.desc
            if dnnl_memory_desc_equal(&d, desc) != 0 { return p.data }
        }
        let k4 = DNNLInt8Matmul.paddedK(k)
        var plainDesc = dnnl_memory_desc_t()
        try DNNL.check(dnnl_memory_desc_init_by_tag(&plainDesc, 2, [Int64(k4), Int64(n)], dnnl_s8, dnnl_ba), "memory desc int8 weights")
        let data = UnsafeMutableRawPointer.allocate(byteCount: max(dnnl_memory_desc_get_size(desc), 64), alignment: 64)
        var rpd: dnnl_primitive_desc_t?
        try DNNL.check(dnnl_reorder_primitive_desc_create(&rpd, &plainDesc, dnnl.engine, desc, dnnl.engine, nil), "int8 weight reorder descriptor")
        defer { dnnl_primitive_desc_destroy(rpd) }
        var reorder: dnnl_primitive_t?
        try DNNL.check(dnnl_primitive_create(&reorder, rpd), "int8 weight reorder")
        defer { dnnl_primitive_destroy(reorder) }
        var from: dnnl_memory_t?, to: dnnl_memory_t?
        try DNNL.check(dnnl_memory_create(&from, &plainDesc, dnnl.engine, plain), "dnnl_memory_create")
        defer { dnnl_memory_destroy(from) }
        try DNNL.check(dnnl_memory_create(&to, desc, dnnl.engine, data), "dnnl_memory_create")
        defer { dnnl_memory_destroy(to) }
        let args = [dnnl_exec_arg_t(arg: DNNL_ARG_FROM, memory: from), dnnl_exec_arg_t(arg: DNNL_ARG_TO, memory: to)]
        try DNNL.check(dnnl_primitive_execute(reorder, dnnl.stream, 2, args), "int8 weight reorder execution")
        dnnl_stream_wait(dnnl.stream)
        prepared.append((desc.pointee, data))
        return data
    }
}

/// One oneDNN int8 matmul of fixed shape, made once and run on the caller's buffers:
/// C[m x n] (s32) = A[m x k] (u8) . W (s8, `DNNLInt8Weights`), the integer product of
/// `cohort_int8_gemm` (no zero point, no scale: the caller applies them). A's rows are
/// `paddedK(k)` bytes, zero padded past k, as `cohort_int8_quantize_u8` writes them; the product
/// runs over the padded k (the padding multiplies zero weights). Exact only where oneDNN multiplies
/// with VNNI (`isExact`): without it, its AVX-512 int8 kernels add pairs in saturating int16.
public final class DNNLInt8Matmul {
    public let m: Int, n: Int, k: Int
    /// oneDNN's implementation name ("brg:avx512_core_vnni").
    public var implementation: String { primitive.implementation }
    private let dnnl: DNNL
    private let primitive: DNNLPrimitive
    /// The weights `prepare` returned a pointer into: kept, so the pointer lives as long as this
    /// product (a caller that dropped its own reference ran on freed memory: bench int8's 784x512
    /// oneDNN rival crashed on a VNNI Zen 4 once the allocator unmapped it).
    private var preparedWeights: [DNNLInt8Weights] = []

    public static func paddedK(_ k: Int) -> Int { (k + 3) / 4 * 4 }

    /// Whether oneDNN's int8 kernels on this CPU accumulate u8 x s8 products exactly (VNNI: four
    /// products summed into int32 at once), so that they equal Cohort's kernel bit for bit.
    public static var isExact: Bool {
        switch DNNL.effectiveISA {
        case dnnl_cpu_isa_avx512_core_vnni, dnnl_cpu_isa_avx512_core_bf16, dnnl_cpu_isa_avx512_core_amx, dnnl_cpu_isa_avx2_vnni: return true
        default: return false
        }
    }

    public init(dnnl: DNNL, m: Int, n: Int, k: Int) throws {
        precondition(m > 0 && n > 0 && k > 0, "DNNLInt8Matmul: empty product")
        self.dnnl = dnnl
        self.m = m; self.n = n; self.k = k
        let k4 = Self.paddedK(k)
        var aDesc = dnnl_memory_desc_t(), bDesc = dnnl_memory_desc_t(), cDesc = dnnl_memory_desc_t()
        try DNNL.check(dnnl_memory_desc_init_by_tag(&aDesc, 2, [Int64(m), Int64(k4)], dnnl_u8, dnnl_ab), "memory desc u8 A")
        // The weights' layout is oneDNN's choice for this shape (`DNNLInt8Weights` reorders once).
        try DNNL.check(dnnl_memory_desc_init_by_tag(&bDesc, 2, [Int64(k4), Int64(n)], dnnl_s8, dnnl_format_tag_any), "memory desc s8 W")
        try DNNL.check(dnnl_memory_desc_init_by_tag(&cDesc, 2, [Int64(m), Int64(n)], dnnl_s32, dnnl_ab), "memory desc s32 C")
        var desc = dnnl_matmul_desc_t()
        try DNNL.check(dnnl_matmul_desc_init(&desc, &aDesc, &bDesc, nil, &cDesc), "dnnl_matmul_desc_init int8")
        primitive = try withUnsafePointer(to: &desc) {
            try DNNLPrimitive(dnnl: dnnl, descriptor: UnsafeRawPointer($0), what: "int8 matmul \(m)x\(n)x\(k)")
        }
    }

    /// The weights in this primitive's layout (reordered on the first call for this layout, then
    /// kept by `weights`, which this product keeps too): call once when the product is made, then
    /// pass to `run` every time.
    public func prepare(_ weights: DNNLInt8Weights) throws -> UnsafeRawPointer {
        precondition(weights.n == n && weights.k == k, "DNNLInt8Matmul: weights \(weights.n)x\(weights.k) for a product of \(n)x\(k)")
        var desc = primitive.layout(of: .weights)
        let data = try weights.data(for: &desc, dnnl: dnnl)
        if !preparedWeights.contains(where: { $0 === weights }) { preparedWeights.append(weights) }
        return UnsafeRawPointer(data)
    }

    /// C = A W: `a` [m][paddedK(k)] bytes, `weights` from `prepare`, `c` [m][n].
    public func run(a pa: UnsafePointer<UInt8>, weights pw: UnsafeRawPointer, c pc: UnsafeMutablePointer<Int32>) {
        primitive.execute(src: pa, weights: pw, dst: pc)
    }
}
