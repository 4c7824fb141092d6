#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Cohort

/// `read(2)` under a name that methods called `read` do not shadow.
@inline(__always)
func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(fd, buffer, count)
}

/// Sequential bytes of a data file, plain or gzip-compressed.
///
/// Compression is recognised by the gzip magic (1f 8b), not the name, so `x.idx` and `x.idx.gz`
/// both work; a file named `.gz` that is not gzip is reported as such rather than as a bad header.
final class DataFileStream {
    let path: String
    let isCompressed: Bool
    /// Size of the file on disk.
    let fileSize: Int
    private let fd: Int32
    private let gzip: GzipInflater?
    /// Bytes consumed from a plain file (gzip keeps its own count).
    private var plainOffset = 0

    init(path: String) throws {
        self.path = path
        var fd: Int32
        repeat { fd = open(path, O_RDONLY | O_CLOEXEC) } while fd < 0 && errno == EINTR
        guard fd >= 0 else {
            let reason = errno == ENOENT ? "no such file" : String(cString: strerror(errno))
            throw CohortError.invalid("\(path): cannot open: \(reason)")
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw CohortError.invalid("\(path): cannot stat: \(reason)")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw CohortError.invalid("\(path): not a regular file")
        }
        self.fd = fd
        fileSize = Int(info.st_size)
        var magic: (UInt8, UInt8) = (0, 0)
        let got = withUnsafeMutableBytes(of: &magic) { pread(fd, $0.baseAddress!, 2, 0) }
        isCompressed = got == 2 && magic == (0x1f, 0x8b)
        // Every throw below happens before `gzip` is set, so deinit (which closes fd) does not run.
        if isCompressed {
            do { gzip = try GzipInflater(path: path, fd: fd) } catch { close(fd); throw error }
        } else {
            if path.hasSuffix(".gz") {
                close(fd)
                throw CohortError.invalid("\(path): named .gz but is not a gzip file (it does not start with 1f 8b)")
            }
            gzip = nil
        }
    }

    deinit { close(fd) }

    /// An upper bound on the bytes still to come, to refuse absurd header sizes before allocating:
    /// exact for plain files; for gzip, deflate's best ratio (1032:1) applied to the whole file.
    var remainingBound: Int {
        isCompressed ? fileSize.multipliedReportingOverflow(by: 1032).partialValue : fileSize - plainOffset
    }

    /// Fills `buffer` completely unless the data ends first; returns the number of bytes written.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if let gzip { return try gzip.read(into: buffer) }
        guard let base = buffer.baseAddress else { return 0 }
        var written = 0
        while written < buffer.count {
            let n = systemRead(fd, base + written, buffer.count - written)
            if n < 0 {
                if errno == EINTR { continue }
                throw CohortError.invalid("\(path): cannot read: \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            written += n
        }
        plainOffset += written
        return written
    }

    /// Up to `count` bytes (fewer only where the data ends), for small headers.
    func readPrefix(_ count: Int) throws -> [UInt8] {
        var got = 0
        let bytes = try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            got = try read(into: UnsafeMutableRawBufferPointer(buffer))
            initialized = got
        }
        return bytes
    }

    /// Reads and discards the rest of the data, returning how many bytes there were.
    func countRemaining() throws -> Int {
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { scratch.deallocate() }
        var total = 0
        while true {
            let n = try read(into: scratch)
            total += n
            if n < scratch.count { return total }
        }
    }

    /// Reads everything that is left (for text formats such as CSV).
    func readAll() throws -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(isCompressed ? fileSize * 4 : fileSize - plainOffset)
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { chunk.deallocate() }
        while true {
            let n = try read(into: chunk)
            bytes.append(contentsOf: chunk[0..<n])
            if n < chunk.count { return bytes }
        }
    }

    /// Reads exactly `count` elements of `T` (a trivial type stored in the file's byte order).
    /// Throws `truncated: <what> = N bytes, found M` if the data ends early; reads nothing and
    /// counts what is there if the file cannot possibly hold them, so a corrupt header never
    /// triggers a huge allocation.
    func readArray<T>(of type: T.Type, count: Int, what: String) throws -> [T] {
        let (bytes, overflow) = count.multipliedReportingOverflow(by: MemoryLayout<T>.stride)
        guard !overflow else { throw CohortError.invalid("\(path): \(what) overflows the address space") }
        if bytes > remainingBound {
            let found = try countRemaining()
            throw CohortError.invalid("\(path): truncated: \(what) = \(bytes) bytes, found \(found)")
        }
        return try [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            let got = try read(into: raw)
            guard got == bytes else {
                throw CohortError.invalid("\(path): truncated: \(what) = \(bytes) bytes, found \(got)")
            }
            initialized = count
        }
    }

    /// Throws unless the data has ended: `<n> trailing bytes after <what>`.
    func expectEnd(after what: String) throws {
        let extra = try countRemaining()
        if extra > 0 {
            throw CohortError.invalid("\(path): \(extra) trailing byte\(extra == 1 ? "" : "s") after \(what)")
        }
    }
}
