import Cohort
import CohortDistributed
import CohortFormats
import Foundation

/// What a run tells the people watching it: the progress bar, the metrics files (rank 0), each
/// rank's own log (`--rank-logs`) and the trace (`--trace`), and the training metrics gathered
/// since the last log line.
final class RunTelemetry {
    let progress: Progress
    /// metrics.jsonl and TensorBoard events (rank 0 only).
    var logger: RunLogger?
    /// rank-N.log (`--rank-logs`), on every rank.
    private var rankLog: FileHandle?
    /// Spans per step (`--trace`).
    private(set) var trace: StepTrace?
    /// Loss, accuracy and step count since the last log line (this rank's).
    private var window = Window()
    /// When the loop began (the report's training time counts from here).
    private(set) var started = Runtime.now()

    struct Window {
        var loss = 0.0, steps = 0, correct = 0, examples = 0
        /// Seconds spent in the steps (start to update: loading, forward, backward, the gradient
        /// average, the update), and of those, waiting for the gradient average after backward.
        var stepSeconds = 0.0, waitSeconds = 0.0

        /// The figures as one array, to be summed over ranks by one allreduce.
        var sums: [Double] { [loss, Double(steps), Double(correct), Double(examples), stepSeconds, waitSeconds] }

        init() {}

        init(sums: [Double]) {
            (loss, steps, correct, examples) = (sums[0], Int(sums[1]), Int(sums[2]), Int(sums[3]))
            (stepSeconds, waitSeconds) = (sums[4], sums[5])
        }
    }

    init(progress: Progress) {
        self.progress = progress
    }

    /// The loop begins at `step` (later than 0 when resuming).
    func begin(at step: Int) {
        started = Runtime.now()
        progress.begin(at: step)
    }

    var hasRankLog: Bool { rankLog != nil }

    func openRankLog(folder: RunFolder, rank: Int) throws {
        try FileManager.default.createDirectory(at: folder.url, withIntermediateDirectories: true)
        let url = folder.url.appendingPathComponent("rank-\(rank).log")
        _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        guard let handle = try? FileHandle(forWritingTo: url) else {
            throw CohortError.invalid("\(url.path): cannot open the rank log")
        }
        handle.seekToEndOfFile()
        rankLog = handle
    }

    func logRank(_ line: String) {
        rankLog?.write(Data((line + "\n").utf8))
    }

    /// Starts recording spans; a bucketed MPI reducer also reports each bucket's allreduce.
    func startTrace(rank: Int, sync: GradientSync) {
        let t = StepTrace(rank: rank)
        trace = t
        if let reducer = sync as? GradientReducer {
            reducer.onBucketStart = { t.bucketStarted($0) }
            reducer.onBucketDone = { t.bucketDone($0) }
        }
    }

    /// Records a finished step's phases (the wait only when there is something to wait for).
    func traceStep(_ clock: StepClock, sync: GradientSyncKind) {
        guard let trace else { return }
        trace.recorder.record(trace.forwardBackward, start: clock.started, end: clock.backwardEnded)
        if sync != .none { trace.recorder.record(trace.wait, start: clock.backwardEnded, end: clock.synchronized) }
        trace.recorder.record(trace.optimizer, start: clock.synchronized, end: clock.updated)
    }

    /// Adds an applied step, and the phase times on its clock, to the window (no allocation: it runs every step).
    func count(_ outcome: TrainingStep.Outcome, clock: StepClock) {
        window.loss += Double(outcome.loss)
        window.steps += 1
        window.correct += outcome.correct
        window.examples += outcome.examples
        window.stepSeconds += Double(clock.updated &- clock.started) * 1e-9
        window.waitSeconds += Double(clock.synchronized &- clock.backwardEnded) * 1e-9
    }

    /// Empties the window and returns this rank's sums (loss, steps, correct, examples).
    func takeWindow() -> Window {
        defer { window = Window() }
        return window
    }
}
