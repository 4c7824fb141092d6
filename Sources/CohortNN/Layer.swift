import Cohort

/// What a forward pass needs besides its input.
public final class ForwardContext {
    public let tape: Tape
    /// Training mode: dropout drops, batch norm uses batch statistics and updates running ones.
    public var training: Bool
    /// Randomness for dropout and other stochastic layers (advanced by them).
    public var rng: RandomStream
    /// How Linear and Conv2d multiply: fp32, or bf16 operands with fp32 accumulation (training.precision).
    public var precision: MatmulPrecision = .fp32
    /// Where Conv2d runs, when a caller wants one path (gradient checks, path tests); nil: `ConvolutionPath.chosen`.
    public var convolution: ConvolutionPath?
    /// Raised whenever the parameters change (after each optimizer update): in bf16 a layer rounds
    /// its weights again on its first forward after a change, so once per step, not per product.
    public private(set) var parameterVersion: UInt64 = 0

    public func parametersChanged() { parameterVersion &+= 1 }

    public init(tape: Tape, training: Bool, rng: RandomStream = RandomStream(seed: 0)) {
        self.tape = tape
        self.training = training
        self.rng = rng
    }
}

/// A building block of a model (MLX's Module, PyTorch's nn.Module): its own parameters and
/// buffers by local name, its children by name, and a forward pass on a tape.
public protocol Layer: AnyObject {
    /// Trainable parameters owned directly by this layer, e.g. [("weight", w), ("bias", b)].
    var ownParameters: [(String, Parameter)] { get }
    /// Non-trainable state saved with the model (running statistics).
    var ownBuffers: [(String, Parameter)] { get }
    /// Sub-layers by name ("0", "1", ... in a Sequential).
    var children: [(String, Layer)] { get }
    /// The output shape for an input shape (batch first), or an error naming the layer and shapes.
    func outputShape(for input: [Int]) throws -> [Int]
    func forward(_ x: Var, _ ctx: ForwardContext) throws -> Var
    /// A short description, e.g. "Linear(784 -> 512)".
    var summary: String { get }
}

extension Layer {
    public var ownParameters: [(String, Parameter)] { [] }
    public var ownBuffers: [(String, Parameter)] { [] }
    public var children: [(String, Layer)] { [] }

    /// Every trainable parameter below this layer by dotted path ("layers.0.weight"), in forward order.
    public func namedParameters(prefix: String = "") -> [(String, Parameter)] {
        collect(prefix: prefix) { $0.ownParameters }
    }

    /// Every buffer below this layer by dotted path.
    public func namedBuffers(prefix: String = "") -> [(String, Parameter)] {
        collect(prefix: prefix) { $0.ownBuffers }
    }

    private func collect(prefix: String, _ own: (Layer) -> [(String, Parameter)]) -> [(String, Parameter)] {
        var out = own(self).map { (prefix + $0.0, $0.1) }
        for (name, child) in children {
            out += child.collect(prefix: prefix + name + ".", own)
        }
        return out
    }
}
