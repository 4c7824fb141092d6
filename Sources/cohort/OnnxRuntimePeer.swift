import Cohort
import Foundation

/// onnxruntime timed in the same run as Cohort, so that their ratio is taken under the same load: a
/// python3 worker holds one session per exported model and, each time it is asked for model i, runs
/// it on the same raw batch for `seconds` (after one warm-up run) and answers with samples/s.
final class OnnxRuntimePeer {
    static let worker = #"""
    import sys
    import numpy as np, onnxruntime as ort
    threads, seconds, batch = int(sys.argv[1]), float(sys.argv[2]), np.load(sys.argv[3])
    sessions = []
    for path in sys.argv[4:]:
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        sessions.append(ort.InferenceSession(path, options, providers=["CPUExecutionProvider"]))
    print("ready", ort.__version__, flush=True)
    import time
    for line in sys.stdin:
        session = sessions[int(line)]
        session.run(None, {"input": batch})
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            session.run(None, {"input": batch})
            n += len(batch)
        print(n / (time.perf_counter() - start), flush=True)
    """#

    private let process = Process()
    private let requests = Pipe(), answers = Pipe()
    private var pending = Data()
    /// onnxruntime's version, as the worker reports it.
    private(set) var version = ""

    /// `batch` is an .npy file of raw inputs (the exported graphs normalise them themselves).
    init(models: [String], batch: String, threads: Int, seconds: Double) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", Self.worker, String(threads), String(seconds), batch] + models
        process.standardInput = requests
        process.standardOutput = answers
        signal(SIGPIPE, SIG_IGN)  // a worker that died is reported by the failed write, not by a signal
        do { try process.run() } catch { throw CohortError.invalid("bench inference --onnxruntime: cannot start python3: \(error)") }
        let ready = try answer()
        guard ready.hasPrefix("ready ") else { throw CohortError.invalid("bench inference --onnxruntime: the onnxruntime worker said \(ready)") }
        version = String(ready.dropFirst("ready ".count))
    }

    deinit {
        try? requests.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    /// Model i's samples/s, measured now.
    func measure(_ i: Int) throws -> Double {
        do { try requests.fileHandleForWriting.write(contentsOf: Data("\(i)\n".utf8)) } catch {
            throw CohortError.invalid("bench inference --onnxruntime: the onnxruntime worker stopped reading: \(error)")
        }
        let line = try answer()
        guard let speed = Double(line) else { throw CohortError.invalid("bench inference --onnxruntime: the onnxruntime worker said \(line)") }
        return speed
    }

    /// The worker's next line; its exit (python3 or onnxruntime missing, a model it rejects) is an error.
    private func answer() throws -> String {
        while true {
            if let end = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[pending.startIndex..<end], as: UTF8.self)
                pending.removeSubrange(pending.startIndex...end)
                return line
            }
            let more = answers.fileHandleForReading.availableData
            guard !more.isEmpty else {
                process.waitUntilExit()
                throw CohortError.invalid("bench inference --onnxruntime: the onnxruntime worker exited (status \(process.terminationStatus)); it needs python3 with numpy and onnxruntime (launch/test installs them)")
            }
            pending.append(more)
        }
    }
}
