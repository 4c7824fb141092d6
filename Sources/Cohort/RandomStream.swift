/// A seeded, splittable pseudo-random stream (xoshiro256**, seeded through SplitMix64).
///
/// Every consumer gets its own stream derived from (seed, purpose, rank...), so adding a draw in one
/// place never shifts the numbers another place sees, and runs reproduce exactly. The state is four
/// words, saved in checkpoints so a resumed run draws what the uninterrupted run would have drawn.
public struct RandomStream: Sendable, Equatable {
    public private(set) var state: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var sm = seed
        state = (RandomStream.splitMix(&sm), RandomStream.splitMix(&sm),
                 RandomStream.splitMix(&sm), RandomStream.splitMix(&sm))
    }

    /// Restores a stream from `stateWords` (as saved from `stateWords`).
    public init(stateWords: [UInt64]) throws {
        guard stateWords.count == 4, stateWords.contains(where: { $0 != 0 }) else {
            throw CohortError.invalid("random stream state must be 4 words, not all zero")
        }
        state = (stateWords[0], stateWords[1], stateWords[2], stateWords[3])
    }

    public var stateWords: [UInt64] { [state.0, state.1, state.2, state.3] }

    /// A child stream for `purpose` (e.g. "init", "shuffle", "dropout") and an index (rank, layer...).
    /// It depends only on this stream's current state and the arguments, and does not advance it.
    public func split(_ purpose: String, _ index: UInt64 = 0) -> RandomStream {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a over the purpose
        for byte in purpose.utf8 { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
        var sm = state.0 ^ (state.1 &<< 1) ^ (state.2 &<< 2) ^ (state.3 &<< 3)
        sm ^= h
        sm = sm &+ index &* 0x9e37_79b9_7f4a_7c15
        var mixed = sm
        return RandomStream(seed: RandomStream.splitMix(&mixed))
    }

    public static func == (a: RandomStream, b: RandomStream) -> Bool { a.stateWords == b.stateWords }

    @inline(__always)
    static func splitMix(_ x: inout UInt64) -> UInt64 {
        x = x &+ 0x9e37_79b9_7f4a_7c15
        var z = x
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = ((state.1 &* 5) << 7 | (state.1 &* 5) >> 57) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = (state.3 << 45) | (state.3 >> 19)
        return result
    }

    /// Uniform in [0, 1) with 24 random bits (every Float32 step in that range is reachable).
    @inline(__always)
    public mutating func uniform() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }

    /// Uniform in [low, high).
    @inline(__always)
    public mutating func uniform(_ low: Float, _ high: Float) -> Float { low + (high - low) * uniform() }

    /// Standard normal (Box-Muller; one of the pair is discarded to keep the state simple to save).
    public mutating func normal() -> Float {
        let u1 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        let u2 = Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
        let r = (-2.0 * log(max(u1, 1e-300))).squareRoot()
        return Float(r * cos(2.0 * Double.pi * u2))
    }

    /// Uniform integer in 0..<bound (Lemire's multiply-shift, unbiased enough for shuffles: bound < 2^32).
    @inline(__always)
    public mutating func below(_ bound: Int) -> Int {
        precondition(bound > 0, "below(\(bound))")
        return Int((UInt64(UInt32(truncatingIfNeeded: next() >> 32)) &* UInt64(bound)) >> 32)
    }

    /// Fisher-Yates shuffle of indices in place. A concrete overload: the generic one, called
    /// unspecialised from another module, allocated on every swap (2 per element in the sampler).
    public mutating func shuffle(_ values: inout [Int]) {
        guard values.count > 1 else { return }
        values.withUnsafeMutableBufferPointer { v in
            for i in stride(from: v.count - 1, to: 0, by: -1) { v.swapAt(i, below(i + 1)) }
        }
    }

    /// Fisher-Yates shuffle in place.
    public mutating func shuffle<T>(_ values: inout [T]) {
        guard values.count > 1 else { return }
        for i in stride(from: values.count - 1, to: 0, by: -1) {
            values.swapAt(i, below(i + 1))
        }
    }

    public mutating func fillUniform(_ t: Tensor, _ low: Float, _ high: Float) {
        let p = t.pointer
        for i in 0..<t.count { p[i] = uniform(low, high) }
    }

    public mutating func fillNormal(_ t: Tensor, mean: Float = 0, std: Float = 1) {
        let p = t.pointer
        for i in 0..<t.count { p[i] = mean + std * normal() }
    }
}

import Foundation
