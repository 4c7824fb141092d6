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

    func loss(_ matching: TeacherMatching, teacher: Tensor, labels: MixedLabels, alpha: Float) throws -> (Float, [Float]) {
        let t = Tape()
        t.reset()
        let s = Var(try Tensor(shape: [3, 4], scalars: studentScalars), requiresGrad: true)
        let loss = try t.distillationLoss(studentLogits: s, teacher: teacher, matching: matching, labels: labels, alpha: alpha)
        try t.backward(loss)
        return (loss.value.item, s.grad!.scalars)
    }

    /// logit_mse: the soft term is the mean over the batch of (1/K) sum (s - z)^2 against the
    /// teacher's logits, gradient 2 (s - z) / (K B); the hard term is as for KL.
    func testLogitMatchingIsMeanSquaredErrorOnLogits() throws {
        let z = try Tensor(shape: [3, 4], scalars: teacherLogits)
        let (l, g) = try loss(.logitMSE, teacher: z, labels: MixedLabels([2, -1, 1]), alpha: 1)
        var expected = 0.0
        for i in 0..<12 { expected += Double((studentScalars[i] - teacherLogits[i]) * (studentScalars[i] - teacherLogits[i])) }
        XCTAssertEqual(Double(l), expected / 12, accuracy: 1e-5)
        for i in 0..<12 { XCTAssertEqual(g[i], 2 * (studentScalars[i] - teacherLogits[i]) / 12, accuracy: 1e-6) }
        // alpha mixes in cross-entropy on the labelled rows only (row 1 has none).
        let (mixed, gm) = try loss(.logitMSE, teacher: z, labels: MixedLabels([2, -1, 1]), alpha: 0.6)
        let (hard, gh) = try plainCrossEntropy(labels: [2, 0, 1])
        var rows = [Double](repeating: 0, count: 3)
        for i in 0..<12 { rows[i / 4] += Double((studentScalars[i] - teacherLogits[i]) * (studentScalars[i] - teacherLogits[i])) / 4 }
        let t = Tape()
        t.reset()
        let rowCE = try (0..<3).map { r -> Float in
            let v = Var(try Tensor(shape: [1, 4], scalars: Array(studentScalars[(r * 4)..<(r * 4 + 4)])))
            return try t.softmaxCrossEntropy(v, labels: [[2, 0, 1][r]]).value.item
        }
        let want = (0.6 * rows[0] + 0.4 * Double(rowCE[0]) + rows[1] + 0.6 * rows[2] + 0.4 * Double(rowCE[2])) / 3
        XCTAssertEqual(Double(mixed), want, accuracy: 1e-5)
        XCTAssertEqual(hard, (rowCE[0] + rowCE[1] + rowCE[2]) / 3, accuracy: 1e-5)
        for j in 0..<4 {
            XCTAssertEqual(gm[j], 0.6 * g[j] + 0.4 * gh[j], accuracy: 1e-6)
            XCTAssertEqual(gm[4 + j], g[4 + j], accuracy: 1e-6)
        }
    }

    /// A mixed label (w of class a, 1 - w of class b) is w CE(a) + (1 - w) CE(b), in the plain
    /// cross-entropy and in the distillation loss's hard term; weight 1 is the plain label.
    func testMixedLabelsAreTheWeightedCrossEntropies() throws {
        let (ceA, ga) = try plainCrossEntropy(labels: [2, 0, 1]), (ceB, gb) = try plainCrossEntropy(labels: [3, 3, 1])
        let mixed = MixedLabels(first: [2, 0, 1], second: [3, 3, 1], weight: [0.25, 0.25, 0.25])
        let t = Tape()
        t.reset()
        let s = Var(try Tensor(shape: [3, 4], scalars: studentScalars), requiresGrad: true)
        let l = try t.softmaxCrossEntropy(s, mixed: mixed)
        try t.backward(l)
        XCTAssertEqual(l.value.item, 0.25 * ceA + 0.75 * ceB, accuracy: 1e-5)
        for i in 0..<12 { XCTAssertEqual(s.grad!.scalars[i], 0.25 * ga[i] + 0.75 * gb[i], accuracy: 1e-6) }
        let t2 = Tape()
        t2.reset()
        let plain = try t2.softmaxCrossEntropy(Var(try Tensor(shape: [3, 4], scalars: studentScalars)), mixed: MixedLabels([2, 0, 1]))
        XCTAssertEqual(plain.value.item, ceA, accuracy: 1e-6)

        let p = Tensor(zeros: [3, 4])
        try Tape.softTargets(logits: try Tensor(shape: [3, 4], scalars: teacherLogits), temperature: 2, into: p)
        let (soft, _) = try loss(.kl(temperature: 2), teacher: p, labels: mixed, alpha: 1)
        let (both, _) = try loss(.kl(temperature: 2), teacher: p, labels: mixed, alpha: 0.3)
        XCTAssertEqual(both, 0.3 * soft + 0.7 * (0.25 * ceA + 0.75 * ceB), accuracy: 1e-5)
        XCTAssertThrowsError(try loss(.kl(temperature: 2), teacher: p, labels: MixedLabels(first: [2, 0, 1], second: [3, 4, 1], weight: [0.5, 0.5, 1]), alpha: 0.5))
        XCTAssertThrowsError(try loss(.kl(temperature: 2), teacher: p, labels: MixedLabels(first: [2, 0, 1], second: [3, 3, 1], weight: [1.5, 0.5, 1]), alpha: 0.5))
    }
}
