import Cohort

/// Gradient checks for every layer and loss; `cohort gradcheck` and the tests run these.
public enum LayerChecks {
    static func random(_ shape: [Int], _ rng: inout RandomStream, _ low: Float = -1, _ high: Float = 1) -> Tensor {
        let t = Tensor(zeros: shape)
        for i in 0..<t.count {
            var v = rng.uniform(low, high)
            while abs(v) < 0.05 { v = rng.uniform(low, high) }
            t.pointer[i] = v
        }
        return t
    }

    /// A check of `layer` on input `x`: the input and every trainable parameter are compared.
    /// `precision` is that of the autodiff pass (the recording tape); the finite differences are
    /// always of the fp32 function, since a bf16 forward is a step function at the scale of epsilon.
    static func layer(_ name: String, _ layer: Layer, input: Tensor, training: Bool = true, precision: MatmulPrecision = .fp32,
                      convolution: ConvolutionPath? = nil, rng: inout RandomStream) -> GradCheck {
        for (_, p) in layer.namedParameters() { try! p.value.assign(random(p.shape, &rng, -0.8, 0.8)) }  // same shape by construction
        let params = layer.namedParameters().map(\.1.variable)
        return GradCheck(name, inputs: [input], parameters: params) { tape, v in
            // The same dropout mask in every evaluation: a fresh context with a fixed stream.
            let ctx = ForwardContext(tape: tape, training: training, rng: RandomStream(seed: 5))
            ctx.precision = tape.isRecording ? precision : .fp32
            ctx.convolution = convolution
            return try layer.forward(v[0], ctx)
        }
    }

    /// Worst error a bf16 check may show, relative to the largest gradient of each tensor
    /// (`GradCheck.tensorScaledFloor`): each operand of a product is rounded to 8 significant bits
    /// (relative error up to 2^-9 each, about 2^-8 per term), and a sum that cancels to near zero
    /// keeps the error of its terms, so elementwise relative error means nothing there. Measured
    /// worst over these checks: 1.8e-3 to 3.7e-3, about 2^-8 (`cohort gradcheck --precision bf16`);
    /// the tolerance is 4x that, while an fp32 pass shows about 1e-5 and a wrong gradient O(1).
    public static let bf16Tolerance = 1.5e-2

    /// The layers whose products run in bf16 (Linear, Conv2d, and models of them), checked with their
    /// autodiff pass at `precision` (bf16, or bf16 emulated).
    public static func products(precision: MatmulPrecision, seed: UInt64 = 2) -> [GradCheck] {
        var r = RandomStream(seed: seed)
        func rnd(_ s: [Int], _ lo: Float = -1, _ hi: Float = 1) -> Tensor { random(s, &r, lo, hi) }
        let p = precision
        let checks = [
            layer("Linear [\(p.rawValue)]", Linear(4, 3), input: rnd([5, 4]), precision: p, rng: &r),
            layer("Linear (no bias) [\(p.rawValue)]", Linear(4, 3, bias: false), input: rnd([2, 4]), precision: p, rng: &r),
            layer("Linear (32 -> 16) [\(p.rawValue)]", Linear(32, 16), input: rnd([6, 32]), precision: p, rng: &r),
            layer("Conv2d (3x3, pad 1) [\(p.rawValue)]", Conv2d(2, 3, kernel: (3, 3), padding: (1, 1)), input: rnd([2, 2, 5, 4]), precision: p, rng: &r),
            layer("Conv2d (2x3, stride 2) [\(p.rawValue)]", Conv2d(1, 2, kernel: (2, 3), stride: (2, 2)), input: rnd([2, 1, 6, 7]), precision: p, rng: &r),
            layer("Conv2d (6 -> 4, 3x3) [\(p.rawValue)]", Conv2d(6, 4, kernel: (3, 3)), input: rnd([2, 6, 5, 5]), precision: p, rng: &r),
            layer("Sequential MLP [\(p.rawValue)]", Sequential([Linear(6, 5), Activation(.tanh), Linear(5, 3)]), input: rnd([4, 6]), precision: p, rng: &r),
        ]
        return checks.map(tensorScaled)
    }

