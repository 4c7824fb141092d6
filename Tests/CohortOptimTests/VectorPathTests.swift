import Cohort
import Foundation
import XCTest
@testable import CohortOptim

/// Each optimizer over 1037 floats (64 full SIMD chunks and a 13-float tail, decay runs that start
/// and end mid-chunk) against a plain per-element transcription of its formula. Same operations in
/// the same order in Float, so the results must agree bit for bit.
final class VectorPathTests: XCTestCase {
    static let count = 1037
    static let decayRanges = [5..<500, 611..<1030]
    static let steps = 3

    /// Runs the optimizer for `steps` steps on fresh random gradients; returns the parameters.
    func runVector(_ optimizer: any Optimizer, lr: Float) -> [Float] {
        let p = randomBuffer(Self.count, seed: 1)
        for s in 0..<Self.steps {
            optimizer.step(parameters: p, gradients: randomBuffer(Self.count, seed: 100 + UInt64(s)), learningRate: lr)
        }
        return p.scalars
    }

    /// The same loop with `update(step, index, p, g)` applied element by element.
    func runScalar(lr: Float, _ update: (Int, Int, inout Float, Float, Bool) -> Void) -> [Float] {
        var p = randomBuffer(Self.count, seed: 1).scalars
        let decays = (0..<Self.count).map { i in Self.decayRanges.contains { $0.contains(i) } }
        for s in 0..<Self.steps {
            let g = randomBuffer(Self.count, seed: 100 + UInt64(s)).scalars
            for i in 0..<Self.count { update(s + 1, i, &p[i], g[i], decays[i]) }
        }
        return p
    }

