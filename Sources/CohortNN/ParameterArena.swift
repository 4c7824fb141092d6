import Cohort

/// All of a model's trainable parameters in ONE contiguous, 64-byte-aligned Float32 buffer, and
/// their gradients in a second buffer of the same layout (llm.c's params_memory). Each layer's
/// weight and bias become views into it. The optimizer updates the arena in one pass, the
/// allreduce sends slices of the gradient buffer, and a checkpoint is the arena plus its index.
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
    public let gradients: Tensor?
    public let parameters: [Parameter]
    /// Total floats including alignment padding (padding stays zero in values and gradients).
    public var count: Int { values.count }

    /// Lays out `named` parameters in order and rebinds them to views of the arena, keeping their
    /// current values. `storage`, when given, is external memory (e.g. shared memory for Hogwild)
    /// of at least `ParameterArena.layoutCount(named)` floats; it is overwritten with the values.
    /// `gradientStorage`, when given, holds the gradients instead of a private buffer (the
    /// shared-memory reducer's slot for this rank).
    public init(_ named: [(String, Parameter)], storage: Storage? = nil, withGradients: Bool = true, gradientStorage: Storage? = nil) {
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
        if let gradientStorage {
            precondition(gradientStorage.capacity >= total, "gradient storage too small")
            gradients = Tensor(storage: gradientStorage, offset: 0, shape: [total])
            gradients!.zero()
        } else {
            gradients = withGradients ? Tensor(zeros: [total]) : nil
        }
        for (e, (_, p)) in zip(entries, named) {
            let v = Tensor(storage: values.storage, offset: e.offset, shape: e.shape)
            v.pointer.update(from: p.value.pointer, count: e.count)
            let g = gradients.map { Tensor(storage: $0.storage, offset: e.offset, shape: e.shape) }
            p.variable.rebind(value: v, grad: p.trainable ? g : nil)
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

    public func zeroGradients() { gradients?.zero() }

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
