import Cohort
import Foundation

/// How a parameter's first values are drawn (fan-in/fan-out from its shape; weights are [out, in, ...]).
public enum Initializer: String, Codable, Sendable, CaseIterable {
    /// Glorot & Bengio's "normalized" uniform: U(-a, a), a = sqrt(6 / (fanIn + fanOut)). For tanh, sigmoid, softmax.
    case glorotUniform
    /// Glorot normal: N(0, 2 / (fanIn + fanOut)).
    case glorotNormal
    /// He (Kaiming) uniform: U(-a, a), a = sqrt(6 / fanIn). For ReLU family.
    case heUniform
    /// He normal: N(0, 2 / fanIn).
    case heNormal
    case zeros
    case ones

    /// Fan-in and fan-out of a weight shaped [out, in, kh, kw...].
    public static func fans(_ shape: [Int]) -> (in: Int, out: Int) {
        guard shape.count >= 2 else { return (shape.first ?? 1, shape.first ?? 1) }
        let receptive = shape.dropFirst(2).reduce(1, *)
        return (shape[1] * receptive, shape[0] * receptive)
    }

    public func fill(_ t: Tensor, shape: [Int], rng: inout RandomStream) {
        let (fanIn, fanOut) = Initializer.fans(shape)
        switch self {
        case .zeros: t.fill(0)
        case .ones: t.fill(1)
        case .glorotUniform:
            let a = Float((6.0 / Double(fanIn + fanOut)).squareRoot())
            rng.fillUniform(t, -a, a)
        case .glorotNormal: rng.fillNormal(t, std: Float((2.0 / Double(fanIn + fanOut)).squareRoot()))
        case .heUniform:
            let a = Float((6.0 / Double(fanIn)).squareRoot())
            rng.fillUniform(t, -a, a)
        case .heNormal: rng.fillNormal(t, std: Float((2.0 / Double(fanIn)).squareRoot()))
        }
    }
}

/// A trainable tensor (or a non-trainable buffer such as BatchNorm's running mean) of a layer.
/// Until a `ParameterArena` binds it, it holds its own memory; afterwards its value and gradient
/// are views into the arena's flat buffers.
public final class Parameter {
    public let variable: Var
    public let initializer: Initializer
    /// Whether weight decay applies (weights yes, biases and normalisation scales no).
    public let decays: Bool

    public init(shape: [Int], initializer: Initializer, decays: Bool, trainable: Bool = true) {
        variable = Var(Tensor(zeros: shape), requiresGrad: trainable)
        self.initializer = initializer
        self.decays = decays
    }

    public var shape: [Int] { variable.shape }
    public var value: Tensor { variable.value }
    public var trainable: Bool { variable.requiresGrad }
}
