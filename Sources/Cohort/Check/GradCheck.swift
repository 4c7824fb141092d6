/// Compares autodiff gradients with centred finite differences.
///
/// The scalar checked is L = sum(w * f(x)) for a fixed random w, accumulated in Float64 so that
/// the difference of two nearby losses is not lost to Float32 rounding.
public struct GradCheck {
    public struct Result: Sendable {
        public let name: String
        /// Worst |analytic - numeric| / max(|analytic|, |numeric|, floor) over all input elements
        /// (with `tensorScaledFloor`, the floor is at least the largest |numeric| of that tensor).
        public let worstRelativeError: Double
        public let elements: Int
    }

    public let name: String
    public let inputs: [Tensor]
    /// Leaves owned elsewhere (a layer's weights): perturbed in place, their gradients compared too.
    public let parameters: [Var]
    public let function: (Tape, [Var]) throws -> Var
    public var epsilon: Float = 1e-2
    public var floor: Double = 1e-2
    /// Measure each element's error against its tensor's largest gradient: for bf16 products,
    /// whose rounding error is relative to the terms summed, not to a sum that cancels to near zero.
    public var tensorScaledFloor = false

    public init(_ name: String, inputs: [Tensor], parameters: [Var] = [], epsilon: Float = 1e-2,
                _ function: @escaping (Tape, [Var]) throws -> Var) {
        self.name = name
        self.inputs = inputs
        self.parameters = parameters
        self.epsilon = epsilon
        self.function = function
    }

    public func run(seed: UInt64 = 7) throws -> Result {
        let xs = inputs.map { $0.copy() }
        let leaves = xs.map { Var($0, requiresGrad: true) }
        for p in parameters { p.zeroGrad() }
        let tape = Tape()
        tape.reset()
        let y = try function(tape, leaves)
        var rng = RandomStream(seed: seed)
        let w = Tensor(zeros: y.shape)
        rng.fillUniform(w, -1, 1)
        try tape.backward(y, seed: w)
        let analytic = leaves.map { $0.grad!.copy() } + parameters.map { $0.grad!.copy() }

        func loss() throws -> Double {
            let t = Tape(recording: false)
            t.reset()
            let out = try function(t, xs.map { Var($0) })
            var s = 0.0
            for i in 0..<out.value.count { s += Double(out.value.pointer[i]) * Double(w.pointer[i]) }
            return s
        }

        var worst = 0.0, elements = 0
        for (x, g) in zip(xs + parameters.map(\.value), analytic) {
            var numerics = [Double](repeating: 0, count: x.count)
            for j in 0..<x.count {
                let saved = x.pointer[j]
                x.pointer[j] = saved + epsilon
                let plus = try loss()
                x.pointer[j] = saved - epsilon
                let minus = try loss()
                x.pointer[j] = saved
                // The step actually taken in Float32, not the nominal 2 * epsilon.
                let h = Double(saved + epsilon) - Double(saved - epsilon)
                numerics[j] = (plus - minus) / h
            }
            let tensorFloor = tensorScaledFloor ? numerics.map(abs).max() ?? 0 : 0
            for (j, numeric) in numerics.enumerated() {
                let a = Double(g.pointer[j])
                let err = abs(a - numeric) / Swift.max(abs(a), abs(numeric), floor, tensorFloor)
                if !(err <= worst) { worst = err.isNaN ? .infinity : err }
                elements += 1
            }
        }
        return Result(name: name, worstRelativeError: worst, elements: elements)
    }
}
