import Cohort
import Foundation

extension Tape {
    /// Knowledge distillation (Hinton, Vinyals & Dean 2015), fused: the mean over the batch of
    ///   alpha * T^2 * KL(p || softmax(s / T)) + (1 - alpha) * CE(softmax(s), label)   for labelled rows,
    ///   T^2 * KL(p || softmax(s / T))                                              for unlabelled rows,
    /// where p [B, K] are the teacher's probabilities at temperature T and a label of -1 marks a row
    /// without one (MUNGE points, unlabelled images: alpha is 1 there). T^2 keeps the soft term's
    /// gradient, (q_T - p) * T / B, the same size as T changes.
    public func distillationLoss(studentLogits: Var, teacherProbabilities p: Tensor, labels: [Int32],
                                 temperature: Float, alpha: Float) throws -> Var {
        guard studentLogits.shape.count == 2, studentLogits.shape == p.shape, labels.count == p.shape[0] else {
            throw CohortError.shape(op: "distillationLoss", detail: "student logits \(shapeString(studentLogits.shape)), teacher probabilities \(shapeString(p.shape)), \(labels.count) labels")
        }
        guard temperature > 0, temperature.isFinite else {
            throw CohortError.invalid("distillationLoss: temperature must be positive, got \(temperature)")
        }
        guard alpha >= 0, alpha <= 1 else { throw CohortError.invalid("distillationLoss: alpha must be in [0, 1], got \(alpha)") }
        let k = p.shape[1]
        if let bad = labels.first(where: { $0 < -1 || Int($0) >= k }) {
            throw CohortError.invalid("distillationLoss: label \(bad) outside 0..<\(k) (or -1 for none)")
        }
        let rg = needsGrad(studentLogits)
        let n = node(DistillationNode.self, reusable: { $0.shape == studentLogits.shape && $0.output.requiresGrad == rg }) {
            DistillationNode(shape: studentLogits.shape, requiresGrad: rg)
        }
        n.student = studentLogits; n.teacher = p; n.labels = labels; n.temperature = temperature; n.alpha = alpha
        n.forward()
        noteInput(studentLogits)
        return n.output
    }
}

final class DistillationNode: TapeNode {
    let shape: [Int]
    var student: Var
    var teacher = Tensor(zeros: [0])
    var labels: [Int32] = []
    var temperature: Float = 1
    var alpha: Float = 1
    let output: Var
    let logQT: Tensor  // log softmax(s / T)
    let logQ: Tensor   // log softmax(s)

    init(shape: [Int], requiresGrad: Bool) {
        self.shape = shape
        student = Var(Tensor(zeros: [0]))
        output = Var(output: [], requiresGrad: requiresGrad)
        logQT = Tensor(zeros: shape)
        logQ = Tensor(zeros: shape)
    }

    func forward() {
        let (b, k) = (shape[0], shape[1])
        let s = student.value.pointer, p = teacher.pointer
        let inv = 1 / temperature, t2 = Double(temperature * temperature)
        var total = 0.0
        for r in 0..<b {
            let lqt = logQT.pointer + r * k, row = s + r * k
            for j in 0..<k { lqt[j] = row[j] * inv }
            Softmax.row(lqt, lqt, k, log: true)
            var kl = 0.0
            for j in 0..<k {
                let pj = p[r * k + j]
                if pj > 0 { kl += Double(pj) * (Foundation.log(Double(pj)) - Double(lqt[j])) }
            }
            let label = Int(labels[r])
            if label < 0 {
                total += t2 * kl
            } else {
                let lq = logQ.pointer + r * k
                Softmax.row(row, lq, k, log: true)
                total += Double(alpha) * t2 * kl - Double(1 - alpha) * Double(lq[label])
            }
        }
        output.value.pointer[0] = Float(total / Double(Swift.max(b, 1)))
    }

    func backward() {
        guard student.requiresGrad else { return }
        let (b, k) = (shape[0], shape[1])
        let g = output.grad!.pointer[0] / Float(Swift.max(b, 1))
        let p = teacher.pointer, gs = student.grad!.pointer
        // d(T^2 KL)/ds = T (q_T - p); d CE/ds = q - onehot.
        for r in 0..<b {
            let label = Int(labels[r])
            let soft = g * temperature * (label < 0 ? 1 : alpha)
            let lqt = logQT.pointer + r * k, dst = gs + r * k, pr = p + r * k
            for j in 0..<k { dst[j] += soft * (Foundation.exp(lqt[j]) - pr[j]) }
            if label >= 0 && alpha < 1 {
                let hard = g * (1 - alpha), lq = logQ.pointer + r * k
                for j in 0..<k { dst[j] += hard * Foundation.exp(lq[j]) }
                dst[label] -= hard
            }
        }
    }
}
