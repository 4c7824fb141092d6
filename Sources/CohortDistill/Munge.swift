import Cohort
import CohortDistributed
import Foundation

/// MUNGE (Bucilua, Caruana & Niculescu-Mizil 2006, "Model compression", algorithm 1): synthetic
/// examples near the data. For every example e and its nearest neighbour e', each feature a is,
/// with probability p, replaced by a draw from N(e'_a, |e_a - e'_a| / s) (and the neighbour's
/// copy by a draw around e_a); with probability 1 - p it is kept. Small s stays close to the
/// neighbour's value, large s spreads further; p = 0 returns the data unchanged.
public enum Munge {
    /// The nearest other example (squared Euclidean distance) of every row of `x` [n, d], computed
    /// with sgemm in blocks: |a - b|^2 = |a|^2 + |b|^2 - 2 a.b. Rows are sharded over the ranks and
    /// the answers summed, so every rank gets the whole table.
    public static func nearestNeighbours(_ x: Tensor, communicator: Communicator = SingleProcessCommunicator()) throws -> [Int] {
        let (n, d) = (x.shape[0], x.shape[1])
        guard n >= 2 else { throw CohortError.invalid("MUNGE: needs at least 2 examples, got \(n)") }
        var norms = [Float](repeating: 0, count: n)
        for i in 0..<n {
            var s: Float = 0
            let row = x.pointer + i * d
            for j in 0..<d { s += row[j] * row[j] }
            norms[i] = s
        }
        let block = 512
        let products = Tensor(zeros: [block, n])
        var found = [Double](repeating: 0, count: n)
        var first = communicator.rank * block
        while first < n {
            let rows = min(block, n - first)
            // products[r, j] = x[first + r] . x[j]
            BLAS.sgemm(transA: false, transB: true, m: rows, n: n, k: d, a: x.pointer + first * d, lda: d,
                       b: x.pointer, ldb: d, beta: 0, c: products.pointer, ldc: n)
            for r in 0..<rows {
                let i = first + r, row = products.pointer + r * n
                var best = Float.infinity, at = i == 0 ? 1 : 0
                for j in 0..<n where j != i {
                    let dist = norms[j] - 2 * row[j]  // |a|^2 is the same for every j
                    if dist < best { best = dist; at = j }
                }
                found[i] = Double(at)
            }
            first += block * communicator.size
        }
        try communicator.allreduce(&found)
        return found.map { Int($0) }
    }

    /// One MUNGE pass over `x` [n, d] (values clamped to `range`): returns n synthetic rows.
    /// Each pair (e, e') is visited once in example order, as in the paper: e is changed, and e'
    /// gets the symmetric change in its own output row unless it was already written.
    public static func generate(_ x: Tensor, neighbours: [Int], p: Float, s: Float, range: ClosedRange<Float>,
                                rng: inout RandomStream) -> Tensor {
        let (n, d) = (x.shape[0], x.shape[1])
        let out = Tensor(zeros: [n, d])
        out.pointer.update(from: x.pointer, count: n * d)
        var written = [Bool](repeating: false, count: n)
        for i in 0..<n {
            let j = neighbours[i]
            let e = x.pointer + i * d, f = x.pointer + j * d
            let oe = out.pointer + i * d, of = out.pointer + j * d
            let alsoNeighbour = !written[j]
            for a in 0..<d where rng.uniform() < p {
                let sd = abs(e[a] - f[a]) / s
                oe[a] = clamp(f[a] + sd * rng.normal(), range)
                if alsoNeighbour { of[a] = clamp(e[a] + sd * rng.normal(), range) }
            }
            written[i] = true
            if alsoNeighbour { written[j] = true }
        }
        return out
    }

    @inline(__always)
    static func clamp(_ v: Float, _ r: ClosedRange<Float>) -> Float { min(max(v, r.lowerBound), r.upperBound) }
}
