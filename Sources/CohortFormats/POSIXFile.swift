#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Cohort

/// Thin, throwing wrappers over the POSIX calls the writers need. Foundation's FileHandle hides
/// fsync failures and partial writes; checkpoints and logs must not.
enum POSIXFile {
    /// `path: action: reason` as one line, e.g. `run/ckpt.safetensors: cannot open: Permission denied`.
    static func error(_ path: String, _ action: String, errno code: Int32 = errno) -> CohortError {
        .invalid("\(path): cannot \(action): \(String(cString: strerror(code)))")
    }

    static func openFile(_ path: String, flags: Int32, mode: mode_t = 0o644) throws -> Int32 {
        while true {
            let fd = open(path, flags | O_CLOEXEC, mode)
            if fd >= 0 { return fd }
            if errno != EINTR { throw error(path, "open") }
        }
    }

    /// Writes all `count` bytes, retrying short writes and EINTR.
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
        guard var p = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            let n = write(fd, p, left)
            if n < 0 {
                if errno == EINTR { continue }
                throw error(path, "write")
            }
            p += n
            left -= n
        }
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws {
        try bytes.withUnsafeBytes { try writeAll(fd, $0, path: path) }
    }

    static func sync(_ fd: Int32, path: String) throws {
        while fsync(fd) != 0 {
            if errno != EINTR { throw error(path, "fsync") }
        }
    }

    static func closeFile(_ fd: Int32, path: String) throws {
        // Linux closes the descriptor even when close reports EINTR, so never retry.
        if close(fd) != 0 && errno != EINTR { throw error(path, "close") }
    }
}
