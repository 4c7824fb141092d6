import Cohort
import Foundation

/// Averages gradients across ranks with bucketed, non-blocking allreduces that overlap backward
/// (PyTorch DDP's reducer over a flat gradient arena: buckets are ranges, so nothing is packed).
///
/// Buckets are filled in REVERSE parameter order, because backward finishes the last layers'
/// gradients first. When every gradient of a bucket is final (the tape's gradient-final hook), the
/// bucket's MPI_Iallreduce starts. Buckets are started strictly in index order, so every rank
/// issues the same collectives in the same order. `finish()` waits for all and divides by the
/// world size. Without overlap, `finish()` sends the buckets one after the other through its
/// `WireAllreduce` (fp32, or 16 bits with `distributed.wire`). The reducer owns the gradient
/// arena's memory (`gradientStorage`).
public final class GradientReducer: GradientSync {
    /// One parameter's gradient in the arena: its leaf, and its float range.
    public struct Slot {
        public let variable: Var
        public let offset: Int
        public let count: Int
        public init(variable: Var, offset: Int, count: Int) { self.variable = variable; self.offset = offset; self.count = count }
    }

    public let buckets: [GradientBuckets.Bucket]
    public let gradientStorage: Storage
    public var kind: GradientSyncKind { .mpi }
    public var bytesSent: Int { wire.bytesSent + overlappedBytes }
    private var overlappedBytes = 0
    private let communicator: Communicator
    private let gradients: UnsafeMutablePointer<Float>
    private var pending: [Int]          // per bucket: slots whose gradient is not final yet
    private var requests: [CollectiveRequest?]
    private var nextToStart = 0
    private let bucketOfSlot: [Int]
    /// Sends the buckets after backward (fp32 or 16-bit) and counts the bytes.
    public let wire: WireAllreduce
    private var slotFinal: [Bool]
    /// When false (early micro-batches of gradient accumulation) hooks do nothing and nothing is sent.
    private var synchronize = true
    /// When false, buckets are not started during backward: `finish()` reduces each with a blocking
    /// MPI_Allreduce (Open MPI's tuned blocking algorithms can beat libnbc's non-blocking ones when
    /// the cores are all busy computing anyway; measured in README).
    public let overlap: Bool
    /// Called when a bucket's allreduce starts and when the wait for it ends (for traces).
    public var onBucketStart: ((Int) -> Void)?
    public var onBucketDone: ((Int) -> Void)?

    /// `slots` in parameter (forward) order, laid out in an arena of `count` floats and cut into
    /// `layout`'s buckets. `wire`: how buckets travel after backward (nil: fp32); overlapped
    /// buckets travel as fp32.
    public init(slots: [Slot], count: Int, communicator: Communicator, layout: GradientBuckets, overlap: Bool, wire: WireAllreduce? = nil) {
        precondition(!overlap || wire == nil || wire!.format == .fp32, "overlapped buckets travel as fp32")
        self.communicator = communicator
        self.overlap = overlap
        gradientStorage = Storage(capacity: max(count, 1))
        gradients = gradientStorage.pointer
        buckets = layout.buckets
        bucketOfSlot = layout.bucketOfSlot
        self.wire = wire ?? WireAllreduce(format: .fp32, communicator: communicator, maxCount: layout.largest)
        pending = buckets.map(\.slotCount)
        requests = Array(repeating: nil, count: buckets.count)
        slotFinal = Array(repeating: false, count: slots.count)
        for (i, slot) in slots.enumerated() {
            slot.variable.onGradientFinal = { [unowned self] _ in self.gradientFinal(slot: i) }
        }
    }

    /// Before the step's first backward.
    public func beginStep() {
        for b in buckets.indices { pending[b] = buckets[b].slotCount; requests[b] = nil }
        for i in slotFinal.indices { slotFinal[i] = false }
        nextToStart = 0
    }

    public func beginBackward(last: Bool) { synchronize = last }

    private func gradientFinal(slot: Int) {
        guard synchronize, overlap, !slotFinal[slot] else { return }
        slotFinal[slot] = true
        let b = bucketOfSlot[slot]
        pending[b] -= 1
        do {
            try startReadyBuckets()
            // Poke MPI so buckets already in flight advance while backward computes.
            for r in requests[0..<nextToStart] { _ = try r?.test() }
        } catch {
            fail(error)
        }
    }

    private func startReadyBuckets() throws {
        while nextToStart < buckets.count && pending[nextToStart] == 0 {
            let r = buckets[nextToStart].range
            onBucketStart?(nextToStart)
            requests[nextToStart] = try communicator.startAllreduce(gradients + r.lowerBound, count: r.count)
            overlappedBytes += WireAllreduce.bytesPerCall(count: r.count, ranks: communicator.size, format: .fp32) / communicator.size
            nextToStart += 1
        }
    }

    /// Starts whatever is left (parameters the graph did not use count as final with their current
    /// gradient), waits for every bucket, and averages.
    public func finish() throws {
        guard synchronize else { return }
        if !overlap {
            for (b, bucket) in buckets.enumerated() {
                onBucketStart?(b)
                try wire.allreduce(gradients + bucket.range.lowerBound, count: bucket.range.count, scale: 1 / Float(communicator.size),
                                   residualOffset: bucket.range.lowerBound)
                onBucketDone?(b)
            }
            return
        }
        for b in buckets.indices { pending[b] = 0 }
        try startReadyBuckets()
        let inv = 1 / Float(communicator.size)
        for (b, request) in requests.enumerated() {
            try request?.wait()
            onBucketDone?(b)
            let r = buckets[b].range
            if communicator.size > 1 {
                let g = gradients + r.lowerBound
                for i in 0..<r.count { g[i] *= inv }
            }
        }
    }

    private func fail(_ error: Error) {
        FileHandle.standardError.write(Data("rank \(communicator.rank): \(error)\n".utf8))
        communicator.abort(code: 1)
    }
}
