import CohortFormats

/// Process-wide facilities of a run (the command-line tool adds the communicator and the error
/// policy in an extension).
public enum Runtime {
    /// Monotonic seconds, on the clock traces and step timings use (`TraceRecorder.now()`).
    public static func now() -> Double { Double(TraceRecorder.now()) * 1e-9 }
}
