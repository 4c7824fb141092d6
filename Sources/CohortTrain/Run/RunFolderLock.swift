import Cohort
import Foundation

/// An advisory lock on a run folder (`<folder>/.lock`, flock), held for as long as the run lives:
/// a second run on the same folder stops at once instead of mixing its config, checkpoints and
/// metrics with the first's. The kernel drops the lock when the holder dies, however it dies, so a
/// stale lock file is simply taken over; the file records who holds it, for the message.
public final class RunFolderLock {
    private let fd: Int32

    private init(fd: Int32) { self.fd = fd }

    deinit { close(fd) }

    /// Takes the lock of `folder` (creating the folder), or throws "<folder>: in use by process P on host H".
    public static func acquire(_ folder: URL) throws -> RunFolderLock {
        do { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) } catch {
            throw CohortError.invalid("\(folder.path): cannot create the run folder: \(error.localizedDescription)")
        }
        let path = folder.appendingPathComponent(".lock").path
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CohortError.invalid("\(path): cannot open the run folder's lock: \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            close(fd)
            let parts = holder.split(separator: " ")
            let who = parts.count == 2 ? "process \(parts[0]) on host \(parts[1])" : "another process"
            throw CohortError.invalid("\(folder.path): in use by \(who); wait for that run to end, or choose another output.directory or name")
        }
        let me = "\(getpid()) \(ProcessInfo.processInfo.hostName)\n"
        _ = ftruncate(fd, 0)
        _ = me.withCString { pwrite(fd, $0, strlen($0), 0) }
        return RunFolderLock(fd: fd)
    }
}
