#if arch(x86_64)
import _Builtin_intrinsics.intel
#endif

/// The body of a fused loop over flat Float buffers: `apply(i, lanes)` handles floats i..<i+lanes
/// as one SIMD16 chunk (lanes is 16 except for the last, partial chunk).
///
/// Kernels are structs rather than closures so that `Lanes.forEachChunk` is specialised for each
/// and `apply` is always inlined into the loop (closures were left as calls in release builds).
protocol ChunkKernel {
    mutating func apply(_ i: Int, _ lanes: Int)
}

/// SIMD16 chunk access over flat Float buffers. The tail is one partial chunk, zero-padded so the
/// same vector code handles it (padding lanes are computed and discarded; IEEE arithmetic never traps).
enum Lanes {
    typealias Vector = SIMD16<Float>
    static let width = 16
    /// Floats a reduction sums in Float lanes before adding the partial sum to a Double total: short
    /// enough that Float rounding stays negligible, long enough that the Double adds cost nothing.
    static let block = 4096

    /// Runs `kernel` over `range` in chunks of 16 floats, then one partial chunk.
    @inline(__always)
    static func forEachChunk<K: ChunkKernel>(_ range: Range<Int>, _ kernel: inout K) {
        var i = range.lowerBound
        let fullEnd = range.lowerBound + (range.count / width) * width
        while i < fullEnd {
            kernel.apply(i, width)
            i += width
        }
        if i < range.upperBound { kernel.apply(i, range.upperBound - i) }
    }

    /// Splits `range` into blocks of at most `block` floats (the closure runs once per block, not per chunk).
    @inline(__always)
    static func forEachBlock(_ range: Range<Int>, _ body: (Range<Int>) -> Void) {
        var start = range.lowerBound
        while start < range.upperBound {
            let end = Swift.min(start + block, range.upperBound)
            body(start..<end)
            start = end
        }
    }

    @inline(__always)
    static func load(_ base: UnsafeMutablePointer<Float>, _ i: Int, _ lanes: Int) -> Vector {
        if lanes == width { return UnsafeRawPointer(base + i).loadUnaligned(as: Vector.self) }
        var v = Vector(repeating: 0)
        for k in 0..<lanes { v[k] = base[i + k] }
        return v
    }

    @inline(__always)
    static func store(_ v: Vector, _ base: UnsafeMutablePointer<Float>, _ i: Int, _ lanes: Int) {
        if lanes == width {
            UnsafeMutableRawPointer(base + i).storeBytes(of: v, as: Vector.self)
            return
        }
        for k in 0..<lanes { base[i + k] = v[k] }
    }

    /// Lane-wise IEEE square root. On Linux `Float.squareRoot()` (hence SIMD's) compiles to a scalar
    /// sqrt with a libm call for errno on each lane; the SSE instruction is the same correctly
    /// rounded result, four lanes at a time.
    @inline(__always)
    static func squareRoot(_ v: Vector) -> Vector {
        #if arch(x86_64)
        let low = SIMD8(lowHalf: _mm_sqrt_ps(v.lowHalf.lowHalf), highHalf: _mm_sqrt_ps(v.lowHalf.highHalf))
        let high = SIMD8(lowHalf: _mm_sqrt_ps(v.highHalf.lowHalf), highHalf: _mm_sqrt_ps(v.highHalf.highHalf))
        return Vector(lowHalf: low, highHalf: high)
        #else
        return v.squareRoot()
        #endif
    }
}
