import Cohort

/// A network ready to predict: its layers, their parameters in one arena and their buffers
/// (BatchNorm's running statistics) in another. No tape is recorded, no gradient memory exists and
/// no optimizer is involved: `cohort eval`, teachers, compression, Hogwild's evaluation snapshot
/// and any deployment use a `Model`; training wraps one in a `TrainingSession`.
public final class Model {
    public let network: Sequential
    /// One example's shape, without the batch axis (e.g. [1, 28, 28]).
    public let inputShape: [Int]
    /// Values per example the network outputs (the class count of a classifier).
    public let outputCount: Int
    public let parameters: ParameterArena
    /// Non-trainable state saved with the model, in an arena of its own.
    public let buffers: ParameterArena
    /// The spec the network was built from, when it was (what batch norm folding rebuilds).
    public let spec: ModelSpec?
    /// Inference runs on a tape that records nothing: its ops reuse their buffers from one batch to
    /// the next, so predicting allocates only when the batch shape changes.
    private let inference = Tape(recording: false)
    private let evaluation: ForwardContext
    private var input: Var?

    /// `network` built for examples of `inputShape`; its parameters keep their current values.
    /// `parameterStorage`, when given, holds the parameter arena (Hogwild's shared segment).
    public init(network: Sequential, inputShape: [Int], parameterStorage: Storage? = nil, spec: ModelSpec? = nil) throws {
        let out = try network.outputShape(for: [1] + inputShape)
        guard out.count == 2 else {
            throw CohortError.invalid("model: the last layer gives \(shapeString(Array(out.dropFirst()))) per example; end with a flatten or linear layer")
        }
        self.network = network
        self.inputShape = inputShape
        self.spec = spec
        outputCount = out[1]
        parameters = ParameterArena(network.namedParameters(), storage: parameterStorage)
        buffers = ParameterArena(network.namedBuffers())
        evaluation = ForwardContext(tape: inference, training: false)
    }

    /// The model a spec describes, for examples of `inputShape` (its weights as the layers
    /// initialise them: call `initialize` or `load`).
    public convenience init(spec: ModelSpec, inputShape: [Int], parameterStorage: Storage? = nil) throws {
        try self.init(network: try spec.build(inputShape: inputShape), inputShape: inputShape, parameterStorage: parameterStorage, spec: spec)
    }

    /// Draws every parameter from its initialiser (each path its own stream of `rng`).
    public func initialize(rng: RandomStream) { parameters.initialize(rng: rng) }

    /// Logits [B, outputCount] for a batch [B] + inputShape, in evaluation mode (dropout off,
    /// BatchNorm's running statistics). The tensor is overwritten by the next call.
    public func predict(_ batch: Tensor) throws -> Tensor {
        guard Array(batch.shape.dropFirst()) == inputShape else {
            throw CohortError.shape(op: "predict", detail: "batch \(shapeString(batch.shape)) for a model of \(shapeString(inputShape)) inputs")
        }
        if input == nil || input!.value.pointer != batch.pointer || input!.shape != batch.shape { input = Var(batch) }
        inference.reset()
        return try network.forward(input!, evaluation).value
    }

    /// Copies `other`'s parameters and buffers (a model of the same layout).
    public func assign(from other: Model) {
        parameters.assign(from: other.parameters)
        buffers.assign(from: other.buffers)
    }

    /// Parameters that are not zero (a pruned model's remaining weights).
    public var nonzeroParameterCount: Int {
        var n = 0
        let v = parameters.values.pointer
        for e in parameters.entries { for i in 0..<e.count where v[e.offset + i] != 0 { n += 1 } }
        return n
    }
}
