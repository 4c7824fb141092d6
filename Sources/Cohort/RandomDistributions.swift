import Foundation

extension RandomStream {
    /// Gamma(shape, 1) by Marsaglia & Tsang (2000); shape < 1 through Gamma(shape + 1) U^(1/shape).
    public mutating func gamma(shape: Double) -> Double {
        precondition(shape > 0, "gamma(shape: \(shape))")
        if shape < 1 {
            let u = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
            return gamma(shape: shape + 1) * pow(max(u, 1e-300), 1 / shape)
        }
        let d = shape - 1.0 / 3, c = 1 / (9 * d).squareRoot()
        while true {
            var x: Double, v: Double
            repeat {
                x = Double(normal())
                v = 1 + c * x
            } while v <= 0
            v = v * v * v
            let u = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
            if u < 1 - 0.0331 * x * x * x * x || log(max(u, 1e-300)) < 0.5 * x * x + d * (1 - v + log(v)) { return d * v }
        }
    }

    /// Beta(a, b) as X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b). Both can underflow to 0 for
    /// tiny shapes, where the distribution sits at its ends: then 0 or 1 with equal chance.
    public mutating func beta(_ a: Double, _ b: Double) -> Double {
        let x = gamma(shape: a), y = gamma(shape: b)
        return x + y > 0 ? x / (x + y) : Double(next() >> 63)
    }
}
