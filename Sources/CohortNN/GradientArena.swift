import Cohort

/// The gradients of a `ParameterArena`, in one buffer of the same layout: each trainable
/// parameter's gradient is a view into it, so backward writes straight into the buffer the
/// reducer averages and the optimizer reads. Only training has one; a `Model` that predicts does not.
public final class GradientArena {
    public let values: Tensor
    public var count: Int { values.count }

    /// Binds every trainable parameter of `parameters` to its gradient view. `storage`, when given,
    /// holds the gradients instead of a private buffer (the shared-memory reducer's slot of this rank).
    public init(for parameters: ParameterArena, storage: Storage? = nil) {
        let total = parameters.count
        if let storage {
            precondition(storage.capacity >= total, "gradient storage too small")
            values = Tensor(storage: storage, offset: 0, shape: [total])
            values.zero()
        } else {
            values = Tensor(zeros: [total])
        }
        for (e, p) in zip(parameters.entries, parameters.parameters) where p.trainable {
            p.variable.rebind(value: p.value, grad: Tensor(storage: values.storage, offset: e.offset, shape: e.shape))
        }
    }

    public func zero() { values.zero() }
}
