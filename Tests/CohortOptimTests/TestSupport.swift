import Cohort
import XCTest
@testable import CohortOptim

/// The 3-element problem every hand-computed test uses: p0 and a gradient per step.
enum Tiny {
    static let p0: [Float] = [1, -2, 0.5]
    static let grads: [[Float]] = [[0.5, 1, -2], [1, -1, 0.5], [0, 2, 1]]
}

/// Runs `optimizer` from `start` over `grads` (one per step) at `lr`; returns the parameters after each step.
func trajectory(_ optimizer: any Optimizer, start: [Float] = Tiny.p0, grads: [[Float]] = Tiny.grads, lr: Float) throws -> [[Float]] {
    let p = try Tensor(shape: [start.count], scalars: start)
    var out: [[Float]] = []
    for g in grads {
        let gt = try Tensor(shape: [g.count], scalars: g)
        optimizer.step(parameters: p, gradients: gt, learningRate: lr)
        out.append(p.scalars)
    }
    return out
}

func assertClose(_ actual: [Float], _ expected: [Double], accuracy: Double = 2e-6, _ message: String = "",
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.count, expected.count, "count \(message)", file: file, line: line)
    for (i, (a, e)) in zip(actual, expected).enumerated() {
        XCTAssertEqual(Double(a), e, accuracy: accuracy, "element \(i) \(message): \(actual) vs \(expected)", file: file, line: line)
    }
}

/// The one-line message of a thrown CohortError (fails the test if nothing or something else is thrown).
func thrownMessage(_ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) -> String {
    do {
        try body()
        XCTFail("expected an error", file: file, line: line)
    } catch let error as CohortError {
        return error.description
    } catch {
        XCTFail("unexpected error \(error)", file: file, line: line)
    }
    return ""
}

/// A deterministic buffer of `count` values in [low, high).
func randomBuffer(_ count: Int, seed: UInt64, _ low: Float = -1, _ high: Float = 1) -> Tensor {
    var rng = RandomStream(seed: seed)
    let t = Tensor(zeros: [count])
    rng.fillUniform(t, low, high)
    return t
}
