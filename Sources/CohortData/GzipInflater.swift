#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Cohort
import CZlib

/// Inflates a gzip file (one or more concatenated members, as `gzip -d` accepts) from a file
/// descriptor, checking every member's CRC-32 and length trailer.
///
/// zlib's own gzread forgives trailing garbage and reports truncation late; this drives `inflate`
/// directly so a truncated or corrupt stream is reported at once, naming the file.
final class GzipInflater {
    private let path: String
    private let fd: Int32
    /// zlib keeps a back pointer to its z_stream and refuses one that moved, so it lives on the heap.
    private let stream: UnsafeMutablePointer<z_stream>
    private let input: UnsafeMutablePointer<UInt8>
    private static let inputCapacity = 1 << 18
    private var inputAtEOF = false
    private var finished = false
    /// Uncompressed bytes produced so far, for messages.
    private(set) var produced = 0

    init(path: String, fd: Int32) throws {
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        // 15 window bits + 16: gzip wrapper only (a bare zlib or raw deflate stream is an error).
        let status = inflateInit2_(stream, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            stream.deallocate()  // before any property is set, so deinit does not run
            throw CohortError.invalid("\(path): cannot start gzip decompression (zlib error \(status))")
        }
        self.path = path
        self.fd = fd
        self.stream = stream
        input = .allocate(capacity: Self.inputCapacity)
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
        input.deallocate()
    }

    /// Fills `buffer` completely unless the data ends first; returns the number of bytes written.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        var written = 0
        while written < buffer.count && !finished {
            if stream.pointee.avail_in == 0 { try refill() }
            let want = min(buffer.count - written, Int(UInt32.max))
            stream.pointee.next_out = (base + written).assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = uInt(want)
            let status = inflate(stream, Z_NO_FLUSH)
            let got = want - Int(stream.pointee.avail_out)
            written += got
            produced += got
            switch status {
            case Z_OK:
                continue
            case Z_STREAM_END:
                try startNextMemberOrFinish()
            case Z_BUF_ERROR:
                // No progress was possible: zlib needs input that the file no longer has.
                if stream.pointee.avail_in == 0 && inputAtEOF { throw truncated() }
            case Z_DATA_ERROR, Z_NEED_DICT:
                throw CohortError.invalid("\(path): corrupt gzip stream: \(zlibMessage(default: "invalid data")) after \(produced) uncompressed bytes")
            case Z_MEM_ERROR:
                throw CohortError.invalid("\(path): out of memory while decompressing")
            default:
                throw CohortError.invalid("\(path): gzip decompression failed (zlib error \(status))")
            }
        }
        return written
    }

    private func truncated() -> CohortError {
        .invalid("\(path): truncated gzip stream: the file ends inside compressed data (after \(produced) uncompressed bytes)")
    }

    private func zlibMessage(default fallback: String) -> String {
        stream.pointee.msg.map { String(cString: $0) } ?? fallback
    }

    /// After a member ends: another member must follow (magic 1f 8b), or nothing at all.
    private func startNextMemberOrFinish() throws {
        try ensureInput(2)
        let available = Int(stream.pointee.avail_in)
        if available == 0 { finished = true; return }
        let next = stream.pointee.next_in!
        guard available >= 2, next[0] == 0x1f, next[1] == 0x8b else {
            throw CohortError.invalid("\(path): corrupt gzip file: unexpected bytes after the end of the compressed stream")
        }
        inflateReset(stream)
    }

    /// Reads more compressed input; at end of file, leaves avail_in at 0.
    private func refill() throws { try ensureInput(1) }

    /// Makes at least `count` bytes of input available unless the file ends first.
    private func ensureInput(_ count: Int) throws {
        var available = Int(stream.pointee.avail_in)
        guard available < count, !inputAtEOF else { return }
        if available > 0, let next = stream.pointee.next_in, next != input {
            input.update(from: next, count: available)  // keep the unread tail at the front
        }
        while available < count && !inputAtEOF {
            let n = systemRead(fd, input + available, Self.inputCapacity - available)
            if n < 0 {
                if errno == EINTR { continue }
                throw CohortError.invalid("\(path): cannot read: \(String(cString: strerror(errno)))")
            }
            if n == 0 { inputAtEOF = true }
            available += n
        }
        stream.pointee.next_in = input
        stream.pointee.avail_in = uInt(available)
    }
}
