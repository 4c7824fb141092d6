import Cohort
import Foundation

extension Tape {
    /// Mean softmax cross-entropy of logits [B, K] against integer labels, fused (log-softmax and
    /// NLL in one pass; gradient (softmax - target) / B). With `labelSmoothing` e the target is
    /// (1 - e) one-hot + e / K, as in PyTorch's CrossEntropyLoss(label_smoothing=e).
    public func softmaxCrossEntropy(_ logits: Var, labels: [Int32], labelSmoothing: Float = 0) throws -> Var {
        guard logits.shape.count == 2, logits.shape[0] == labels.count else {
            throw CohortError.shape(op: "softmaxCrossEntropy", detail: "logits \(shapeString(logits.shape)) for \(labels.count) labels (want [\(labels.count), classes])")
        }
        let k = logits.shape[1]
        if let bad = labels.first(where: { $0 < 0 || Int($0) >= k }) {
            throw CohortError.invalid("softmaxCrossEntropy: label \(bad) outside 0..<\(k)")
        }
        guard labelSmoothing >= 0 && labelSmoothing < 1 else {
            throw CohortError.invalid("softmaxCrossEntropy: label smoothing \(labelSmoothing) outside [0, 1)")
        }
        let rg = needsGrad(logits)
        let n = node(CrossEntropyNode.self, reusable: { $0.shape == logits.shape && $0.output.requiresGrad == rg }) {
            CrossEntropyNode(shape: logits.shape, requiresGrad: rg)
        }
        n.logits = logits; n.labels = labels; n.smoothing = labelSmoothing
        n.forward()
        noteInput(logits)
        return n.output
    }
}

final class CrossEntropyNode: TapeNode {
    let shape: [Int]
    var logits: Var
    var labels: [Int32] = []
    var smoothing: Float = 0
    let output: Var
    let logProbs: Tensor

    init(shape: [Int], requiresGrad: Bool) {
        self.shape = shape
        logits = Var(Tensor(zeros: [0]))
        output = Var(output: [], requiresGrad: requiresGrad)
        logProbs = Tensor(zeros: shape)
    }

    func forward() {
        let (b, k) = (shape[0], shape[1])
        let z = logits.value.pointer, lp = logProbs.pointer
        let onTarget = 1 - smoothing, uniform = smoothing / Float(k)
        var total = 0.0
        for r in 0..<b {
            Softmax.row(z + r * k, lp + r * k, k, log: true)
            let row = lp + r * k
            var loss = -onTarget * row[Int(labels[r])]
            if smoothing > 0 {
                var s: Float = 0
                for j in 0..<k { s += row[j] }
                loss -= uniform * s
            }
            total += Double(loss)
        }
        output.value.pointer[0] = Float(total / Double(Swift.max(b, 1)))
    }

    func backward() {
        guard logits.requiresGrad else { return }
        let (b, k) = (shape[0], shape[1])
        let g = output.grad!.pointer[0] / Float(Swift.max(b, 1))
        let lp = logProbs.pointer, gz = logits.grad!.pointer
        let onTarget = 1 - smoothing, uniform = smoothing / Float(k)
        for r in 0..<b {
            let row = lp + r * k, dst = gz + r * k
            for j in 0..<k { dst[j] += g * (Foundation.exp(row[j]) - uniform) }
            dst[Int(labels[r])] -= g * onTarget
        }
    }
}
