/// One recorded operation: it knows its inputs and output and how to send the output's gradient back.
/// Nodes are objects, not closures, so a tape can keep them (and their buffers) from one step to
/// the next: after the first step, recording the same computation allocates nothing.
public protocol TapeNode: AnyObject {
    /// The value this node produced during the current recording.
    var output: Var { get }
    /// Adds d(loss)/d(input) for every input that requires a gradient, given `output.grad`.
    func backward()
    /// The kind of layer it computes, for the step's time by kind (`TapeProfile`).
    var kind: OpKind { get }
}

extension TapeNode {
    public var kind: OpKind { .other }
}

/// A reverse-mode autodiff tape.
///
/// Ops are methods on the tape (`tape.matmul(x, w)`): each appends a node. `backward(loss)` runs the
/// nodes in reverse. `reset()` starts a new recording; nodes of the previous recording are reused
/// in order when the same op comes again at the same position, so outputs of an earlier recording
/// are overwritten: copy a value out if you need it after the next recording. Each tape is
/// independent: two models, or two tapes on one model, never share state.
public final class Tape {
    private var nodes: [TapeNode] = []
    private(set) var count = 0
    private var generation = 0
    /// Leaves read during this recording, in order of first use.
    private var leaves: [Var] = []
    /// When false, ops still compute but record nothing to differentiate (inference, teachers).
    public var isRecording: Bool
    /// When set, the time of every node's forward and backward is added to it by the node's kind.
    public var profile: TapeProfile?

    public init(recording: Bool = true) {
        isRecording = recording
        nodes.reserveCapacity(64)
        leaves.reserveCapacity(64)
    }

    /// Starts a new recording (call before each forward pass).
    public func reset() {
        count = 0
        generation += 1
        leaves.removeAll(keepingCapacity: true)
        profile?.begin()
    }

    /// Number of nodes recorded since the last reset.
    public var recordedCount: Int { count }

    /// The node at the next position, reused when it is of type `N` and `reusable` approves it.
    /// Used by op implementations (here and in other modules) to get their node for this position.
    @inline(__always)
    public func node<N: TapeNode>(_ type: N.Type, reusable: (N) -> Bool, make: () throws -> N) rethrows -> N {
        if count < nodes.count, let n = nodes[count] as? N, reusable(n) {
            count += 1
            profile?.mark(next: n.kind)
            return n
        }
        let n = try make()
        if count < nodes.count {
            nodes.removeSubrange(count...)  // the computation changed: drop the stale tail
        }
        nodes.append(n)
        count += 1
        profile?.mark(next: n.kind)
        return n
    }

    /// Notes that the node just recorded reads `v` (for the gradient-final hook).
    @inline(__always)
    public func noteInput(_ v: Var) {
        let me = ObjectIdentifier(self)
        guard v.isLeaf, v.requiresGrad, v.seenInRecording != generation || v.seenBy != me else { return }
        precondition(!isRecording || v.grad != nil, "a leaf without gradient memory was read while recording: train through a TrainingSession, which binds a GradientArena")
        v.seenBy = me
        v.seenInRecording = generation
        v.firstUse = count - 1
        leaves.append(v)
    }

    /// Whether an op on these inputs needs a gradient (no variadics: they would allocate per op).
    @inline(__always)
    public func needsGrad(_ a: Var) -> Bool { isRecording && a.requiresGrad }
    @inline(__always)
    public func needsGrad(_ a: Var, _ b: Var) -> Bool { isRecording && (a.requiresGrad || b.requiresGrad) }

    /// Backpropagates from a scalar `loss` (seed 1), or from any output with an explicit `seed`
    /// gradient of its shape. Leaf gradients accumulate; call `zeroGrad` on them between steps.
    public func backward(_ loss: Var, seed: Tensor? = nil) throws {
        guard isRecording else { throw CohortError.invalid("backward: the tape was not recording") }
        guard loss.requiresGrad, let g = loss.grad else {
            throw CohortError.invalid("backward: the output does not depend on anything that requires a gradient")
        }
        if let seed {
            guard seed.count == loss.value.count else {
                throw CohortError.shape(op: "backward", detail: "seed \(shapeString(seed.shape)) for output \(shapeString(loss.shape))")
            }
        } else if loss.value.count != 1 {
            throw CohortError.shape(op: "backward", detail: "output \(shapeString(loss.shape)) is not a scalar: pass a seed gradient")
        }
        profile?.mark(next: nil)  // the loss's forward ends; zeroing and seeding count as other ops
        // Outputs' gradients are recomputed from scratch each backward.
        for i in 0..<count where nodes[i].output.requiresGrad { nodes[i].output.grad!.zero() }
        if loss.isLeaf { loss.grad!.zero() }
        if let seed { try g.assign(seed) } else { g.pointer[0] += 1 }
        profile?.mark(next: nil)
        var nextLeaf = leaves.count - 1
        var i = count - 1
        while i >= 0 {
            let n = nodes[i]
            if n.output.requiresGrad {
                let started = profile == nil ? 0 : TapeProfile.now()
                n.backward()
                profile?.addBackward(n.kind, since: started)
            }
            // Leaves first read by node i have received every contribution now.
            while nextLeaf >= 0 && leaves[nextLeaf].firstUse >= i {
                let leaf = leaves[nextLeaf]
                leaf.onGradientFinal?(leaf)
                nextLeaf -= 1
            }
            i -= 1
        }
    }
}
