import CWire
import Cohort

/// How gradients travel between ranks (`distributed.wire`): as 32-bit floats, or rounded to 16
/// bits (half the bytes), and always summed in fp32 on arrival.
public enum WireFormat: String, ConfigChoice {
    case fp32
    /// bfloat16: fp32's exponent range with 8 bits of mantissa; no overflow where fp32 has none.
    case bf16
    /// IEEE half: 11 bits of mantissa but a range of 6e-8 to 65504 (larger values become Inf,
    /// which the step's non-finite check catches; smaller ones lose precision or vanish).
    case fp16

    public var bytesPerValue: Int { self == .fp32 ? 4 : 2 }
}

/// Rounding to and from the 16-bit wire formats (round to nearest, ties to even), through the C
/// loops of CWire (vectorised; fp16 on F16C where the CPU has it).
public enum WireCodec {
    /// The path the 16-bit wire conversions take here, and why (`cohort info`).
    public static var path: (path: String, why: String) {
        #if arch(arm64)
        cohort_wire_has_f16c() != 0 ? ("neon", "bf16 by NEON bit arithmetic, fp16 by FCVTN/FCVTL") : ("portable", "needs neon")
        #else
        cohort_wire_has_f16c() != 0 ? ("avx2", "bf16 by AVX2 bit arithmetic, fp16 by F16C") : ("portable", "needs avx2 (with F16C)")
        #endif
    }

    /// `count` values of `source` plus `residual` (when given), rounded into `out`; with a residual,
    /// what the rounding lost is left in it for the next call (error feedback).
    @inline(__always)
    public static func encode(_ format: WireFormat, _ source: UnsafePointer<Float>, count: Int, into out: UnsafeMutablePointer<UInt16>,
                              residual: UnsafeMutablePointer<Float>?) {
        switch format {
        case .bf16: cohort_wire_encode_bf16(source, residual, out, count)
        case .fp16: cohort_wire_encode_fp16(source, residual, out, count)
        case .fp32: preconditionFailure("fp32 is not encoded")
        }
    }

    /// `count` 16-bit values as floats.
    @inline(__always)
    public static func decode(_ format: WireFormat, _ source: UnsafePointer<UInt16>, count: Int, into out: UnsafeMutablePointer<Float>) {
        if format == .bf16 { cohort_wire_decode_bf16(source, out, count) } else { cohort_wire_decode_fp16(source, out, count) }
    }

    /// Adds `count` 16-bit values to `sum` in fp32.
    @inline(__always)
    public static func accumulate(_ format: WireFormat, _ source: UnsafePointer<UInt16>, count: Int, into sum: UnsafeMutablePointer<Float>) {
        if format == .bf16 { cohort_wire_accumulate_bf16(source, sum, count) } else { cohort_wire_accumulate_fp16(source, sum, count) }
    }

    /// One value as bf16, and back.
    public static func bf16(_ x: Float) -> UInt16 {
        var x = x, h: UInt16 = 0
        cohort_wire_encode_bf16(&x, nil, &h, 1)
        return h
    }

    public static func float(bf16 h: UInt16) -> Float {
        var h = h, x: Float = 0
        cohort_wire_decode_bf16(&h, &x, 1)
        return x
    }
}
