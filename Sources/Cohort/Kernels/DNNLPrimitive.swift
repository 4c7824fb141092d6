import CDNNL

/// One oneDNN primitive, made once from its primitive descriptor and executed on whatever buffers
/// the caller binds to its arguments (`dnnl_memory_set_data_handle`). It owns the scratchpad (user
/// mode: oneDNN allocates nothing of its own per execution), one memory object per argument and
/// the argument list. Matmuls (fp32, bf16, int8), convolutions and reorders are built on it.
final class DNNLPrimitive {
    /// One execution argument: oneDNN's argument id and the query (with its index) that gives the
    /// argument's memory descriptor in the primitive descriptor.
    struct Argument {
        let id: Int32, query: dnnl_query_t, index: Int32
        static let src = Argument(id: DNNL_ARG_SRC, query: dnnl_query_src_md, index: 0)
        static let weights = Argument(id: DNNL_ARG_WEIGHTS, query: dnnl_query_weights_md, index: 0)
        static let bias = Argument(id: DNNL_ARG_BIAS, query: dnnl_query_weights_md, index: 1)
        static let dst = Argument(id: DNNL_ARG_DST, query: dnnl_query_dst_md, index: 0)
        static let diffSrc = Argument(id: DNNL_ARG_DIFF_SRC, query: dnnl_query_diff_src_md, index: 0)
        static let diffWeights = Argument(id: DNNL_ARG_DIFF_WEIGHTS, query: dnnl_query_diff_weights_md, index: 0)
        static let diffBias = Argument(id: DNNL_ARG_DIFF_BIAS, query: dnnl_query_diff_weights_md, index: 1)
        static let diffDst = Argument(id: DNNL_ARG_DIFF_DST, query: dnnl_query_diff_dst_md, index: 0)
    }

    /// oneDNN's implementation name ("brg:avx512_core", "jit:avx2", ...).
    let implementation: String
    /// Kept for the descriptors it answers and as the hint a backward primitive is made from.
    let descriptor: dnnl_primitive_desc_t
    private let dnnl: DNNL
    /// The name errors use ("int8 matmul 64x100x784").
    private let what: String
    private let primitive: dnnl_primitive_t
    private let arguments: [Argument]
    /// One memory object per argument, in `arguments`' order, then the scratchpad's.
    private let memories: UnsafeMutablePointer<dnnl_memory_t?>
    private let scratch: UnsafeMutableRawPointer
    private let args: UnsafeMutablePointer<dnnl_exec_arg_t>

