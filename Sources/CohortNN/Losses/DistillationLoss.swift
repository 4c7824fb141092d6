import Cohort
import Foundation

/// What a student's soft term matches of the teacher.
public enum TeacherMatching: Sendable, Equatable {
    /// T^2 KL(p || softmax(s / T)) against the teacher's probabilities p at temperature T
    /// (Hinton, Vinyals & Dean 2015): gradient T (q_T - p).
    case kl(temperature: Float)
    /// (1 / K) sum_j (s_j - z_j)^2 against the teacher's logits z (Ba & Caruana 2014): gradient
    /// 2 (s - z) / K.
    case logitMSE
}

extension Tape {
    /// Knowledge distillation, fused: the mean over the batch of
    ///   alpha * soft + (1 - alpha) * CE(softmax(s), label)   for labelled rows,
    ///   soft                                                for unlabelled rows (first label -1),
    /// where soft is the `matching` term against `teacher` [B, K] (probabilities at T, or logits)
    /// and the label may be mixed (mixup, CutMix: `MixedLabels`).
    public func distillationLoss(studentLogits: Var, teacher: Tensor, matching: TeacherMatching, labels: MixedLabels,
                                 alpha: Float) throws -> Var {
        guard studentLogits.shape.count == 2, studentLogits.shape == teacher.shape, labels.count == teacher.shape[0] else {
            throw CohortError.shape(op: "distillationLoss", detail: "student logits \(shapeString(studentLogits.shape)), teacher \(shapeString(teacher.shape)), \(labels.count) labels")
        }
        if case let .kl(temperature) = matching, !(temperature > 0 && temperature.isFinite) {
            throw CohortError.invalid("distillationLoss: temperature must be positive, got \(temperature)")
        }
        guard alpha >= 0, alpha <= 1 else { throw CohortError.invalid("distillationLoss: alpha must be in [0, 1], got \(alpha)") }
        try labels.check(classes: teacher.shape[1], op: "distillationLoss", allowUnlabelled: true)
        let rg = needsGrad(studentLogits)
        let n = node(DistillationNode.self, reusable: { $0.shape == studentLogits.shape && $0.output.requiresGrad == rg }) {
            DistillationNode(shape: studentLogits.shape, requiresGrad: rg)
        }
        n.student = studentLogits; n.teacher = teacher; n.matching = matching; n.alpha = alpha
        n.labels.assign(labels)
        n.forward()
        noteInput(studentLogits)
        return n.output
    }

    /// The KL form with plain labels (-1 for none): alpha T^2 KL(p || softmax(s / T)) + (1 - alpha) CE.
    /// T^2 keeps the soft term's gradient, (q_T - p) T / B, the same size as T changes.
    public func distillationLoss(studentLogits: Var, teacherProbabilities p: Tensor, labels: [Int32],
                                 temperature: Float, alpha: Float) throws -> Var {
        try distillationLoss(studentLogits: studentLogits, teacher: p, matching: .kl(temperature: temperature), labels: MixedLabels(labels),
                             alpha: alpha)
    }
}

final class DistillationNode: TapeNode {
    let shape: [Int]
    var student: Var
    var teacher = Tensor(zeros: [0])
    var matching = TeacherMatching.kl(temperature: 1)
    /// The node's own copy of the batch's labels (see `MixedLabels.assign`).
    var labels: MixedLabels
    var alpha: Float = 1
    let output: Var
    let logQT: Tensor  // log softmax(s / T) (kl)
    let logQ: Tensor   // log softmax(s)

    init(shape: [Int], requiresGrad: Bool) {
        self.shape = shape
        student = Var(Tensor(zeros: [0]))
        labels = MixedLabels([Int32](repeating: 0, count: shape[0]))
        output = Var(output: [], requiresGrad: requiresGrad)
        logQT = Tensor(zeros: shape)
        logQ = Tensor(zeros: shape)
    }

    func forward() {
        let (b, k) = (shape[0], shape[1])
        let s = student.value.pointer, t = teacher.pointer
        var total = 0.0
        for r in 0..<b {
            let row = s + r * k, target = t + r * k
            var soft = 0.0
            switch matching {
            case let .kl(temperature):
                let lqt = logQT.pointer + r * k, inv = 1 / temperature
                for j in 0..<k { lqt[j] = row[j] * inv }
                Softmax.row(lqt, lqt, k, log: true)
                for j in 0..<k where target[j] > 0 { soft += Double(target[j]) * (Foundation.log(Double(target[j])) - Double(lqt[j])) }
                soft *= Double(temperature * temperature)
            case .logitMSE:
                for j in 0..<k {
                    let d = Double(row[j] - target[j])
                    soft += d * d
                }
                soft /= Double(k)
            }
            if labels.first[r] < 0 {
                total += soft
            } else {
                let lq = logQ.pointer + r * k
                Softmax.row(row, lq, k, log: true)
                total += Double(alpha) * soft + Double(1 - alpha) * MixedTarget.loss(lq, labels, row: r)
            }
        }
        output.value.pointer[0] = Float(total / Double(Swift.max(b, 1)))
    }

    func backward() {
        guard student.requiresGrad else { return }
        let (b, k) = (shape[0], shape[1])
        let g = output.grad!.pointer[0] / Float(Swift.max(b, 1))
        let s = student.value.pointer, t = teacher.pointer, gs = student.grad!.pointer
        for r in 0..<b {
            let labelled = labels.first[r] >= 0
            let weight = g * (labelled ? alpha : 1)
            let dst = gs + r * k, target = t + r * k
            switch matching {
            case let .kl(temperature):  // d(T^2 KL)/ds = T (q_T - p)
                let lqt = logQT.pointer + r * k, soft = weight * temperature
                for j in 0..<k { dst[j] += soft * (Foundation.exp(lqt[j]) - target[j]) }
            case .logitMSE:  // d/ds (1/K) sum (s - z)^2 = 2 (s - z) / K
                let soft = weight * 2 / Float(k), row = s + r * k
                for j in 0..<k { dst[j] += soft * (row[j] - target[j]) }
            }
            if labelled && alpha < 1 {
                MixedTarget.addGradient(dst, logQ.pointer + r * k, k, labels, row: r, scale: g * (1 - alpha))
            }
        }
    }
}
