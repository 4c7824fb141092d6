import CohortFormats

/// The spans `--trace` records per step: forward+backward, each bucket's allreduce (start to
/// completion), the wait for the reducer, and the optimizer update.
public final class StepTrace {
    public let recorder: TraceRecorder
    let forwardBackward: TraceLabel, wait: TraceLabel, optimizer: TraceLabel
    var buckets: [TraceLabel] = []
    var bucketStart: [UInt64] = []

    func bucketStarted(_ b: Int) {
        while buckets.count <= b {
            buckets.append(recorder.label("allreduce bucket \(buckets.count)", category: "communication"))
            bucketStart.append(0)
        }
        bucketStart[b] = TraceRecorder.now()
    }

    /// From the bucket's start to the moment its wait returned (thread 1 of the rank's track).
    func bucketDone(_ b: Int) {
        guard b < buckets.count else { return }
        recorder.record(buckets[b], start: bucketStart[b], end: TraceRecorder.now(), thread: 1)
    }

    public init(rank: Int) {
        recorder = TraceRecorder(processID: rank, processName: "rank \(rank)", capacity: 1 << 18)
        forwardBackward = recorder.label("forward+backward", category: "compute")
        wait = recorder.label("wait for allreduce", category: "communication")
        optimizer = recorder.label("optimizer", category: "compute")
        recorder.nameThread(0, "training")
        recorder.nameThread(1, "allreduce buckets")
    }
}
