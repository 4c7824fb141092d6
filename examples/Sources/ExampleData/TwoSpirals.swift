import Cohort
import CohortData
import Foundation

/// Two interleaved spirals in the plane, one class each (Lang & Witbrock 1988), with Gaussian
/// noise: a dataset of one's own is features and labels in memory, handed to `Dataset`.
public enum TwoSpirals {
    public static func make(count: Int, noise: Float, seed: UInt64) throws -> Dataset {
        var rng = RandomStream(seed: seed)
        var features = [Float](), labels = [Int32]()
        for i in 0..<count {
            let label = Int32(i % 2), t = 0.25 + 3 * Float.pi * rng.uniform(0, 1)  // angle along the arm
            let sign: Float = label == 0 ? 1 : -1
            features += [sign * t * cos(t) / 10 + noise * rng.normal(), sign * t * sin(t) / 10 + noise * rng.normal()]
            labels.append(label)
        }
        return try Dataset(float32: features, sampleShape: [2], labels: labels, source: "two spirals")
    }
}
