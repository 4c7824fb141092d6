import Cohort
import CohortDistributed
import CohortFormats

/// The bench's observer: starts the clock and the counters once the warm-up steps are done (all
/// ranks together), then adds up each step's wait for the gradients and, with a bucketed MPI
/// reducer, how long each bucket's allreduce was in flight and how much of that was before
/// backward ended (overlapped with computation); and the step's time by layer kind.
final class BenchClock: StepObserver {
    let step: TrainingStep
    let warmup: Int
    let comm: Communicator
    let allocationCount: (() -> Int)?
    let reducer: GradientReducer?
    private(set) var started: UInt64 = 0
    private(set) var waited: UInt64 = 0, inFlight: UInt64 = 0, overlapped: UInt64 = 0
    private(set) var allocationsAtStart = 0, executionsAtStart = 0, insideAtStart = 0, bytesAtStart = 0
    /// Whole steps and their optimizer updates (ticks), beside the tape's own `profile` by layer kind.
    private(set) var stepTicks: UInt64 = 0, optimizerTicks: UInt64 = 0
    let profile = TapeProfile()
    private var bucketStart: [UInt64]

    init(step: TrainingStep, warmup: Int, communicator: Communicator, allocationCount: (() -> Int)?) {
        self.step = step
        self.warmup = warmup
        comm = communicator
        self.allocationCount = allocationCount
        reducer = step.sync as? GradientReducer
        bucketStart = [UInt64](repeating: 0, count: reducer?.buckets.count ?? 0)
        reducer?.onBucketStart = { [unowned self] in self.bucketStart[$0] = TraceRecorder.now() }
        reducer?.onBucketDone = { [unowned self] b in
            self.inFlight += TraceRecorder.now() - self.bucketStart[b]
            let backwardEnd = self.step.clock.backwardEnded
            if backwardEnd > self.bucketStart[b] { self.overlapped += backwardEnd - self.bucketStart[b] }
        }
    }

    /// The timed part begins (collective).
    func start() throws {
        try comm.barrier()
        waited = 0; inFlight = 0; overlapped = 0
        step.session.tape.profile = profile
        executionsAtStart = DNNL.shared?.executions ?? 0
        insideAtStart = DNNL.shared?.allocationsInside ?? 0
        allocationsAtStart = allocationCount?() ?? 0
        bytesAtStart = step.sync.bytesSent
        started = TraceRecorder.now()
    }

    func stepFinished(_ planned: PlannedStep, _ outcome: TrainingStep.Outcome, learningRate: Float) throws -> LoopControl {
        if planned.number == warmup {
            try start()
        } else if planned.number > warmup {
            waited += step.clock.synchronized - step.clock.backwardEnded
            optimizerTicks += step.clock.updated - step.clock.synchronized
            stepTicks += step.clock.updated - step.clock.started
        }
        return .proceed
    }
}

extension BenchClock {
    /// Milliseconds per timed step by layer kind (forward and backward), then the optimizer, the
    /// gradient sync and the rest of the step (loading the batch, zeroing the gradients).
    func timeByKind(steps: Int) -> [ThroughputBench.KindTime] {
        let perStep = { (ticks: UInt64) in Double(ticks) * 1e-6 / Double(steps) }
        var rows = OpKind.allCases.map { ThroughputBench.KindTime(kind: $0.name, ms: perStep(profile.forward[$0.rawValue] + profile.backward[$0.rawValue])) }
        let tape = profile.forward.reduce(0, +) + profile.backward.reduce(0, +)
        rows += [ThroughputBench.KindTime(kind: "optimizer", ms: perStep(optimizerTicks)),
                 ThroughputBench.KindTime(kind: "gradient sync", ms: perStep(waited)),
                 ThroughputBench.KindTime(kind: "data and other", ms: perStep(stepTicks &- tape &- optimizerTicks &- waited))]
        return rows
    }
}
