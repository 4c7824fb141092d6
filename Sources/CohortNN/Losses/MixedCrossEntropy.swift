import Cohort
import Foundation

extension Tape {
    /// Mean softmax cross-entropy of logits [B, K] against mixed labels (mixup and CutMix training
    /// on hard labels): per row -(w log q[a] + (1 - w) log q[b]), gradient (q - target) / B.
    /// Equals `softmaxCrossEntropy(logits, labels:)` when every weight is 1.
    public func softmaxCrossEntropy(_ logits: Var, mixed labels: MixedLabels) throws -> Var {
        guard logits.shape.count == 2, logits.shape[0] == labels.count else {
            throw CohortError.shape(op: "softmaxCrossEntropy", detail: "logits \(shapeString(logits.shape)) for \(labels.count) mixed labels")
        }
        try labels.check(classes: logits.shape[1], op: "softmaxCrossEntropy", allowUnlabelled: false)
        let rg = needsGrad(logits)
        let n = node(MixedCrossEntropyNode.self, reusable: { $0.shape == logits.shape && $0.output.requiresGrad == rg }) {
            MixedCrossEntropyNode(shape: logits.shape, requiresGrad: rg)
        }
        n.logits = logits
        n.labels.assign(labels)
        n.forward()
        noteInput(logits)
        return n.output
    }
}

final class MixedCrossEntropyNode: TapeNode {
    let shape: [Int]
    var logits: Var
    /// The node's own copy of the batch's labels (see `MixedLabels.assign`).
    var labels: MixedLabels
    let output: Var
    let logProbs: Tensor

    init(shape: [Int], requiresGrad: Bool) {
        self.shape = shape
        logits = Var(Tensor(zeros: [0]))
        labels = MixedLabels([Int32](repeating: 0, count: shape[0]))
        output = Var(output: [], requiresGrad: requiresGrad)
        logProbs = Tensor(zeros: shape)
    }

    func forward() {
        let (b, k) = (shape[0], shape[1])
        let z = logits.value.pointer, lp = logProbs.pointer
        var total = 0.0
        for r in 0..<b {
            Softmax.row(z + r * k, lp + r * k, k, log: true)
            total += MixedTarget.loss(lp + r * k, labels, row: r)
        }
        output.value.pointer[0] = Float(total / Double(Swift.max(b, 1)))
    }

    func backward() {
        guard logits.requiresGrad else { return }
        let (b, k) = (shape[0], shape[1])
        let g = output.grad!.pointer[0] / Float(Swift.max(b, 1))
        for r in 0..<b { MixedTarget.addGradient(logits.grad!.pointer + r * k, logProbs.pointer + r * k, k, labels, row: r, scale: g) }
    }
}
