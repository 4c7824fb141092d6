import Cohort

/// Elementwise activations: ReLU, LeakyReLU, Sigmoid, Tanh, Softplus.
public final class Activation: Layer {
    public enum Kind: Equatable, Sendable {
        case relu, leakyRelu(slope: Float), sigmoid, tanh, softplus
    }

    public let kind: Kind

    public init(_ kind: Kind) { self.kind = kind }

    public var summary: String {
        switch kind {
        case .relu: return "ReLU"
        case let .leakyRelu(slope): return "LeakyReLU(\(slope))"
        case .sigmoid: return "Sigmoid"
        case .tanh: return "Tanh"
        case .softplus: return "Softplus"
        }
    }

    public func outputShape(for input: [Int]) throws -> [Int] { input }

    public func forward(_ x: Var, _ ctx: ForwardContext) throws -> Var {
        let t = ctx.tape
        switch kind {
        case .relu: return t.relu(x)
        case let .leakyRelu(slope): return t.leakyRelu(x, slope: slope)
        case .sigmoid: return t.sigmoid(x)
        case .tanh: return t.tanh(x)
        case .softplus: return t.softplus(x)
        }
    }
}

/// Softmax over the last axis (as a layer, for models that output probabilities).
public final class SoftmaxLayer: Layer {
    public init() {}
    public var summary: String { "Softmax" }
    public func outputShape(for input: [Int]) throws -> [Int] { input }
    public func forward(_ x: Var, _ ctx: ForwardContext) throws -> Var { try ctx.tape.softmax(x) }
}

/// Flattens everything after the batch axis: [B, C, H, W] -> [B, C*H*W].
public final class Flatten: Layer {
    // The last input and output shapes: reused so a step does not allocate a new shape array.
    private var lastInput: [Int] = [], lastOutput: [Int] = []

    public init() {}
    public var summary: String { "Flatten" }
    public func outputShape(for input: [Int]) throws -> [Int] {
        guard let b = input.first else { throw CohortError.shape(op: "Flatten", detail: "input must have a batch axis") }
        return [b, input.dropFirst().reduce(1, *)]
    }
    public func forward(_ x: Var, _ ctx: ForwardContext) throws -> Var {
        if x.shape != lastInput {
            lastOutput = try outputShape(for: x.shape)
            lastInput = x.shape
        }
        return try ctx.tape.reshape(x, lastOutput)
    }
}

/// Maxout (Goodfellow et al. 2013): a Linear layer to out * k units, then the max of each group of k.
public final class Maxout: Layer {
    public let linear: Linear
    public let outFeatures: Int, pieces: Int

    public init(_ inFeatures: Int, _ outFeatures: Int, pieces: Int, initializer: Initializer = .glorotUniform) {
        precondition(pieces >= 1)
        linear = Linear(inFeatures, outFeatures * pieces, initializer: initializer)
        self.outFeatures = outFeatures
        self.pieces = pieces
    }

    public var children: [(String, Layer)] { [("linear", linear)] }
    public var summary: String { "Maxout(\(linear.inFeatures) -> \(outFeatures), \(pieces) pieces)" }

    public func outputShape(for input: [Int]) throws -> [Int] {
        let l = try linear.outputShape(for: input)
        return [l[0], outFeatures]
    }

    public func forward(_ x: Var, _ ctx: ForwardContext) throws -> Var {
        let z = try linear.forward(x, ctx)
        let grouped = try ctx.tape.reshape(z, [x.shape[0], outFeatures, pieces])
        return try ctx.tape.max(grouped, axis: 2)
    }
}
