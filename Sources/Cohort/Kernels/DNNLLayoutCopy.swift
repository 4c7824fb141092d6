import CDNNL

/// One operand of a oneDNN primitive in the layout the primitive chose (e.g. nChw8c) while the
/// caller keeps it plain (NCHW): a buffer in that layout, made here once, and the reorder between
/// it and the caller's buffer, made once too. Where the two layouts agree and nothing has to be
/// added, there is neither and the primitive works on the caller's buffer.
final class DNNLLayoutCopy {
    /// The primitive's layout of this operand.
    let layout: dnnl_memory_desc_t
    private let buffer: UnsafeMutableRawPointer?
    private let reorder: DNNLPrimitive?
    /// What the primitive read last (`read`'s answer), for a second primitive of the same layout.
    private(set) var current: UnsafeRawPointer?

    /// `toPlain`: the operand is a result, reordered from the primitive's layout into the caller's
    /// (added into it with `accumulate`); otherwise an input, reordered the other way.
    init(dnnl: DNNL, plain: dnnl_memory_desc_t, layout: dnnl_memory_desc_t, toPlain: Bool, accumulate: Bool = false, what: String) throws {
        self.layout = layout
        var a = plain, b = layout
        guard accumulate || dnnl_memory_desc_equal(&a, &b) == 0 else {
            buffer = nil
            reorder = nil
            return
        }
        buffer = .allocate(byteCount: max(dnnl_memory_desc_get_size(&b), 64), alignment: 64)
        reorder = try toPlain ? DNNLPrimitive(dnnl: dnnl, reorderFrom: layout, to: plain, accumulate: accumulate, what: what)
                              : DNNLPrimitive(dnnl: dnnl, reorderFrom: plain, to: layout, accumulate: false, what: what)
    }

    deinit { buffer?.deallocate() }

    /// Whether this copy holds `layout` (then a second primitive can read what the first one did).
    func holds(_ other: dnnl_memory_desc_t) -> Bool {
        var a = layout, b = other
        return dnnl_memory_desc_equal(&a, &b) != 0
    }

    /// An input: the caller's plain data in the primitive's layout.
    func read(_ plain: UnsafeRawPointer) -> UnsafeRawPointer {
        if let buffer, let reorder { run(reorder, from: plain, to: buffer) }
        current = UnsafeRawPointer(buffer) ?? plain
        return current!
    }

    /// A result: where the primitive writes it; `write` then brings it to the caller's buffer.
    /// `plain` may be nil for an accumulating copy, which always has its own buffer.
    func target(_ plain: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer { buffer ?? plain! }

    /// Reorders (or adds) the primitive's result into the caller's buffer; nothing where it wrote there.
    func write(_ plain: UnsafeMutableRawPointer) {
        if let buffer, let reorder { run(reorder, from: buffer, to: plain) }
    }

    private func run(_ reorder: DNNLPrimitive, from: UnsafeRawPointer, to: UnsafeRawPointer) {
        reorder.bind(0, from)
        reorder.bind(1, to)
        reorder.execute()
    }
}
