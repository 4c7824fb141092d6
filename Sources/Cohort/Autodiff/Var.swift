/// A tensor in a differentiable computation: its value, and its gradient once backward has run.
///
/// Leaves are the things we differentiate with respect to (parameters, or inputs in a gradient
/// check). A parameter leaf's `grad` is a view into the model's flat gradient arena, so backward
/// writes straight into the buffer the optimizer and the allreduce read.
public final class Var {
    public internal(set) var value: Tensor
    /// The gradient: accumulated (+=) by backward for leaves, recomputed each backward for outputs.
    public internal(set) var grad: Tensor?
    public let requiresGrad: Bool
    public let isLeaf: Bool
    public var name: String

    /// Called during backward as soon as this leaf's gradient is final (no later node can add to it).
    /// The data-parallel reducer uses it to start a bucket's allreduce while backward goes on.
    public var onGradientFinal: ((Var) -> Void)?

    // Bookkeeping for the hook: the earliest node of the current recording that reads this leaf.
    var seenBy: ObjectIdentifier?
    var seenInRecording: Int = -1
    var firstUse: Int = 0

    /// A leaf. With `requiresGrad`, its gradient lives in `grad` (a fresh zero tensor, or the given view).
    public init(_ value: Tensor, requiresGrad: Bool = false, grad: Tensor? = nil, name: String = "") {
        precondition(grad == nil || grad!.count == value.count, "gradient view must match the value's shape")
        self.value = value
        self.requiresGrad = requiresGrad
        self.grad = requiresGrad ? (grad ?? Tensor(zeros: value.shape)) : nil
        isLeaf = true
        self.name = name
    }

    /// An op's output; the node that makes it owns it and reuses its buffers across recordings.
    public init(output shape: [Int], requiresGrad: Bool) {
        value = Tensor(zeros: shape)
        self.requiresGrad = requiresGrad
        grad = requiresGrad ? Tensor(zeros: shape) : nil
        isLeaf = false
        name = ""
    }

    public var shape: [Int] { value.shape }

    /// Points a leaf at new memory (a view into a parameter arena, or shared memory). A leaf that
    /// requires a gradient but is given none has no gradient memory until it is rebound with one
    /// (a model that only predicts); a recording tape refuses to read it.
    public func rebind(value: Tensor, grad: Tensor?) {
        precondition(isLeaf, "only leaves are rebound")
        precondition(value.shape == self.value.shape && (grad == nil || grad!.count == value.count), "rebind must keep the shape")
        self.value = value
        if requiresGrad { self.grad = grad }
    }

    /// Resets the leaf's accumulated gradient.
    public func zeroGrad() { grad?.zero() }

    /// Makes an output's buffers hold `shape`, reallocating only when the element count changes.
    public func prepare(_ shape: [Int]) {
        if value.shape == shape { return }
        if value.count == shape.reduce(1, *) {
            value = try! value.reshaped(shape)
            grad = try! grad?.reshaped(shape)
        } else {
            value = Tensor(zeros: shape)
            if requiresGrad { grad = Tensor(zeros: shape) }
        }
    }
}

extension Var: CustomStringConvertible {
    public var description: String { "Var(\(name.isEmpty ? "" : name + ": ")\(value))" }
}