    func assertIdentical(_ a: [Float], _ b: [Float], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, file: file, line: line)
        let firstDifference = zip(a, b).enumerated().first { $0.element.0.bitPattern != $0.element.1.bitPattern }
        XCTAssertNil(firstDifference, "first difference at \(firstDifference?.offset ?? -1): \(firstDifference.map { "\($0.element)" } ?? "")",
                     file: file, line: line)
    }

    func testSGDNesterovWithDecay() throws {
        let (lr, mu, wd): (Float, Float, Float) = (0.05, 0.9, 0.01)
        let sgd = try SGD(parameterCount: Self.count, options: .init(momentum: mu, nesterov: true, weightDecay: wd), decayRanges: Self.decayRanges)
        var buf = [Float](repeating: 0, count: Self.count)
        let expected = runScalar(lr: lr) { t, i, p, g, decays in
            let g = decays ? g + wd * p : g
            buf[i] = t == 1 ? g : buf[i] * mu + 1 * g
            p = p - lr * (g + mu * buf[i])
        }
        assertIdentical(runVector(sgd, lr: lr), expected)
    }

    func testSGDDampenedMomentum() throws {
        let (lr, mu, damp): (Float, Float, Float) = (0.05, 0.8, 0.3)
        let sgd = try SGD(parameterCount: Self.count, options: .init(momentum: mu, dampening: damp))
        var buf = [Float](repeating: 0, count: Self.count)
        let expected = runScalar(lr: lr) { t, i, p, g, _ in
            buf[i] = t == 1 ? g : buf[i] * mu + (1 - damp) * g
            p = p - lr * buf[i]
        }
        assertIdentical(runVector(sgd, lr: lr), expected)
    }

    func testAdagrad() throws {
        let (lr, wd, lrDecay): (Float, Float, Float) = (0.1, 0.02, 0.1)
        let adagrad = try Adagrad(parameterCount: Self.count, options: .init(initialAccumulator: 0.1, lrDecay: lrDecay, weightDecay: wd),
                                  decayRanges: Self.decayRanges)
        var sum = [Float](repeating: 0.1, count: Self.count)
        let expected = runScalar(lr: lr) { t, i, p, g, decays in
            let g = decays ? g + wd * p : g
            let clr = Float(Double(lr) / (1 + Double(t - 1) * Double(lrDecay)))
            sum[i] = sum[i] + g * g
            p = p - clr * (g / (sum[i].squareRoot() + 1e-10))
        }
        assertIdentical(runVector(adagrad, lr: lr), expected)
    }

    func testRMSPropCenteredMomentum() throws {
        let (lr, alpha, mu, eps, wd): (Float, Float, Float, Float, Float) = (0.01, 0.9, 0.5, 1e-8, 0.01)
        let rms = try RMSProp(parameterCount: Self.count, options: .init(alpha: alpha, momentum: mu, centered: true, weightDecay: wd),
                              decayRanges: Self.decayRanges)
        var sq = [Float](repeating: 0, count: Self.count), ga = sq, buf = sq
        let expected = runScalar(lr: lr) { _, i, p, g, decays in
            let g = decays ? g + wd * p : g
            sq[i] = sq[i] * alpha + (1 - alpha) * g * g
            ga[i] = ga[i] + (1 - alpha) * (g - ga[i])   // lerp with weight 0.1 < 0.5
            let avg = (sq[i] - ga[i] * ga[i]).squareRoot() + eps
            buf[i] = buf[i] * mu + g / avg
            p = p - lr * buf[i]
        }
        assertIdentical(runVector(rms, lr: lr), expected)
    }

    func testRMSPropPlain() throws {
        let (lr, alpha, eps): (Float, Float, Float) = (0.01, 0.99, 1e-8)
        let rms = try RMSProp(parameterCount: Self.count)
        var sq = [Float](repeating: 0, count: Self.count)
        let expected = runScalar(lr: lr) { _, i, p, g, _ in
            sq[i] = sq[i] * alpha + (1 - alpha) * g * g
            p = p - lr * (g / (sq[i].squareRoot() + eps))
        }
        assertIdentical(runVector(rms, lr: lr), expected)
    }

    /// Adam's scalar reference; `coupled`/`decoupled` choose the decay.
    func adamReference(lr: Float, beta1: Float, beta2: Float, wd: Float, decoupled: Bool) -> [Float] {
        var m = [Float](repeating: 0, count: Self.count), v = m
        let w = 1 - beta1
        return runScalar(lr: lr) { t, i, p, g, decays in
            if decoupled && decays { p = p * Float(1 - Double(lr) * Double(wd)) }
            let g = !decoupled && decays ? g + wd * p : g
            // PyTorch's lerp: the formula flips for weights of 0.5 and above.
            m[i] = w < 0.5 ? m[i] + w * (g - m[i]) : g - (g - m[i]) * (1 - w)
            v[i] = v[i] * beta2 + (1 - beta2) * g * g
            let stepSize = Float(Double(lr) / (1 - pow(Double(beta1), Double(t))))
            let root = Float((1 - pow(Double(beta2), Double(t))).squareRoot())
            p = p - stepSize * (m[i] / (v[i].squareRoot() / root + 1e-8))
        }
    }

    func testAdamCoupledDecay() throws {
        let adam = try Adam(parameterCount: Self.count, options: .init(weightDecay: 0.05), decayRanges: Self.decayRanges)
        assertIdentical(runVector(adam, lr: 0.01), adamReference(lr: 0.01, beta1: 0.9, beta2: 0.999, wd: 0.05, decoupled: false))
    }

    func testAdamWithLargeWeightLerp() throws {
        // beta1 0.3: lerp weight 0.7 takes PyTorch's other branch.
        let adam = try Adam(parameterCount: Self.count, options: .init(beta1: 0.3, beta2: 0.9))
        assertIdentical(runVector(adam, lr: 0.01), adamReference(lr: 0.01, beta1: 0.3, beta2: 0.9, wd: 0, decoupled: false))
    }

    func testAdamWDecoupledDecay() throws {
        let adamw = try AdamW(parameterCount: Self.count, options: .init(weightDecay: 0.1), decayRanges: Self.decayRanges)
        assertIdentical(runVector(adamw, lr: 0.01), adamReference(lr: 0.01, beta1: 0.9, beta2: 0.999, wd: 0.1, decoupled: true))
    }
}