    /// `check` with its errors taken against each tensor's largest gradient (`GradCheck.tensorScaledFloor`).
    static func tensorScaled(_ check: GradCheck) -> GradCheck {
        var c = check
        c.tensorScaledFloor = true
        return c
    }

    /// The checks with convolutions, on one path (named in brackets): `all` runs them on each.
    static func convolutions(_ path: ConvolutionPath, _ r: inout RandomStream) -> [GradCheck] {
        func rnd(_ s: [Int]) -> Tensor { random(s, &r) }
        func conv(_ i: Int, _ o: Int, _ k: Int, stride: Int = 1, bias: Bool = true) -> Conv2d {
            Conv2d(i, o, kernel: (k, k), stride: (stride, stride), padding: (k / 2, k / 2), bias: bias)
        }
        let p = path.rawValue
        return [
            layer("Conv2d (3x3, pad 1) [\(p)]", Conv2d(2, 3, kernel: (3, 3), padding: (1, 1)), input: rnd([2, 2, 5, 4]), convolution: path, rng: &r),
            layer("Conv2d (2x3, stride 2) [\(p)]", Conv2d(1, 2, kernel: (2, 3), stride: (2, 2)), input: rnd([2, 1, 6, 7]), convolution: path, rng: &r),
            layer("Conv2d (9 -> 10, 3x3, stride 2, pad 1) [\(p)]", Conv2d(9, 10, kernel: (3, 3), stride: (2, 2), padding: (1, 1)),
                  input: rnd([2, 9, 5, 5]), convolution: path, rng: &r),
            // A whole block of 16 channels, 3x3 stride 1: the shape the winograd path runs Winograd on.
            // Its sums of 144 products round the finite differences of the smallest gradients to
            // 0.6-1.4e-2 of themselves on every path, so errors are taken against each tensor's largest.
            tensorScaled(layer("Conv2d (16 -> 16, 3x3, pad 1) [\(p)]", Conv2d(16, 16, kernel: (3, 3), padding: (1, 1)),
                               input: rnd([2, 16, 5, 6]), convolution: path, rng: &r)),
            // Residual blocks: x reaches the sum through the body and the shortcut, so its gradient is
            // the sum of both. Tanh rather than ReLU: no kink for a finite difference to straddle.
            layer("Residual (identity shortcut) [\(p)]", Residual(body: Sequential([conv(2, 2, 3), Activation(.tanh), conv(2, 2, 3)])),
                  input: rnd([2, 2, 4, 4]), convolution: path, rng: &r),
            layer("Residual (1x1 projection, stride 2) [\(p)]",
                  Residual(body: Sequential([conv(2, 3, 3, stride: 2), BatchNorm(features: 3, spatial: true), Activation(.tanh), conv(3, 3, 3)]),
                           projection: conv(2, 3, 1, stride: 2, bias: false)),
                  input: rnd([3, 2, 5, 5]), convolution: path, rng: &r),
        ]
    }

