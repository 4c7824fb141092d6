#if canImport(Glibc)
import Glibc
#endif

/// What kind of layer a tape node computes, for the step's time by layer kind (`TapeProfile`).
public enum OpKind: Int, CaseIterable, Sendable {
    case convolution, pooling, normalization, elementwise, linear, loss, other

    public var name: String {
        switch self {
        case .convolution: return "convolution"
        case .pooling: return "pooling"
        case .normalization: return "batch/layer norm"
        case .elementwise: return "elementwise"
        case .linear: return "linear"
        case .loss: return "loss"
        case .other: return "other ops"
        }
    }
}

/// Time a tape spends per kind of node, forward and backward (nanoseconds), while it is set as
/// the tape's `profile` (`cohort bench train`). A node's forward runs between its recording and
/// the next node's (the layer computes right after `Tape.node` hands it the node), so the tape
/// marks the clock at each recording and at the start of backward instead of every layer timing
/// itself; backward times each node's `backward()`. Counts are preallocated: nothing allocates.
public final class TapeProfile {
    public private(set) var forward = [UInt64](repeating: 0, count: OpKind.allCases.count)
    public private(set) var backward = [UInt64](repeating: 0, count: OpKind.allCases.count)
    private var last: UInt64 = 0
    private var lastKind: OpKind = .other

    public init() {}

    public static func now() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return UInt64(t.tv_sec) &* 1_000_000_000 &+ UInt64(t.tv_nsec)
    }

    /// A recording starts: nothing is being computed yet.
    func begin() {
        last = Self.now()
        lastKind = .other
    }

    /// The forward of the previous node ended here; `next` is the node now recorded (nil: backward starts).
    func mark(next: OpKind?) {
        let t = Self.now()
        forward[lastKind.rawValue] &+= t &- last
        last = t
        lastKind = next ?? .other
    }

    func addBackward(_ kind: OpKind, since start: UInt64) {
        backward[kind.rawValue] &+= Self.now() &- start
    }
}
