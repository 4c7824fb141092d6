import Cohort

/// An optimizer that updates a whole flat parameter arena in one fused, vectorised pass.
///
/// Parameters and gradients are two buffers of the same layout (see `ParameterArena` in CohortNN);
/// the optimizer keeps its own flat state buffers of that size, allocated once at construction, so a
/// step allocates nothing. The learning rate is passed per step: schedules own it, not the optimizer.
///
/// Semantics follow `torch.optim` exactly (formulas in each implementation), including the step
/// counter `t` that starts at 1 on the first step.
public protocol Optimizer: AnyObject {
    /// Number of floats in the arena this optimizer was built for.
    var parameterCount: Int { get }
    /// Completed steps (0 before the first step); `t` in the formulas is `stepCount` during a step.
    var stepCount: Int { get }
    /// Updates `parameters` in place from `gradients`; both hold `count` floats and `count` must equal
    /// `parameterCount`. Gradients are read only (coupled weight decay is applied on the fly).
    func step(parameters: UnsafeMutablePointer<Float>, gradients: UnsafeMutablePointer<Float>, count: Int, learningRate: Float)
    /// A snapshot (copies) of every state buffer by name, plus "step" (see `OptimizerState`), for checkpoints.
    var state: [String: Tensor] { get }
    /// Restores state saved from `state` by an optimizer of the same kind, options and size; after it,
    /// steps continue bit-identically. Throws a one-line message (names, sizes) and changes nothing on error.
    func loadState(_ state: [String: Tensor], step: Int) throws
}

extension Optimizer {
    /// `step` over two tensors (e.g. an arena's values and gradients), which must both hold `parameterCount` floats.
    public func step(parameters: Tensor, gradients: Tensor, learningRate: Float) {
        precondition(parameters.count == gradients.count, "optimizer step: \(parameters.count) parameters but \(gradients.count) gradients")
        step(parameters: parameters.pointer, gradients: gradients.pointer, count: parameters.count, learningRate: learningRate)
    }

    /// Restores from a snapshot that carries its own "step" entry (as `state` produces).
    public func loadState(_ state: [String: Tensor]) throws {
        try loadState(state, step: OptimizerState.step(in: state))
    }
}
