import Cohort
import CohortNN

/// Swish with a learnable slope per feature (Ramachandran et al. 2017): y = x * sigmoid(beta * x).
/// A layer of one's own is a class with its parameters and a forward pass on the tape; autodiff
/// gives its backward pass, and `GradCheck` checks it against finite differences.
public final class LearnableSwish: Layer {
    public let features: Int
    /// beta [features], starting at 1 (plain Swish); trained, not decayed.
    public let beta: Parameter

    public init(features: Int) {
        self.features = features
        beta = Parameter(shape: [features], initializer: .ones, decays: false)
    }

    public var ownParameters: [(String, Parameter)] { [("beta", beta)] }
    public var summary: String { "LearnableSwish(\(features))" }

    public func outputShape(for input: [Int]) throws -> [Int] {
        guard input.count == 2, input[1] == features else {
            throw CohortError.invalid("LearnableSwish(\(features)): input shape \(input), expected [batch, \(features)]")
        }
        return input
    }

    public func forward(_ x: Var, _ ctx: ForwardContext) throws -> Var {
        let t = ctx.tape
        return try t.mul(x, t.sigmoid(try t.mul(x, beta.variable)))  // beta broadcasts over the batch
    }
}
