/// The gradient checks for every op of the core; `cohort gradcheck` and the tests run these.
public enum OpChecks {
    /// Uniform values in [low, high), kept at least `gap` away from zero (ReLU's and abs' kinks).
    static func random(_ shape: [Int], _ rng: inout RandomStream, _ low: Float = -1, _ high: Float = 1, gap: Float = 0.05) -> Tensor {
        let t = Tensor(zeros: shape)
        for i in 0..<t.count {
            var v = rng.uniform(low, high)
            while abs(v) < gap { v = rng.uniform(low, high) }
            t.pointer[i] = v
        }
        return t
    }

    /// Distinct values spaced well apart in random order, so max has no ties within a step.
    static func distinct(_ shape: [Int], _ rng: inout RandomStream) -> Tensor {
        let t = Tensor(zeros: shape)
        var order = Array(0..<t.count)
        rng.shuffle(&order)
        for i in 0..<t.count { t.pointer[i] = Float(order[i]) * 0.1 - Float(t.count) * 0.05 }
        return t
    }

    public static func all(seed: UInt64 = 1) -> [GradCheck] {
        var r = RandomStream(seed: seed)
        func rnd(_ s: [Int], _ lo: Float = -1, _ hi: Float = 1) -> Tensor { random(s, &r, lo, hi) }
        var checks: [GradCheck] = []
        func add(_ name: String, _ inputs: [Tensor], eps: Float = 1e-2, _ f: @escaping (Tape, [Var]) throws -> Var) {
            checks.append(GradCheck(name, inputs: inputs, epsilon: eps, f))
        }

        add("add", [rnd([3, 4]), rnd([3, 4])]) { t, v in try t.add(v[0], v[1]) }
        add("add (broadcast row)", [rnd([3, 4]), rnd([4])]) { t, v in try t.add(v[0], v[1]) }
        add("add (broadcast both)", [rnd([3, 1]), rnd([1, 4])]) { t, v in try t.add(v[0], v[1]) }
        add("sub (broadcast)", [rnd([2, 3, 4]), rnd([3, 1])]) { t, v in try t.sub(v[0], v[1]) }
        add("sub (scalar)", [rnd([1]), rnd([2, 3])]) { t, v in try t.sub(v[0], v[1]) }
        add("mul", [rnd([3, 4]), rnd([3, 4])]) { t, v in try t.mul(v[0], v[1]) }
        add("mul (broadcast)", [rnd([2, 3, 4]), rnd([1, 3, 1])]) { t, v in try t.mul(v[0], v[1]) }
        add("div", [rnd([3, 4]), rnd([3, 4], 0.5, 2)]) { t, v in try t.div(v[0], v[1]) }
        add("div (broadcast)", [rnd([3, 4]), rnd([4], 0.5, 2)]) { t, v in try t.div(v[0], v[1]) }
        add("affine", [rnd([5])]) { t, v in t.affine(v[0], scale: -1.5, shift: 0.25) }
        add("reuse (x*x + x)", [rnd([4])]) { t, v in try t.add(t.mul(v[0], v[0]), v[0]) }

        add("relu", [rnd([4, 5])]) { t, v in t.relu(v[0]) }
        add("leakyRelu", [rnd([4, 5])]) { t, v in t.leakyRelu(v[0], slope: 0.1) }
        add("sigmoid", [rnd([4, 5], -4, 4)]) { t, v in t.sigmoid(v[0]) }
        add("tanh", [rnd([4, 5], -2, 2)]) { t, v in t.tanh(v[0]) }
        add("exp", [rnd([4, 5])]) { t, v in t.exp(v[0]) }
        add("log", [rnd([4, 5], 0.5, 3)]) { t, v in t.log(v[0]) }
        add("softplus", [rnd([4, 5], -4, 4)]) { t, v in t.softplus(v[0]) }
        add("neg", [rnd([4])]) { t, v in t.neg(v[0]) }
        add("square", [rnd([4])]) { t, v in t.square(v[0]) }
        add("sqrt", [rnd([4], 0.5, 3)]) { t, v in t.sqrt(v[0]) }

        add("matmul", [rnd([3, 4]), rnd([4, 5])]) { t, v in try t.matmul(v[0], v[1]) }
        add("matmul (A^T)", [rnd([4, 3]), rnd([4, 5])]) { t, v in try t.matmul(v[0], v[1], transposeA: true) }
        add("matmul (B^T)", [rnd([3, 4]), rnd([5, 4])]) { t, v in try t.matmul(v[0], v[1], transposeB: true) }
        add("matmul (A^T B^T)", [rnd([4, 3]), rnd([5, 4])]) { t, v in try t.matmul(v[0], v[1], transposeA: true, transposeB: true) }
        add("matmul (batched)", [rnd([2, 3, 4]), rnd([2, 4, 5])]) { t, v in try t.matmul(v[0], v[1]) }
        add("matmul (batched x shared)", [rnd([2, 3, 4]), rnd([4, 5])]) { t, v in try t.matmul(v[0], v[1]) }
        add("matmul (shared x batched, B^T)", [rnd([3, 4]), rnd([2, 5, 4])]) { t, v in try t.matmul(v[0], v[1], transposeB: true) }

        add("sum (axis 0)", [rnd([3, 4])]) { t, v in try t.sum(v[0], axis: 0) }
        add("sum (axis 1, keepDims)", [rnd([2, 3, 4])]) { t, v in try t.sum(v[0], axis: 1, keepDims: true) }
        add("sum (all)", [rnd([3, 4])]) { t, v in try t.sum(v[0]) }
        add("mean (axis -1)", [rnd([3, 4])]) { t, v in try t.mean(v[0], axis: -1) }
        add("mean (all)", [rnd([3, 4])]) { t, v in try t.mean(v[0]) }
        add("max (axis 1)", [distinct([3, 5], &r)]) { t, v in try t.max(v[0], axis: 1) }
        add("max (axis 0, keepDims)", [distinct([4, 3], &r)]) { t, v in try t.max(v[0], axis: 0, keepDims: true) }

        add("softmax (last axis)", [rnd([3, 5], -3, 3)]) { t, v in try t.softmax(v[0]) }
        add("softmax (axis 0)", [rnd([4, 3], -3, 3)]) { t, v in try t.softmax(v[0], axis: 0) }
        add("logSoftmax (last axis)", [rnd([3, 5], -3, 3)]) { t, v in try t.logSoftmax(v[0]) }
        add("logSoftmax (axis 1 of 3)", [rnd([2, 4, 3], -3, 3)]) { t, v in try t.logSoftmax(v[0], axis: 1) }

        add("reshape", [rnd([2, 6])]) { t, v in try t.mul(t.reshape(v[0], [3, -1]), t.reshape(v[0], [3, 4])) }
        add("im2col (3x3, pad 1)", [rnd([2, 2, 4, 5])]) { t, v in try t.im2col(v[0], kernel: (3, 3), padding: (1, 1)) }
        add("im2col (2x3, stride 2)", [rnd([1, 3, 5, 6])]) { t, v in try t.im2col(v[0], kernel: (2, 3), stride: (2, 2)) }
        add("conv as im2col + matmul", [rnd([2, 2, 4, 4]), rnd([3, 18])]) { t, v in
            try t.matmul(v[1], t.im2col(v[0], kernel: (3, 3), padding: (1, 1)))
        }
        return checks
    }
}
