import XCTest
import Cohort
@testable import CohortNN

/// The variational autoencoder's objective: its terms against their closed forms, and the whole
/// negative ELBO (reparameterisation and KL term included) against finite differences.
final class VariationalTests: XCTestCase {
    func testKLIsZeroAtThePriorAndMatchesTheClosedForm() throws {
        let t = Tape()
        t.reset()
        let zero = try t.gaussianKL(mean: Var(Tensor(zeros: [2, 3])), logVariance: Var(Tensor(zeros: [2, 3])))
        XCTAssertEqual(zero.value.item, 0, accuracy: 1e-7)
        // One example, one dimension: KL(N(1, e^0.5) || N(0, 1)) = (e^0.5 + 1 - 1 - 0.5) / 2.
        let one = try t.gaussianKL(mean: Var(try Tensor(shape: [1, 1], scalars: [1])), logVariance: Var(try Tensor(shape: [1, 1], scalars: [0.5])))
        XCTAssertEqual(one.value.item, Float((exp(0.5) + 1 - 1 - 0.5) / 2), accuracy: 1e-6)
    }

    func testBernoulliCrossEntropyIsTheNegativeLogLikelihood() throws {
        let logits: [Float] = [-30, -1, 0, 2, 40, 0.5], targets: [Float] = [0, 0.2, 1, 0.7, 1, 0]
        let t = Tape()
        t.reset()
        let l = try t.bernoulliCrossEntropy(logits: Var(try Tensor(shape: [2, 3], scalars: logits)), targets: try Tensor(shape: [2, 3], scalars: targets))
        var nll = 0.0
        for (x, y) in zip(logits, targets) {
            let p = 1 / (1 + exp(-Double(x)))
            nll -= Double(y) * log(max(p, 1e-300)) + Double(1 - y) * log(max(1 - p, 1e-300))
        }
        XCTAssertEqual(Double(l.value.item), nll / 2, accuracy: 1e-4)
    }

    func testReparameterisedSampleIsMeanPlusSigmaTimesNoise() throws {
        let t = Tape()
        t.reset()
        let z = try t.reparameterize(mean: Var(try Tensor(shape: [1, 2], scalars: [1, -2])), logVariance: Var(try Tensor(shape: [1, 2], scalars: [0, 2 * log(3)])),
                                     noise: try Tensor(shape: [1, 2], scalars: [0.5, -1]))
        XCTAssertEqual(z.value.scalars[0], 1.5, accuracy: 1e-6)
        XCTAssertEqual(z.value.scalars[1], -5, accuracy: 1e-5)
    }

    /// The gradient checks of `cohort gradcheck` for the VAE's terms and its whole loss.
    func testVAELossGradientsMatchFiniteDifferences() throws {
        let checks = LayerChecks.all().filter { ["reparameterize", "gaussianKL", "bernoulliCrossEntropy", "VAE loss"].contains(where: $0.name.hasPrefix) }
        XCTAssertEqual(checks.count, 4)
        for check in checks {
            let r = try check.run()
            XCTAssertLessThan(r.worstRelativeError, 1e-2, r.name)
            XCTAssertGreaterThan(r.elements, 0, r.name)
        }
    }
}
