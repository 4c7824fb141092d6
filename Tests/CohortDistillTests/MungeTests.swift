import XCTest
import Cohort
@testable import CohortDistill

final class MungeTests: XCTestCase {
    func randomData(_ n: Int, _ d: Int, seed: UInt64) -> Tensor {
        var r = RandomStream(seed: seed)
        let x = Tensor(zeros: [n, d])
        for i in 0..<x.count { x.pointer[i] = r.uniform(0, 255).rounded() }
        return x
    }

    /// Rows that no earlier example took as its neighbour: their output is changed only at their own
    /// visit, around their own neighbour (the others carry an earlier, symmetric change).
    func ownRows(_ nn: [Int]) -> [Int] {
        var taken = [Bool](repeating: false, count: nn.count)
        var rows: [Int] = []
        for i in nn.indices {
            if !taken[i] { rows.append(i) }
            taken[i] = true
            taken[nn[i]] = true
        }
        return rows
    }

    func testNearestNeighboursMatchBruteForce() throws {
        let x = randomData(700, 9, seed: 1)  // more rows than one block of 512
        let found = try Munge.nearestNeighbours(x)
        for i in stride(from: 0, to: 700, by: 37) {
            var best = Float.infinity, at = -1
            for j in 0..<700 where j != i {
                var s: Float = 0
                for a in 0..<9 { let t = x.pointer[i * 9 + a] - x.pointer[j * 9 + a]; s += t * t }
                if s < best { best = s; at = j }
            }
            var got: Float = 0
            for a in 0..<9 { let t = x.pointer[i * 9 + a] - x.pointer[found[i] * 9 + a]; got += t * t }
            XCTAssertNotEqual(found[i], i)
            XCTAssertEqual(got, best, accuracy: 1e-2 * max(best, 1), "row \(i): found \(found[i]), brute force \(at)")
        }
    }

    func testProbabilityZeroKeepsTheData() throws {
        let x = randomData(50, 16, seed: 2)
        let nn = try Munge.nearestNeighbours(x)
        var r = RandomStream(seed: 3)
        let out = Munge.generate(x, neighbours: nn, p: 0, s: 1, range: 0...255, rng: &r)
        XCTAssertEqual(out.scalars, x.scalars)
    }

    /// With a huge s the draws sit on the neighbour's value: each changed feature of e becomes e'_a,
    /// so the share of features that took the neighbour's value estimates p, and stays inside the box.
    func testSwappedShareIsPAndValuesStayInRange() throws {
        let n = 400, d = 64
        let x = randomData(n, d, seed: 4)
        let nn = try Munge.nearestNeighbours(x)
        for p in [Float(0.2), 0.5, 0.8] {
            var r = RandomStream(seed: 5)
            let out = Munge.generate(x, neighbours: nn, p: p, s: 1e9, range: 0...255, rng: &r)
            var differing = 0, tookNeighbour = 0
            for i in ownRows(nn) {
                let j = nn[i]
                for a in 0..<d where x.pointer[i * d + a] != x.pointer[j * d + a] {
                    differing += 1
                    if abs(out.pointer[i * d + a] - x.pointer[j * d + a]) < 1e-3 { tookNeighbour += 1 }
                }
            }
            let share = Double(tookNeighbour) / Double(differing)
            XCTAssertEqual(share, Double(p), accuracy: 0.05, "p = \(p)")
            XCTAssertTrue(out.scalars.allSatisfy { $0 >= 0 && $0 <= 255 })
        }
    }

    /// With s = 1 the resampled values spread around the neighbour with sd |e - e'|: the feature
    /// means stay those of the data, and the spread of (out - e') over changed features is |e - e'|.
    func testResampledValuesCentreOnTheNeighbour() throws {
        let n = 600, d = 32
        let x = randomData(n, d, seed: 6)
        let nn = try Munge.nearestNeighbours(x)
        var r = RandomStream(seed: 7)
        let out = Munge.generate(x, neighbours: nn, p: 1, s: 1, range: -1e9...1e9, rng: &r)
        var z = 0.0, z2 = 0.0, count = 0.0
        for i in ownRows(nn) {
            let j = nn[i]
            for a in 0..<d {
                let sd = abs(x.pointer[i * d + a] - x.pointer[j * d + a])
                guard sd > 0 else { continue }
                let standardized = Double((out.pointer[i * d + a] - x.pointer[j * d + a]) / sd)
                z += standardized; z2 += standardized * standardized; count += 1
            }
        }
        let mean = z / count, variance = z2 / count - mean * mean
        XCTAssertEqual(mean, 0, accuracy: 0.05)
        XCTAssertEqual(variance, 1, accuracy: 0.08)
        let inMean = x.scalars.reduce(0, +) / Float(x.count), outMean = out.scalars.reduce(0, +) / Float(out.count)
        XCTAssertEqual(outMean, inMean, accuracy: 3)
    }
}
