import Cohort
import Foundation

extension Tape {
    /// Mean over the batch of KL(p || softmax(student / T)), where p [B, K] are the teacher's
    /// probabilities at the same temperature (one teacher's softmax(t / T), or an ensemble's
    /// average). Gradient w.r.t. the student logits: (softmax(s / T) - p) / (T B). Distillation
    /// multiplies by T^2 so the soft term's gradient keeps its size as T changes (Hinton et al. 2015).
    public func klDivergence(studentLogits: Var, teacherProbabilities p: Tensor, temperature: Float) throws -> Var {
        guard studentLogits.shape.count == 2, studentLogits.shape == p.shape else {
            throw CohortError.shape(op: "klDivergence", detail: "student logits \(shapeString(studentLogits.shape)) vs teacher probabilities \(shapeString(p.shape))")
        }
        guard temperature > 0, temperature.isFinite else {
            throw CohortError.invalid("klDivergence: temperature must be positive, got \(temperature)")
        }
        let rg = needsGrad(studentLogits)
        let n = node(KLNode.self, reusable: { $0.shape == studentLogits.shape && $0.output.requiresGrad == rg }) {
            KLNode(shape: studentLogits.shape, requiresGrad: rg)
        }
        n.student = studentLogits; n.teacher = p; n.temperature = temperature
        n.forward()
        noteInput(studentLogits)
        return n.output
    }

    /// Teacher probabilities softmax(logits / T), for `klDivergence`.
    public static func softTargets(logits: Tensor, temperature: Float, into out: Tensor) throws {
        guard logits.shape.count == 2, logits.count == out.count else {
            throw CohortError.shape(op: "softTargets", detail: "logits \(shapeString(logits.shape)) into \(shapeString(out.shape))")
        }
        let (b, k) = (logits.shape[0], logits.shape[1])
        let inv = 1 / temperature
        for r in 0..<b {
            let src = logits.pointer + r * k, dst = out.pointer + r * k
            for j in 0..<k { dst[j] = src[j] * inv }
            Softmax.row(dst, dst, k, log: false)
        }
    }
}

final class KLNode: TapeNode {
    let shape: [Int]
    var student: Var
    var teacher = Tensor(zeros: [0])
    var temperature: Float = 1
    let output: Var
    let logQ: Tensor  // log softmax(s / T)

    init(shape: [Int], requiresGrad: Bool) {
        self.shape = shape
        student = Var(Tensor(zeros: [0]))
        output = Var(output: [], requiresGrad: requiresGrad)
        logQ = Tensor(zeros: shape)
    }

    func forward() {
        let (b, k) = (shape[0], shape[1])
        let s = student.value.pointer, p = teacher.pointer, lq = logQ.pointer
        let inv = 1 / temperature
        var total = 0.0
        for r in 0..<b {
            let row = lq + r * k
            for j in 0..<k { row[j] = s[r * k + j] * inv }
            Softmax.row(row, row, k, log: true)
            for j in 0..<k {
                let pj = p[r * k + j]
                if pj > 0 { total += Double(pj) * (Foundation.log(Double(pj)) - Double(row[j])) }
            }
        }
        output.value.pointer[0] = Float(total / Double(Swift.max(b, 1)))
    }

    func backward() {
        guard student.requiresGrad else { return }
        let (b, k) = (shape[0], shape[1])
        let g = output.grad!.pointer[0] / (temperature * Float(Swift.max(b, 1)))
        let p = teacher.pointer, lq = logQ.pointer, gs = student.grad!.pointer
        for i in 0..<(b * k) { gs[i] += g * (Foundation.exp(lq[i]) - p[i]) }
    }
}