    public static func all(seed: UInt64 = 2) -> [GradCheck] {
        var r = RandomStream(seed: seed)
        func rnd(_ s: [Int], _ lo: Float = -1, _ hi: Float = 1) -> Tensor { random(s, &r, lo, hi) }
        var checks: [GradCheck] = []

        checks.append(layer("Linear", Linear(4, 3), input: rnd([5, 4]), rng: &r))
        checks.append(layer("Linear (no bias)", Linear(4, 3, bias: false), input: rnd([2, 4]), rng: &r))
        for path in ConvolutionPath.available { checks += convolutions(path, &r) }
        let distinct = Tensor(zeros: [2, 2, 4, 6])
        var order = Array(0..<distinct.count)
        r.shuffle(&order)
        for i in 0..<distinct.count { distinct.pointer[i] = Float(order[i]) * 0.05 - 2 }
        checks.append(layer("MaxPool2d (2x2)", Pool2d(.max, window: (2, 2)), input: distinct, rng: &r))
        checks.append(layer("MaxPool2d (3x3, stride 1)", Pool2d(.max, window: (3, 3), stride: (1, 1)), input: distinct, rng: &r))
        checks.append(layer("AvgPool2d (2x2)", Pool2d(.average, window: (2, 2)), input: rnd([2, 3, 4, 4]), rng: &r))
        checks.append(layer("Flatten", Sequential([Flatten(), Linear(12, 2)]), input: rnd([2, 3, 2, 2]), rng: &r))
        checks.append(layer("Dropout (training)", Dropout(0.4), input: rnd([4, 5]), rng: &r))
        checks.append(layer("Dropout (eval)", Dropout(0.4), input: rnd([4, 5]), training: false, rng: &r))
        checks.append(layer("BatchNorm1d (training)", BatchNorm(features: 3, spatial: false), input: rnd([6, 3]), rng: &r))
        checks.append(layer("BatchNorm2d (training)", BatchNorm(features: 2, spatial: true), input: rnd([3, 2, 2, 3]), rng: &r))
        // Rows of 3 x 5: one vector of 8 and a tail of 7 on the vector paths (the rows above are all tail).
        checks.append(layer("BatchNorm2d (training, rows of 15)", BatchNorm(features: 3, spatial: true), input: rnd([2, 3, 3, 5]), rng: &r))
        checks.append(layer("BatchNorm2d (eval)", BatchNorm(features: 2, spatial: true), input: rnd([3, 2, 2, 3]), training: false, rng: &r))
        checks.append(layer("ReLU", Activation(.relu), input: rnd([3, 4]), rng: &r))
        checks.append(layer("LeakyReLU", Activation(.leakyRelu(slope: 0.2)), input: rnd([3, 4]), rng: &r))
        checks.append(layer("Sigmoid", Activation(.sigmoid), input: rnd([3, 4], -3, 3), rng: &r))
        checks.append(layer("Tanh", Activation(.tanh), input: rnd([3, 4], -2, 2), rng: &r))
        checks.append(layer("Softplus", Activation(.softplus), input: rnd([3, 4], -3, 3), rng: &r))
        checks.append(layer("Softmax", SoftmaxLayer(), input: rnd([3, 4], -2, 2), rng: &r))
        checks.append(layer("Maxout (3 pieces)", Maxout(4, 2, pieces: 3), input: rnd([3, 4]), rng: &r))
        checks.append(layer("Sequential MLP", Sequential([Linear(6, 5), Activation(.tanh), Linear(5, 3)]), input: rnd([4, 6]), rng: &r))
        checks.append(layer("LayerNorm (features)", LayerNorm(normalizedShape: [5]), input: rnd([3, 5]), rng: &r))
        checks.append(layer("LayerNorm (channels, height, width)", LayerNorm(normalizedShape: [2, 2, 3]), input: rnd([3, 2, 2, 3]), rng: &r))
        checks.append(layer("GlobalAvgPool", GlobalAvgPool(), input: rnd([2, 3, 3, 4]), rng: &r))
        let inner = Residual(body: Sequential([Linear(4, 4), Activation(.tanh), Linear(4, 4)]))
        checks.append(layer("Residual (nested, linear projection)",
                            Residual(body: Sequential([inner, Activation(.tanh), Linear(4, 3)]), projection: Linear(4, 3, bias: false)),
                            input: rnd([3, 4]), rng: &r))

        let labels: [Int32] = [2, 0, 1, 2]
        checks.append(GradCheck("softmaxCrossEntropy", inputs: [rnd([4, 3], -2, 2)]) { t, v in
            try t.softmaxCrossEntropy(v[0], labels: labels)
        })
        checks.append(GradCheck("softmaxCrossEntropy (smoothing 0.1)", inputs: [rnd([4, 3], -2, 2)]) { t, v in
            try t.softmaxCrossEntropy(v[0], labels: labels, labelSmoothing: 0.1)
        })
        let target = rnd([3, 4])
        checks.append(GradCheck("meanSquaredError", inputs: [rnd([3, 4])]) { t, v in try t.meanSquaredError(v[0], target: target) })
        let teacher = Tensor(zeros: [4, 5])
        try! Tape.softTargets(logits: rnd([4, 5], -3, 3), temperature: 3, into: teacher)
        checks.append(GradCheck("klDivergence (T = 3)", inputs: [rnd([4, 5], -3, 3)]) { t, v in
            try t.klDivergence(studentLogits: v[0], teacherProbabilities: teacher, temperature: 3)
        })
        // Rows 1 and 3 have no label (alpha is 1 there).
        checks.append(GradCheck("distillationLoss (T = 3, alpha = 0.7)", inputs: [rnd([4, 5], -3, 3)]) { t, v in
            try t.distillationLoss(studentLogits: v[0], teacherProbabilities: teacher, labels: [2, -1, 4, -1], temperature: 3, alpha: 0.7)
        })
        checks.append(GradCheck("distillationLoss (T = 1, alpha = 0.2)", inputs: [rnd([4, 5], -3, 3)]) { t, v in
            try t.distillationLoss(studentLogits: v[0], teacherProbabilities: teacher, labels: [0, 1, 2, 3], temperature: 1, alpha: 0.2)
        })
        // Mixup and CutMix: row 0 blends classes 2 and 4, row 2 is unmixed, row 3 blends a class with itself.
        let mixed = MixedLabels(first: [2, 0, 1, 3], second: [4, 1, 1, 3], weight: [0.3, 0.8, 1, 0.5])
        checks.append(GradCheck("softmaxCrossEntropy (mixed labels)", inputs: [rnd([4, 5], -2, 2)]) { t, v in
            try t.softmaxCrossEntropy(v[0], mixed: mixed)
        })
        checks.append(GradCheck("distillationLoss (T = 2, alpha = 0.6, mixed labels)", inputs: [rnd([4, 5], -3, 3)]) { t, v in
            try t.distillationLoss(studentLogits: v[0], teacher: teacher, matching: .kl(temperature: 2), labels: mixed, alpha: 0.6)
        })
        let teacherLogits = rnd([4, 5], -3, 3)
        let partlyLabelled = MixedLabels(first: [2, -1, 1, 3], second: [4, -1, 1, 0], weight: [0.3, 1, 1, 0.7])
        checks.append(GradCheck("distillationLoss (logit_mse, alpha = 0.6)", inputs: [rnd([4, 5], -3, 3)]) { t, v in
            try t.distillationLoss(studentLogits: v[0], teacher: teacherLogits, matching: .logitMSE, labels: partlyLabelled, alpha: 0.6)
        })
        checks.append(GradCheck("distillationLoss (logit_mse, alpha = 1)", inputs: [rnd([4, 5], -3, 3)]) { t, v in
            try t.distillationLoss(studentLogits: v[0], teacher: teacherLogits, matching: .logitMSE, labels: partlyLabelled, alpha: 1)
        })

        // The variational autoencoder's objective: each piece, then the whole negative ELBO
        // through a small encoder and decoder (inputs and every weight compared).
        let noise = rnd([3, 2])
        checks.append(GradCheck("reparameterize", inputs: [rnd([3, 2]), rnd([3, 2], -1.5, 1)]) { t, v in
            try t.reparameterize(mean: v[0], logVariance: v[1], noise: noise)
        })
        checks.append(GradCheck("gaussianKL", inputs: [rnd([3, 2]), rnd([3, 2], -1.5, 1)]) { t, v in
            try t.gaussianKL(mean: v[0], logVariance: v[1])
        })
        let pixels = rnd([3, 4], 0, 1)
        checks.append(GradCheck("bernoulliCrossEntropy", inputs: [rnd([3, 4], -3, 3)]) { t, v in
            try t.bernoulliCrossEntropy(logits: v[0], targets: pixels)
        })
        let vae = VariationalAutoencoder(valueCount: 4, hidden: 3, latent: 2, activation: .tanh)
        for (_, p) in vae.namedParameters() { try! p.value.assign(random(p.shape, &r, -0.8, 0.8)) }  // same shape by construction
        _ = GradientArena(for: vae.parameters)  // its weights live in an arena, which needs gradient memory to train
        // The images are the reconstruction's targets too, so they are data here, not a checked input.
        let images = Var(rnd([3, 4], 0, 1))
        checks.append(GradCheck("VAE loss (reparameterisation, KL term)", inputs: [], parameters: vae.namedParameters().map(\.1.variable)) { t, _ in
            try vae.loss(images, noise: noise, ForwardContext(tape: t, training: true)).loss
        })
        return checks
    }
}
