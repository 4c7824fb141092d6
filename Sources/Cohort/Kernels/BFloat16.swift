import CBFloat16

/// The bits of a bfloat16: the top half of a float (8 exponent bits, 7 mantissa bits).
public typealias BFloat16Bits = UInt16

/// A bf16 copy of fp32 values, 64-byte aligned, allocated once and refilled in place.
public final class BF16Buffer {
    public let count: Int
    public let pointer: UnsafeMutablePointer<BFloat16Bits>

    public init(count: Int) {
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * 2, alignment: 64)
        pointer = raw.bindMemory(to: BFloat16Bits.self, capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    deinit { pointer.deallocate() }

    /// Rounds the first `count` values of `source` (nearest even) into this buffer.
    public func fill(from source: UnsafePointer<Float>, count n: Int? = nil) {
        let n = n ?? count
        precondition(n <= count, "BF16Buffer: \(n) values into \(count)")
        BFloat16.round(source, into: pointer, count: n)
    }
}

public enum BFloat16 {
    /// The path fp32 -> bf16 rounding takes here, and why (`cohort info`).
    public static var roundingPath: (path: String, why: String) {
        CPU.has(.avx512BF16) ? ("avx512_bf16", "vcvtne2ps2bf16") : ("portable", "needs avx512_bf16")
    }

    /// fp32 -> bf16, round to nearest even (vcvtne2ps2bf16 where the CPU has it).
    @inline(__always)
    public static func round(_ source: UnsafePointer<Float>, into destination: UnsafeMutablePointer<BFloat16Bits>, count: Int) {
        cohort_f32_to_bf16(source, destination, count)
    }

    /// bf16 -> fp32 (exact).
    @inline(__always)
    public static func widen(_ source: UnsafePointer<BFloat16Bits>, into destination: UnsafeMutablePointer<Float>, count: Int) {
        cohort_bf16_to_f32(source, destination, count)
    }

    /// One value rounded to bf16 and back (for tests and tolerances).
    public static func rounded(_ x: Float) -> Float {
        var v = x, bits: BFloat16Bits = 0, back: Float = 0
        cohort_f32_to_bf16(&v, &bits, 1)
        cohort_bf16_to_f32(&bits, &back, 1)
        return back
    }
}
