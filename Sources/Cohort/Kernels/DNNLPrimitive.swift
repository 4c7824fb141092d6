import CDNNL

/// One oneDNN primitive with a source, weights and destination, made once from its operation
/// descriptor and executed on whatever buffers the caller passes (`dnnl_memory_set_data_handle`).
/// It owns the scratchpad (user mode: oneDNN allocates nothing of its own per execution), the four
/// memory objects and the argument list. `DNNLMatmul` and `DNNLInt8Matmul` are built on it.
final class DNNLPrimitive {
    /// oneDNN's implementation name ("brg:avx512_core", ...).
    let implementation: String
    /// The layouts the primitive chose (weights given as `format_tag_any` come back concrete).
    let weightsDesc: dnnl_memory_desc_t
    private let dnnl: DNNL
    /// The name errors use ("int8 matmul 64x100x784").
    private let what: String
    private let primitive: dnnl_primitive_t
    private let src: dnnl_memory_t, weights: dnnl_memory_t, dst: dnnl_memory_t, scratchpad: dnnl_memory_t
    private let scratch: UnsafeMutableRawPointer
    private let args: UnsafeMutablePointer<dnnl_exec_arg_t>

    /// `descriptor`: an operation descriptor (`dnnl_matmul_desc_t`...); `configure` adds to the
    /// attributes (post-ops) after the scratchpad mode is set; `what` names it in errors.
    init(dnnl: DNNL, descriptor: UnsafeRawPointer, what: String,
         configure: (dnnl_primitive_attr_t?) throws -> Void = { _ in }) throws {
        self.dnnl = dnnl
        self.what = what
        var attr: dnnl_primitive_attr_t?
        try DNNL.check(dnnl_primitive_attr_create(&attr), "dnnl_primitive_attr_create")
        defer { dnnl_primitive_attr_destroy(attr) }
        try DNNL.check(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user), "scratchpad mode")
        try configure(attr)
        var pd: dnnl_primitive_desc_t?
        try DNNL.check(dnnl_primitive_desc_create(&pd, descriptor, attr, dnnl.engine, nil), "\(what) primitive descriptor")
        defer { dnnl_primitive_desc_destroy(pd) }
        var info: UnsafePointer<CChar>?
        _ = dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &info)
        implementation = info.map { String(cString: $0) } ?? "?"
        var p: dnnl_primitive_t?
        try DNNL.check(dnnl_primitive_create(&p, pd), "dnnl_primitive_create \(what)")
        primitive = p!
        weightsDesc = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0)!.pointee

        let scratchDesc = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0)!
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(dnnl_memory_desc_get_size(scratchDesc), 64), alignment: 64)
        scratch = buffer
        // Placeholder handles until `execute` points them at the caller's buffers.
        func memory(_ query: dnnl_query_t) throws -> dnnl_memory_t {
            var mem: dnnl_memory_t?
            try DNNL.check(dnnl_memory_create(&mem, dnnl_primitive_desc_query_md(pd, query, 0), dnnl.engine, buffer), "dnnl_memory_create")
            return mem!
        }
        src = try memory(dnnl_query_src_md)
        weights = try memory(dnnl_query_weights_md)
        dst = try memory(dnnl_query_dst_md)
        scratchpad = try memory(dnnl_query_scratchpad_md)
        args = .allocate(capacity: 4)
        args.initialize(from: [dnnl_exec_arg_t(arg: DNNL_ARG_SRC, memory: src), dnnl_exec_arg_t(arg: DNNL_ARG_WEIGHTS, memory: weights),
                               dnnl_exec_arg_t(arg: DNNL_ARG_DST, memory: dst), dnnl_exec_arg_t(arg: DNNL_ARG_SCRATCHPAD, memory: scratchpad)],
                        count: 4)
    }

    deinit {
        for m in [src, weights, dst, scratchpad] { dnnl_memory_destroy(m) }
        dnnl_primitive_destroy(primitive)
        args.deallocate()
        scratch.deallocate()
    }

    /// Runs the primitive on these buffers; a failure here is a bug (shapes were checked when it was made).
    func execute(src ps: UnsafeRawPointer, weights pw: UnsafeRawPointer, dst pd: UnsafeMutableRawPointer) {
        dnnl_memory_set_data_handle(src, UnsafeMutableRawPointer(mutating: ps))
        dnnl_memory_set_data_handle(weights, UnsafeMutableRawPointer(mutating: pw))
        dnnl_memory_set_data_handle(dst, pd)
        let allocationsBefore = dnnl.allocationCounter?()
        let status = dnnl_primitive_execute(primitive, dnnl.stream, 4, args)
        precondition(status == dnnl_success, "oneDNN: \(what) execution failed (status \(status.rawValue))")
        dnnl_stream_wait(dnnl.stream)  // returns at once on the OpenMP CPU runtime, which executes in place
        if let allocationsBefore, let count = dnnl.allocationCounter { dnnl.allocationsInside += count() - allocationsBefore }
        dnnl.executions += 1
    }
}
