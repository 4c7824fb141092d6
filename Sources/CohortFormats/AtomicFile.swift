#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Cohort
import Foundation

/// Replaces a file so that readers, and the file system after a crash, see either the old complete
/// content or the new complete content, never a mix: the bytes go to a temporary file in the same
/// directory, are fsynced, and the temporary file is renamed over the destination (rename is atomic
/// within one file system); the directory is then fsynced so the rename itself is durable.
public enum AtomicFile {
    /// Receives the new content piece by piece, so large checkpoints need not be assembled in memory.
    public struct Sink {
        let fd: Int32
        let path: String
        /// Bytes written so far.
        public private(set) var byteCount = 0

        /// Appends raw bytes.
        public mutating func write(_ bytes: UnsafeRawBufferPointer) throws {
            try POSIXFile.writeAll(fd, bytes, path: path)
            byteCount += bytes.count
        }

        /// Appends the bytes of `data`.
        public mutating func write(_ data: Data) throws {
            try data.withUnsafeBytes { try write($0) }
        }

        /// Appends `bytes`.
        public mutating func write(_ bytes: [UInt8]) throws {
            try bytes.withUnsafeBytes { try write($0) }
        }

        /// Appends `text` as UTF-8.
        public mutating func write(_ text: String) throws {
            var text = text
            try text.withUTF8 { try write(UnsafeRawBufferPointer($0)) }
        }
    }

    /// Atomically replaces `url` with `data`.
    public static func write(_ data: Data, to url: URL, permissions: mode_t = 0o644) throws {
        try write(to: url, permissions: permissions) { try $0.write(data) }
    }

    /// Atomically replaces `url` with whatever `body` writes into the sink. If `body` throws,
    /// the destination is untouched, the temporary file is removed, and the error propagates.
    public static func write(to url: URL, permissions: mode_t = 0o644,
                             _ body: (inout Sink) throws -> Void) throws {
        let path = url.path
        let directory = url.deletingLastPathComponent().path
        // Hidden and unique: a crash may leave it behind, but never under the final name.
        var template = Array("\(directory)/.\(url.lastPathComponent).tmp-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw POSIXFile.error(path, "create a temporary file in \(directory)") }
        let tempPath = String(cString: template)
        var closed = false
        do {
            // mkstemp creates 0600; checkpoints and logs should be readable like any other output.
            guard fchmod(fd, permissions) == 0 else { throw POSIXFile.error(tempPath, "chmod") }
            var sink = Sink(fd: fd, path: tempPath)
            try body(&sink)
            try POSIXFile.sync(fd, path: tempPath)
            closed = true
            try POSIXFile.closeFile(fd, path: tempPath)
            guard rename(tempPath, path) == 0 else { throw POSIXFile.error(path, "rename \(tempPath) to it") }
        } catch {
            if !closed { _ = close(fd) }
            unlink(tempPath)
            throw error
        }
        syncDirectory(directory)
    }

    /// Makes the rename durable. Best effort: some file systems refuse fsync on a directory, and
    /// the new content is already complete under its name.
    private static func syncDirectory(_ directory: String) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        _ = close(fd)
    }
}
