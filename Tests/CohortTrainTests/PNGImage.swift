import CZlib
import Foundation

/// A decoded PNG image: 8-bit greyscale, RGB or RGBA, not interlaced (what rsvg-convert writes),
/// so tests can look at the pixels of a rendered chart.
struct PNGImage {
    struct Failure: Error, CustomStringConvertible { let description: String }

    let width: Int
    let height: Int
    /// Red, green, blue, alpha of every pixel, row by row.
    let rgba: [UInt8]

    init(_ data: Data) throws {
        let bytes = [UInt8](data)
        guard bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) else { throw Failure(description: "not a PNG file") }
        func be32(_ at: Int) -> Int { bytes[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }
        var header: [UInt8] = [], compressed: [UInt8] = []
        var at = 8
        chunks: while at + 12 <= bytes.count {
            let length = be32(at), type = String(decoding: bytes[(at + 4)..<(at + 8)], as: UTF8.self)
            guard at + 12 + length <= bytes.count else { throw Failure(description: "chunk \(type) runs past the end") }
            let body = bytes[(at + 8)..<(at + 8 + length)]
            switch type {
            case "IHDR": header = Array(body)
            case "IDAT": compressed += body
            case "IEND": break chunks
            default: break
            }
            at += 12 + length
        }
        guard header.count == 13 else { throw Failure(description: "no IHDR chunk") }
        let width = header[0..<4].reduce(0) { $0 << 8 | Int($1) }, height = header[4..<8].reduce(0) { $0 << 8 | Int($1) }
        let channelsByType: [UInt8: Int] = [0: 1, 2: 3, 6: 4]
        guard header[8] == 8, let channels = channelsByType[header[9]], header[12] == 0 else {
            throw Failure(description: "unsupported PNG: bit depth \(header[8]), colour type \(header[9]), interlace \(header[12])")
        }
        let stride = width * channels
        var raw = [UInt8](repeating: 0, count: height * (stride + 1))
        var size = uLongf(raw.count)
        let status = uncompress(&raw, &size, compressed, uLong(compressed.count))
        guard status == Z_OK, Int(size) == raw.count else { throw Failure(description: "zlib: status \(status), \(size) of \(raw.count) bytes") }

        // Undo each row's filter (PNG spec, section 9): every byte was stored as a difference from
        // its left (a), upper (b) or upper-left (c) neighbour, or a predictor made of them.
        var pixels = [UInt8](repeating: 0, count: height * stride)
        for y in 0..<height {
            let filter = raw[y * (stride + 1)]
            for i in 0..<stride {
                let x = raw[y * (stride + 1) + 1 + i]
                let a = i >= channels ? Int(pixels[y * stride + i - channels]) : 0
                let b = y > 0 ? Int(pixels[(y - 1) * stride + i]) : 0
                let c = i >= channels && y > 0 ? Int(pixels[(y - 1) * stride + i - channels]) : 0
                let predictor: Int
                switch filter {
                case 0: predictor = 0
                case 1: predictor = a
                case 2: predictor = b
                case 3: predictor = (a + b) / 2
                case 4:
                    let p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
                    predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c
                default: throw Failure(description: "row \(y): unknown filter \(filter)")
                }
                pixels[y * stride + i] = x &+ UInt8(truncatingIfNeeded: predictor)
            }
        }
        var rgba = [UInt8](repeating: 255, count: width * height * 4)
        for p in 0..<(width * height) {
            for k in 0..<3 { rgba[p * 4 + k] = pixels[p * channels + (channels == 1 ? 0 : k)] }
            if channels == 4 { rgba[p * 4 + 3] = pixels[p * channels + 3] }
        }
        (self.width, self.height, self.rgba) = (width, height, rgba)
    }

    func pixel(_ x: Int, _ y: Int) -> (r: Int, g: Int, b: Int) {
        let i = (y * width + x) * 4
        return (Int(rgba[i]), Int(rgba[i + 1]), Int(rgba[i + 2]))
    }
}
