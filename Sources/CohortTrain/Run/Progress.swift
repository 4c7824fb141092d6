import Foundation

/// Progress on the terminal: a bar redrawn in place (steps/s, loss, ETA) when stdout is a terminal,
/// plain lines every `logEvery` steps otherwise (logs and CI stay readable).
public final class Progress {
    let total: Int
    let isTerminal: Bool
    let enabled: Bool
    var started = Date()
    var startStep = 0
    var lastDraw = Date.distantPast

    public init(totalSteps: Int, enabled: Bool) {
        total = totalSteps
        self.enabled = enabled
        isTerminal = Progress.drawsBar
    }

    /// A bar when stdout is a terminal. Under mpirun every rank's stdout is a pseudo-terminal of
    /// Open MPI's even when mpirun's own output goes to a file, so launch/train says which it is
    /// in COHORT_PROGRESS (bar or lines).
    static var drawsBar: Bool {
        switch ProcessInfo.processInfo.environment["COHORT_PROGRESS"] {
        case "bar": return true
        case "lines": return false
        default: return isatty(STDOUT_FILENO) != 0
        }
    }

    public func begin(at step: Int) {
        started = Date()
        startStep = step
    }

    /// Called every step; draws at most 10 times a second on a terminal.
    public func update(step: Int, epoch: Int, loss: Float, learningRate: Float, logEvery: Int) {
        guard enabled else { return }
        let now = Date()
        let elapsed = now.timeIntervalSince(started)
        let rate = elapsed > 0 ? Double(step - startStep) / elapsed : 0
        let eta = rate > 0 ? Double(total - step) / rate : 0
        if isTerminal {
            guard now.timeIntervalSince(lastDraw) > 0.1 || step == total else { return }
            lastDraw = now
            let width = 30
            let filled = total > 0 ? min(width, width * step / total) : 0
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            let line = String(format: "\r[%@] %d/%d  epoch %d  loss %.4f  lr %.3g  %.1f steps/s  ETA %@ ",
                              bar, step, total, epoch, loss, learningRate, rate, Progress.duration(eta))
            FileHandle.standardOutput.write(Data(line.utf8))
            if step == total { FileHandle.standardOutput.write(Data("\n".utf8)) }
        } else if step % logEvery == 0 || step == total {
            print(String(format: "step %d/%d  epoch %d  loss %.4f  lr %.3g  %.1f steps/s  ETA %@",
                         step, total, epoch, loss, learningRate, rate, Progress.duration(eta)))
        }
    }

    /// Ends the bar's line before other output.
    public func interrupt() {
        if enabled && isTerminal { FileHandle.standardOutput.write(Data("\n".utf8)) }
    }

    public static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "?" }
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%dh%02dm", s / 3600, s % 3600 / 60) : String(format: "%dm%02ds", s / 60, s % 60)
    }
}
