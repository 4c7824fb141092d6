/// Symmetric int8 quantisation with one scale per output channel (row): for row r,
/// scale_r = max_j |w_rj| / 127 and q_rj = round(w_rj / scale_r), so every dequantised value
/// q * scale is within scale_r / 2 of the original and zeros (pruned weights) stay exactly zero.
public enum Int8Quantization {
    public static func quantize(_ w: UnsafePointer<Float>, rows: Int, columns: Int) -> (values: [Int8], scales: [Float]) {
        var values = [Int8](repeating: 0, count: rows * columns)
        var scales = [Float](repeating: 1, count: rows)
        for r in 0..<rows {
            let row = w + r * columns
            var largest: Float = 0
            for j in 0..<columns { largest = max(largest, abs(row[j])) }
            // An all-zero row keeps scale 1 (any scale reproduces it).
            let scale = largest > 0 ? largest / 127 : 1
            scales[r] = scale
            let inv = 1 / scale
            for j in 0..<columns {
                values[r * columns + j] = Int8(max(-127, min(127, (row[j] * inv).rounded())))
            }
        }
        return (values, scales)
    }

    public static func dequantize(_ values: [Int8], scales: [Float], rows: Int, columns: Int, into out: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let s = scales[r]
            for j in 0..<columns { out[r * columns + j] = Float(values[r * columns + j]) * s }
        }
    }
}
