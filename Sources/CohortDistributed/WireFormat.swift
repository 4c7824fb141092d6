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

/// Rounding to and from the 16-bit wire formats (round to nearest, ties to even).
public enum WireCodec {
    /// `count` values of `source` plus `residual` (when given), rounded into `out`; with a residual,
    /// what the rounding lost is left in it for the next call (error feedback).
    @inline(__always)
    public static func encode(_ format: WireFormat, _ source: UnsafePointer<Float>, count: Int, into out: UnsafeMutablePointer<UInt16>,
                              residual: UnsafeMutablePointer<Float>?) {
        switch (format, residual) {
        case (.bf16, nil):
            for i in 0..<count { out[i] = bf16(source[i]) }
        case let (.bf16, r?):
            for i in 0..<count {
                let v = source[i] + r[i]
                let e = bf16(v)
                out[i] = e
                r[i] = v - float(bf16: e)
            }
        case (.fp16, nil):
            for i in 0..<count { out[i] = Float16(source[i]).bitPattern }
        case let (.fp16, r?):
            for i in 0..<count {
                let v = source[i] + r[i]
                let e = Float16(v)
                out[i] = e.bitPattern
                r[i] = v - Float(e)
            }
        case (.fp32, _):
            preconditionFailure("fp32 is not encoded")
        }
    }

    /// `count` 16-bit values as floats.
    @inline(__always)
    public static func decode(_ format: WireFormat, _ source: UnsafePointer<UInt16>, count: Int, into out: UnsafeMutablePointer<Float>) {
        if format == .bf16 {
            for i in 0..<count { out[i] = float(bf16: source[i]) }
        } else {
            for i in 0..<count { out[i] = Float(Float16(bitPattern: source[i])) }
        }
    }

    /// Adds `count` 16-bit values to `sum` in fp32.
    @inline(__always)
    public static func accumulate(_ format: WireFormat, _ source: UnsafePointer<UInt16>, count: Int, into sum: UnsafeMutablePointer<Float>) {
        if format == .bf16 {
            for i in 0..<count { sum[i] += float(bf16: source[i]) }
        } else {
            for i in 0..<count { sum[i] += Float(Float16(bitPattern: source[i])) }
        }
    }

    @inline(__always)
    public static func bf16(_ x: Float) -> UInt16 {
        let bits = x.bitPattern
        if x.isNaN { return UInt16(truncatingIfNeeded: bits >> 16) | 0x40 }  // stays a (quiet) NaN
        // Round to nearest, ties to even: add 0x7FFF plus the lowest kept bit, then truncate.
        return UInt16(truncatingIfNeeded: (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16)
    }

    @inline(__always)
    public static func float(bf16 h: UInt16) -> Float { Float(bitPattern: UInt32(h) << 16) }
}