    /// `create` makes the primitive descriptor from the attributes, on which the scratchpad mode is
    /// already set; `arguments` are the ones `bind` fills, in its numbering; `what` names it in errors.
    init(dnnl: DNNL, what: String, arguments: [Argument],
         create: (dnnl_primitive_attr_t?) throws -> dnnl_primitive_desc_t?) throws {
        self.dnnl = dnnl
        self.what = what
        self.arguments = arguments
        var attr: dnnl_primitive_attr_t?
        try DNNL.check(dnnl_primitive_attr_create(&attr), "dnnl_primitive_attr_create")
        defer { dnnl_primitive_attr_destroy(attr) }
        try DNNL.check(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user), "scratchpad mode")
        guard let pd = try create(attr) else { throw CohortError.invalid("oneDNN: no \(what) primitive descriptor") }
        descriptor = pd
        var info: UnsafePointer<CChar>?
        _ = dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &info)
        implementation = info.map { String(cString: $0) } ?? "?"
        var p: dnnl_primitive_t?
        let created = dnnl_primitive_create(&p, pd)
        if created != dnnl_success { dnnl_primitive_desc_destroy(pd) }
        try DNNL.check(created, "dnnl_primitive_create \(what)")
        primitive = p!

        let scratchDesc = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0)!
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(dnnl_memory_desc_get_size(scratchDesc), 64), alignment: 64)
        scratch = buffer
        let count = arguments.count + 1
        memories = .allocate(capacity: count)
        memories.initialize(repeating: nil, count: count)
        args = .allocate(capacity: count)
        // Placeholder handles until `bind` points them at the caller's buffers.
        for (i, a) in (arguments + [Argument(id: DNNL_ARG_SCRATCHPAD, query: dnnl_query_scratchpad_md, index: 0)]).enumerated() {
            try DNNL.check(dnnl_memory_create(&memories[i], dnnl_primitive_desc_query_md(pd, a.query, a.index), dnnl.engine, buffer),
                           "dnnl_memory_create \(what)")
            (args + i).initialize(to: dnnl_exec_arg_t(arg: a.id, memory: memories[i]))
        }
    }

    /// A primitive from an operation descriptor (`dnnl_matmul_desc_t`, `dnnl_convolution_desc_t`...);
    /// `hint` is the forward primitive a backward one is made for; `configure` adds post-ops.
    convenience init(dnnl: DNNL, descriptor: UnsafeRawPointer, hint: DNNLPrimitive? = nil, what: String,
                     arguments: [Argument] = [.src, .weights, .dst],
                     configure: (dnnl_primitive_attr_t?) throws -> Void = { _ in }) throws {
        try self.init(dnnl: dnnl, what: what, arguments: arguments) { attr in
            try configure(attr)
            var pd: dnnl_primitive_desc_t?
            try DNNL.check(dnnl_primitive_desc_create(&pd, descriptor, attr, dnnl.engine, hint?.descriptor), "\(what) primitive descriptor")
            return pd
        }
    }

    /// A reorder from layout `from` to layout `to` (its arguments: src = from, dst = to); with
    /// `accumulate` it adds into the destination (a sum post-op) instead of overwriting it.
    convenience init(dnnl: DNNL, reorderFrom from: dnnl_memory_desc_t, to: dnnl_memory_desc_t, accumulate: Bool, what: String) throws {
        var from = from, to = to
        try self.init(dnnl: dnnl, what: what, arguments: [.src, .dst]) { attr in
            if accumulate { try DNNL.appendSum(attr) }
            var pd: dnnl_primitive_desc_t?
            try DNNL.check(dnnl_reorder_primitive_desc_create(&pd, &from, dnnl.engine, &to, dnnl.engine, attr), "\(what) reorder descriptor")
            return pd
        }
    }

    deinit {
        for i in 0...arguments.count { dnnl_memory_destroy(memories[i]) }
        dnnl_primitive_destroy(primitive)
        dnnl_primitive_desc_destroy(descriptor)
        memories.deallocate()
        args.deallocate()
        scratch.deallocate()
    }

    /// The memory descriptor (layout) the primitive chose for an argument: ones given as
    /// `format_tag_any` come back concrete.
    func layout(of argument: Argument) -> dnnl_memory_desc_t {
        dnnl_primitive_desc_query_md(descriptor, argument.query, argument.index)!.pointee
    }

    /// Points argument `index` (in `arguments`' order) at `data` for the next executions.
    func bind(_ index: Int, _ data: UnsafeRawPointer) {
        dnnl_memory_set_data_handle(memories[index], UnsafeMutableRawPointer(mutating: data))
    }

    /// Runs the primitive on the bound buffers; a failure here is a bug (shapes were checked when it was made).
    func execute() {
        let allocationsBefore = dnnl.allocationCounter?()
        let status = dnnl_primitive_execute(primitive, dnnl.stream, Int32(arguments.count + 1), args)
        precondition(status == dnnl_success, "oneDNN: \(what) execution failed (status \(status.rawValue))")
        dnnl_stream_wait(dnnl.stream)  // returns at once on the OpenMP CPU runtime, which executes in place
        if let allocationsBefore, let count = dnnl.allocationCounter { dnnl.allocationsInside += count() - allocationsBefore }
        dnnl.executions += 1
    }

    /// Binds the three arguments of a primitive made with [src, weights, dst] and runs it.
    func execute(src ps: UnsafeRawPointer, weights pw: UnsafeRawPointer, dst pd: UnsafeMutableRawPointer) {
        bind(0, ps)
        bind(1, pw)
        bind(2, pd)
        execute()
    }
}
