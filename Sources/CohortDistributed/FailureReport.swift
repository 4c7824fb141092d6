import Foundation

/// Where a failing rank leaves its one-line message for the launcher (`COHORT_FAILURE_FILE`, set by
/// launch/train on the node it runs on): mpirun can wait on a host that no longer answers long
/// after a rank has said why the job must end, and the launcher ends mpirun a few seconds after
/// this file appears. Ranks on other nodes write to their own node's file system, harmlessly.
public enum FailureReport {
    /// Appends `line` (best effort, async-signal-safe enough for a dying process: open, write, close).
    public static func record(_ line: String) {
        guard let path = getenv("COHORT_FAILURE_FILE") else { return }
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        guard fd >= 0 else { return }
        let text = line.hasSuffix("\n") ? line : line + "\n"
        _ = text.withCString { write(fd, $0, strlen($0)) }
        close(fd)
    }
}
