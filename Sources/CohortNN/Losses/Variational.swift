import Cohort
import Foundation

/// The pieces of a variational autoencoder's objective (Kingma & Welling 2014), each a fused node:
/// the reparameterised sample, the KL term against N(0, I), and the Bernoulli reconstruction term.
extension Tape {
    /// z = mean + exp(logVariance / 2) * noise, with `noise` [B, Z] drawn from N(0, 1) by the
    /// caller: the sample is differentiable in the mean and log-variance (the reparameterisation
    /// trick). Gradients: dz/dmean = 1, dz/dlogVariance = exp(logVariance / 2) noise / 2.
    public func reparameterize(mean: Var, logVariance: Var, noise: Tensor) throws -> Var {
        guard mean.shape.count == 2, mean.shape == logVariance.shape, mean.shape == noise.shape else {
            throw CohortError.shape(op: "reparameterize", detail: "mean \(shapeString(mean.shape)), log-variance \(shapeString(logVariance.shape)), noise \(shapeString(noise.shape))")
        }
        let rg = needsGrad(mean, logVariance)
        let n = node(ReparameterizeNode.self, reusable: { $0.output.shape == mean.shape && $0.output.requiresGrad == rg }) {
            ReparameterizeNode(shape: mean.shape, requiresGrad: rg)
        }
        n.mean = mean; n.logVariance = logVariance; n.noise = noise
        n.forward()
        noteInput(mean); noteInput(logVariance)
        return n.output
    }

    /// KL(N(mean, exp(logVariance)) || N(0, I)) summed over the latent axis, averaged over the
    /// batch: -1/2 sum_j (1 + lv_j - mean_j^2 - exp(lv_j)). Gradients: mean / B and
    /// (exp(lv) - 1) / (2 B).
    public func gaussianKL(mean: Var, logVariance: Var) throws -> Var {
        guard mean.shape.count == 2, mean.shape == logVariance.shape else {
            throw CohortError.shape(op: "gaussianKL", detail: "mean \(shapeString(mean.shape)), log-variance \(shapeString(logVariance.shape))")
        }
        let rg = needsGrad(mean, logVariance)
        let n = node(GaussianKLNode.self, reusable: { $0.output.requiresGrad == rg }) { GaussianKLNode(requiresGrad: rg) }
        n.mean = mean; n.logVariance = logVariance
        n.forward()
        noteInput(mean); noteInput(logVariance)
        return n.output
    }

    /// Binary cross-entropy of sigmoid(logits) against targets in [0, 1] [B, D], summed over the
    /// values and averaged over the batch (the negative Bernoulli log-likelihood of a decoder),
    /// computed stably as max(l, 0) - t l + log(1 + exp(-|l|)). Gradient (sigmoid(l) - t) / B.
    public func bernoulliCrossEntropy(logits: Var, targets: Tensor) throws -> Var {
        guard logits.shape.count == 2, logits.shape[0] == targets.shape[0], logits.value.count == targets.count else {
            throw CohortError.shape(op: "bernoulliCrossEntropy", detail: "logits \(shapeString(logits.shape)) vs targets \(shapeString(targets.shape))")
        }
        let rg = needsGrad(logits)
        let n = node(BernoulliCrossEntropyNode.self, reusable: { $0.output.requiresGrad == rg }) { BernoulliCrossEntropyNode(requiresGrad: rg) }
        n.logits = logits; n.targets = targets
        n.forward()
        noteInput(logits)
        return n.output
    }
}

final class ReparameterizeNode: TapeNode {
    var mean = Var(Tensor(zeros: [0]))
    var logVariance = Var(Tensor(zeros: [0]))
    var noise = Tensor(zeros: [0])
    let output: Var

    init(shape: [Int], requiresGrad: Bool) { output = Var(output: shape, requiresGrad: requiresGrad) }

    func forward() {
        let m = mean.value.pointer, lv = logVariance.value.pointer, e = noise.pointer, z = output.value.pointer
        for i in 0..<noise.count { z[i] = m[i] + Foundation.exp(0.5 * lv[i]) * e[i] }
    }

    func backward() {
        let gz = output.grad!.pointer, n = noise.count
        if mean.requiresGrad {
            let gm = mean.grad!.pointer
            for i in 0..<n { gm[i] += gz[i] }
        }
        if logVariance.requiresGrad {
            let lv = logVariance.value.pointer, e = noise.pointer, gl = logVariance.grad!.pointer
            for i in 0..<n { gl[i] += gz[i] * 0.5 * Foundation.exp(0.5 * lv[i]) * e[i] }
        }
    }
}

final class GaussianKLNode: TapeNode {
    var mean = Var(Tensor(zeros: [0]))
    var logVariance = Var(Tensor(zeros: [0]))
    let output: Var

    init(requiresGrad: Bool) { output = Var(output: [], requiresGrad: requiresGrad) }

    var batch: Int { Swift.max(mean.shape[0], 1) }

    func forward() {
        let m = mean.value.pointer, lv = logVariance.value.pointer
        var total = 0.0
        for i in 0..<mean.value.count {
            total += Double(1 + lv[i] - m[i] * m[i] - Foundation.exp(lv[i]))
        }
        output.value.pointer[0] = Float(-0.5 * total / Double(batch))
    }

    func backward() {
        let g = output.grad!.pointer[0] / Float(batch), n = mean.value.count
        if mean.requiresGrad {
            let m = mean.value.pointer, gm = mean.grad!.pointer
            for i in 0..<n { gm[i] += g * m[i] }
        }
        if logVariance.requiresGrad {
            let lv = logVariance.value.pointer, gl = logVariance.grad!.pointer
            for i in 0..<n { gl[i] += g * 0.5 * (Foundation.exp(lv[i]) - 1) }
        }
    }
}

final class BernoulliCrossEntropyNode: TapeNode {
    var logits = Var(Tensor(zeros: [0]))
    var targets = Tensor(zeros: [0])
    let output: Var

    init(requiresGrad: Bool) { output = Var(output: [], requiresGrad: requiresGrad) }

    var batch: Int { Swift.max(logits.shape[0], 1) }

    func forward() {
        let l = logits.value.pointer, t = targets.pointer
        var total = 0.0
        for i in 0..<targets.count {
            let x = l[i]
            total += Double(Swift.max(x, 0) - t[i] * x + Foundation.log1p(Foundation.exp(-abs(x))))
        }
        output.value.pointer[0] = Float(total / Double(batch))
    }

    func backward() {
        guard logits.requiresGrad else { return }
        let g = output.grad!.pointer[0] / Float(batch)
        let l = logits.value.pointer, t = targets.pointer, gl = logits.grad!.pointer
        for i in 0..<targets.count { gl[i] += g * (1 / (1 + Foundation.exp(-l[i])) - t[i]) }
    }
}
