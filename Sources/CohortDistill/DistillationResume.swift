import Cohort
import CohortDistributed
import Foundation

/// How `cohort distill` starts in its run folder: afresh (every sub-run trained again), resumed
/// (`--resume`: the folder must hold this distillation), or resumed if the folder holds one
/// (`--resume-if-saved`, what `launch/distill --restarts` passes on a restart).
public enum DistillationStart: Sendable {
    case fresh
    case resume
    case resumeIfSaved
}

/// The run folder's record of the distillation it holds: `config.yaml`, the resolved config of its
/// first start. A resume continues only that distillation, so no sub-run is carried over from other
/// settings (teachers, transfer set, students, schedule); `--repeats` and `--baseline` are not in the
/// config, and a resume may add seeds or the baseline.
enum DistillationResume {
    static let fileName = "config.yaml"

    /// Checks (resume) or writes (fresh start) the folder's config, on rank 0; returns whether the
    /// sub-runs resume, the same on every rank.
    static func begin(_ yaml: String, in folder: URL, start: DistillationStart, communicator comm: Communicator) throws -> Bool {
        let answer = Tensor(zeros: [1])
        if comm.rank == 0 {
            let file = folder.appendingPathComponent(fileName)
            let fm = FileManager.default
            let resuming: Bool
            switch start {
            case .fresh: resuming = false
            case .resumeIfSaved: resuming = fm.fileExists(atPath: file.path)
            case .resume:
                guard fm.fileExists(atPath: folder.path) else {
                    throw CohortError.invalid("\(folder.path): no distillation to resume there; start it without --resume")
                }
                resuming = true
            }
            if resuming, fm.fileExists(atPath: file.path) {
                let saved: String
                do { saved = try String(contentsOf: file, encoding: .utf8) } catch {
                    throw CohortError.invalid("\(file.path): cannot read the config of the run to resume: \(error.localizedDescription)")
                }
                if let difference = firstDifference(saved, yaml) {
                    throw CohortError.invalid("\(file.path): the run was started with another config (\(difference)); resume with the same config and --set options, or start afresh without --resume")
                }
            } else {
                // A fresh start, or a folder left by a cohort from before this record: from now on it holds this config.
                do {
                    try fm.createDirectory(at: folder, withIntermediateDirectories: true)
                    try yaml.write(to: file, atomically: true, encoding: .utf8)
                } catch {
                    throw CohortError.invalid("\(file.path): cannot write the run's config: \(error.localizedDescription)")
                }
            }
            answer.pointer[0] = resuming ? 1 : 0
        }
        try comm.broadcast(answer.pointer, count: 1, root: 0)
        return answer.pointer[0] == 1
    }

    /// The first line where two configs differ, as "line N: `then` then, `now` now"; nil when equal.
    static func firstDifference(_ then: String, _ now: String) -> String? {
        let a = then.split(separator: "\n", omittingEmptySubsequences: false), b = now.split(separator: "\n", omittingEmptySubsequences: false)
        for i in 0..<max(a.count, b.count) {
            let x = i < a.count ? String(a[i]) : "(end)", y = i < b.count ? String(b[i]) : "(end)"
            if x != y {
                return "line \(i + 1): `\(x.trimmingCharacters(in: .whitespaces))` then, `\(y.trimmingCharacters(in: .whitespaces))` now"
            }
        }
        return nil
    }
}
