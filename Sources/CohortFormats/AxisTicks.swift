import Foundation

/// Round tick positions (1, 2 or 5 times a power of ten) spanning a data range, as people draw axes.
struct AxisTicks {
    let lower: Double
    let upper: Double
    let step: Double
    let values: [Double]

    /// About `target` ticks covering `minimum...maximum`; a degenerate or empty range is widened.
    init(minimum: Double, maximum: Double, target: Int = 6) {
        var low = minimum, high = maximum
        if !low.isFinite || !high.isFinite || low > high { (low, high) = (0, 1) }
        // Keep the span finite so the tick arithmetic below cannot produce NaN.
        (low, high) = (max(low, -1e300), min(high, 1e300))
        if low == high {
            let pad = low == 0 ? 1 : abs(low) * 0.1
            (low, high) = (low - pad, high + pad)
        }
        let rough = (high - low) / Double(max(target - 1, 1))
        let magnitude = pow(10, floor(log10(rough)))
        // Of the round steps near the rough one, the one giving a tick count closest to the target.
        func tickCount(_ step: Double) -> Int { Int((ceil(high / step - 1e-9) - floor(low / step + 1e-9)).rounded()) + 1 }
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }
            .min { abs(tickCount($0) - target) < abs(tickCount($1) - target) } ?? magnitude
        let first = floor(low / step + 1e-9) * step, last = ceil(high / step - 1e-9) * step
        // Far from zero, Double spacing can exceed the step; never emit more than a screenful of ticks.
        let count = min(Int(((last - first) / step).rounded()) + 1, 50)
        (lower, upper, self.step) = (first, last, step)
        values = (0..<count).map { first + Double($0) * step }
    }

    /// A tick value as short text with just the decimals the step needs (`0.25`, `1200`, `1e-06`).
    func label(_ value: Double) -> String {
        let v = abs(value) < step * 1e-6 ? 0 : value
        if abs(v) >= 1e6 || (step < 1e-4 && v != 0) { return String(format: "%g", v) }
        let decimals = max(0, Int(-floor(log10(step) + 1e-9)))
        return String(format: "%.\(decimals)f", v)
    }
}
