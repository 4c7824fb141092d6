import XCTest
import Cohort
@testable import CohortNN

/// The fused distillation loss against its definition, term by term.
final class DistillationLossTests: XCTestCase {
    let studentScalars: [Float] = [0.3, -1.2, 2.0, 0.1, 0.9, -0.4, 1.5, 0.2, -2.0, 0.7, 0.0, 1.1]
    let teacherLogits: [Float] = [1.0, 0.0, 3.0, -1.0, 2.0, 0.5, 0.5, 1.5, -1.0, 0.0, 2.5, 0.3]

    func lossAndGradient(labels: [Int32], temperature: Float, alpha: Float) throws -> (Float, [Float]) {
        let t = Tape()
        t.reset()
        let p = Tensor(zeros: [3, 4])
        try Tape.softTargets(logits: try Tensor(shape: [3, 4], scalars: teacherLogits), temperature: temperature, into: p)
        let s = Var(try Tensor(shape: [3, 4], scalars: studentScalars), requiresGrad: true)
        let loss = try t.distillationLoss(studentLogits: s, teacherProbabilities: p, labels: labels, temperature: temperature, alpha: alpha)
        try t.backward(loss)
        return (loss.value.item, s.grad!.scalars)
    }

    func plainCrossEntropy(labels: [Int32]) throws -> (Float, [Float]) {
        let t = Tape()
        t.reset()
        let s = Var(try Tensor(shape: [3, 4], scalars: studentScalars), requiresGrad: true)
        let loss = try t.softmaxCrossEntropy(s, labels: labels)
        try t.backward(loss)
        return (loss.value.item, s.grad!.scalars)
    }

    func testAlphaZeroIsPlainTraining() throws {
        let (l, g) = try lossAndGradient(labels: [2, 0, 1], temperature: 5, alpha: 0)
        let (ce, gce) = try plainCrossEntropy(labels: [2, 0, 1])
        XCTAssertEqual(l, ce, accuracy: 1e-6)
        for (a, b) in zip(g, gce) { XCTAssertEqual(a, b, accuracy: 1e-6) }
    }

    /// alpha = 1: the loss is T^2 * KL at temperature T, and its gradient T (q_T - p) / B, so
    /// the soft term keeps its size as T grows (the reason for the T^2 factor).
    func testSoftTermIsTSquaredKL() throws {
        for temperature: Float in [1, 2, 8] {
            let (l, g) = try lossAndGradient(labels: [2, 0, 1], temperature: temperature, alpha: 1)
            let t = Tape()
            t.reset()
            let p = Tensor(zeros: [3, 4])
            try Tape.softTargets(logits: try Tensor(shape: [3, 4], scalars: teacherLogits), temperature: temperature, into: p)
            let s = Var(try Tensor(shape: [3, 4], scalars: studentScalars), requiresGrad: true)
            let kl = try t.klDivergence(studentLogits: s, teacherProbabilities: p, temperature: temperature)
            try t.backward(kl)
            XCTAssertEqual(l, temperature * temperature * kl.value.item, accuracy: 1e-5 * max(1, l))
            for (a, b) in zip(g, s.grad!.scalars) { XCTAssertEqual(a, temperature * temperature * b, accuracy: 1e-6) }
            // Gradient by hand: T (softmax(s / T) - p) / B.
            let q = Tensor(zeros: [3, 4])
            try Tape.softTargets(logits: try Tensor(shape: [3, 4], scalars: studentScalars), temperature: temperature, into: q)
            for i in 0..<12 { XCTAssertEqual(g[i], temperature * (q.pointer[i] - p.pointer[i]) / 3, accuracy: 1e-6) }
        }
    }

    func testMixtureAndUnlabelledRows() throws {
        let (soft, gs) = try lossAndGradient(labels: [2, 0, 1], temperature: 3, alpha: 1)
        let (hard, gh) = try plainCrossEntropy(labels: [2, 0, 1])
        let (mixed, gm) = try lossAndGradient(labels: [2, 0, 1], temperature: 3, alpha: 0.7)
        XCTAssertEqual(mixed, 0.7 * soft + 0.3 * hard, accuracy: 1e-5)
        for i in 0..<12 { XCTAssertEqual(gm[i], 0.7 * gs[i] + 0.3 * gh[i], accuracy: 1e-6) }
        // A row without a label takes the soft term only, whatever alpha is.
        let (_, gu) = try lossAndGradient(labels: [2, -1, 1], temperature: 3, alpha: 0.7)
        for j in 0..<4 { XCTAssertEqual(gu[4 + j], gs[4 + j], accuracy: 1e-6) }
        for j in [0, 1, 2, 3, 8, 9, 10, 11] { XCTAssertEqual(gu[j], gm[j], accuracy: 1e-6) }
    }

    func testBadArgumentsAreRejected() throws {
        let t = Tape()
        t.reset()
        let s = Var(Tensor(zeros: [2, 3]), requiresGrad: true)
        let p = Tensor(shape: [2, 3], repeating: 1.0 / 3)
        XCTAssertThrowsError(try t.distillationLoss(studentLogits: s, teacherProbabilities: p, labels: [0, 3], temperature: 2, alpha: 0.5))
        XCTAssertThrowsError(try t.distillationLoss(studentLogits: s, teacherProbabilities: p, labels: [0], temperature: 2, alpha: 0.5))
        XCTAssertThrowsError(try t.distillationLoss(studentLogits: s, teacherProbabilities: p, labels: [0, 1], temperature: 0, alpha: 0.5))
        XCTAssertThrowsError(try t.distillationLoss(studentLogits: s, teacherProbabilities: p, labels: [0, 1], temperature: 2, alpha: 1.5))
        XCTAssertThrowsError(try t.distillationLoss(studentLogits: s, teacherProbabilities: Tensor(zeros: [2, 4]), labels: [0, 1], temperature: 2, alpha: 0.5))
    }
}
