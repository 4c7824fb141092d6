import Cohort

/// All of a model's trainable parameters in ONE contiguous, 64-byte-aligned Float32 buffer
/// (llm.c's params_memory). Each layer's weight and bias become views into it. The optimizer
/// updates the arena in one pass, Hogwild puts it in shared memory, and a checkpoint is the arena
/// plus its index. Gradients, which only training needs, live in a `GradientArena` of the same
/// layout.
public final class ParameterArena {
    public struct Entry: Sendable {
        public let path: String
        public let shape: [Int]
        /// Offset in floats; every entry starts on a 64-byte boundary.
        public let offset: Int
        public let count: Int
        public let decays: Bool
    }

    public let entries: [Entry]
    public let values: Tensor
    public let parameters: [Parameter]
    /// Total floats including alignment padding (padding stays zero in values and gradients).
    public var count: Int { values.count }

    /// Lays out `named` parameters in order and rebinds them to views of the arena, keeping their
    /// current values; they have no gradient memory until a `GradientArena` binds some.
    /// `storage`, when given, is external memory (e.g. shared memory for Hogwild) of at least
    /// `ParameterArena.layoutCount(named)` floats; it is overwritten with the values.
    public init(_ named: [(String, Parameter)], storage: Storage? = nil) {
        var entries: [Entry] = []
        var offset = 0
        for (path, p) in named {
            entries.append(Entry(path: path, shape: p.shape, offset: offset, count: p.value.count, decays: p.decays))
            offset += ParameterArena.padded(p.value.count)
        }
        let total = Swift.max(offset, 1)
        let valueStorage = storage ?? Storage(capacity: total)
        precondition(valueStorage.capacity >= total, "arena storage too small")
        values = Tensor(storage: valueStorage, offset: 0, shape: [total])
        for (e, (_, p)) in zip(entries, named) {
            let v = Tensor(storage: values.storage, offset: e.offset, shape: e.shape)
            v.pointer.update(from: p.value.pointer, count: e.count)
            p.variable.rebind(value: v, grad: nil)
        }
        self.entries = entries
        parameters = named.map(\.1)
    }

    /// The float ranges that take weight decay in an arena laid out for `named` (without building it).
    public static func layoutDecayRanges(_ named: [(String, Parameter)]) -> [Range<Int>] {
        var ranges: [Range<Int>] = [], offset = 0
        for (_, p) in named {
            if p.decays { ranges.append(offset..<(offset + p.value.count)) }
            offset += padded(p.value.count)
        }
        return ranges
    }

    /// Floats an arena for `named` needs.
    public static func layoutCount(_ named: [(String, Parameter)]) -> Int {
        Swift.max(named.reduce(0) { $0 + padded($1.1.value.count) }, 1)
    }

    @inline(__always)
    static func padded(_ n: Int) -> Int { ParameterPadding.padded(n) }

    /// Number of real parameters (without padding).
    public var parameterCount: Int { entries.reduce(0) { $0 + $1.count } }

    /// Copies `other`'s values (an arena of the same layout).
    public func assign(from other: ParameterArena) {
        precondition(other.count == count, "arenas of different layouts")
        values.pointer.update(from: other.values.pointer, count: count)
    }

    /// Draws every parameter from its initializer, each with a stream split off by its path, so a
    /// parameter's initial values do not depend on which other parameters exist.
    public func initialize(rng: RandomStream) {
        for (e, p) in zip(entries, parameters) {
            var stream = rng.split(e.path)
            p.initializer.fill(p.value, shape: e.shape, rng: &stream)
        }
    }

    /// Index ranges (in floats) of the parameters that take weight decay.
    public var decayRanges: [Range<Int>] {
        entries.filter(\.decays).map { $0.offset..<($0.offset + $0.count) }
    }

    public func entry(_ path: String) -> Entry? { entries.first { $0.path == path } }
}
