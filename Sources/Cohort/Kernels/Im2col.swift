/// Geometry of a 2-D convolution or pooling window over NCHW input.
public struct ConvGeometry: Equatable, Sendable {
    public let channels: Int, height: Int, width: Int
    public let kernelH: Int, kernelW: Int
    public let strideH: Int, strideW: Int
    public let padH: Int, padW: Int
    public let outH: Int, outW: Int

    public init(channels: Int, height: Int, width: Int, kernel: (Int, Int), stride: (Int, Int) = (1, 1),
                padding: (Int, Int) = (0, 0), op: String = "im2col") throws {
        guard kernel.0 > 0, kernel.1 > 0, stride.0 > 0, stride.1 > 0, padding.0 >= 0, padding.1 >= 0 else {
            throw CohortError.shape(op: op, detail: "kernel \(kernel), stride \(stride) and padding \(padding) must be positive (padding non-negative)")
        }
        let oh = (height + 2 * padding.0 - kernel.0) / stride.0 + 1
        let ow = (width + 2 * padding.1 - kernel.1) / stride.1 + 1
        guard height + 2 * padding.0 >= kernel.0, width + 2 * padding.1 >= kernel.1, oh > 0, ow > 0 else {
            throw CohortError.shape(op: op, detail: "kernel \(kernel.0)x\(kernel.1) does not fit input \(height)x\(width) with padding \(padding.0),\(padding.1)")
        }
        self.channels = channels; self.height = height; self.width = width
        kernelH = kernel.0; kernelW = kernel.1
        strideH = stride.0; strideW = stride.1
        padH = padding.0; padW = padding.1
        outH = oh; outW = ow
    }

    /// Rows of the column matrix: one per (channel, ky, kx).
    public var patchSize: Int { channels * kernelH * kernelW }
    public var outPixels: Int { outH * outW }
}

/// im2col turns one image [C, H, W] into the column matrix [C*kh*kw, outH*outW] so a convolution
/// becomes one sgemm; col2im is its adjoint (it adds overlapping patches back), i.e. the gradient.
public enum Im2col {
    /// Writes the columns of image `x` into `cols`, whose rows are `ldc` floats apart (ldc >= outPixels,
    /// so several images can share one wide column matrix).
    public static func forward(_ x: UnsafePointer<Float>, _ g: ConvGeometry, cols: UnsafeMutablePointer<Float>, ldc: Int) {
        for c in 0..<g.channels {
            for ky in 0..<g.kernelH {
                for kx in 0..<g.kernelW {
                    fillRow(x + c * g.height * g.width, g, ky: ky, kx: kx, into: cols + ((c * g.kernelH + ky) * g.kernelW + kx) * ldc)
                }
            }
        }
    }

    /// The columns of `batch` images (`imageStride` floats apart) side by side in one matrix whose
    /// rows are `ldc` >= batch x outPixels floats apart: image b fills the outPixels columns from b x outPixels. Row by
    /// row, every image in turn, so the writes run along each row; image by image they would jump
    /// between rows a page or more apart for every few floats (a third of a ResNet's inference
    /// time went there).
    public static func forward(batch: Int, _ x: UnsafePointer<Float>, imageStride: Int, _ g: ConvGeometry,
                               cols: UnsafeMutablePointer<Float>, ldc: Int) {
        let planeSize = g.height * g.width, P = g.outPixels
        for c in 0..<g.channels {
            for ky in 0..<g.kernelH {
                for kx in 0..<g.kernelW {
                    let row = cols + ((c * g.kernelH + ky) * g.kernelW + kx) * ldc
                    for b in 0..<batch { fillRow(x + b * imageStride + c * planeSize, g, ky: ky, kx: kx, into: row + b * P) }
                }
            }
        }
    }

    /// One image's part of the column row (channel plane, ky, kx): outPixels floats at `dst`.
    @inline(__always)
    static func fillRow(_ plane: UnsafePointer<Float>, _ g: ConvGeometry, ky: Int, kx: Int, into row: UnsafeMutablePointer<Float>) {
        for oy in 0..<g.outH {
            let iy = oy * g.strideH - g.padH + ky
            let dst = row + oy * g.outW
            if iy < 0 || iy >= g.height {
                for ox in 0..<g.outW { dst[ox] = 0 }
                continue
            }
            let src = plane + iy * g.width
            if g.strideW == 1 {
                // ix = ox + shift; the valid ox form one run [lo, hi). Plain loops: rows are
                // short (outW floats), and a memmove call per row costs more than the copy.
                let shift = kx - g.padW
                let lo = Swift.min(Swift.max(0, -shift), g.outW), hi = Swift.max(Swift.min(g.outW, g.width - shift), lo)
                for ox in 0..<lo { dst[ox] = 0 }
                let s = src + shift
                for ox in lo..<hi { dst[ox] = s[ox] }
                for ox in hi..<g.outW { dst[ox] = 0 }
            } else {
                for ox in 0..<g.outW {
                    let ix = ox * g.strideW - g.padW + kx
                    dst[ox] = (ix >= 0 && ix < g.width) ? src[ix] : 0
                }
            }
        }
    }

    /// Adds the columns back into image gradient `gx` [C, H, W] (accumulating).
    public static func backward(_ cols: UnsafePointer<Float>, _ g: ConvGeometry, ldc: Int, gx: UnsafeMutablePointer<Float>) {
        for c in 0..<g.channels {
            let plane = gx + c * g.height * g.width
            for ky in 0..<g.kernelH {
                for kx in 0..<g.kernelW {
                    let row = cols + ((c * g.kernelH + ky) * g.kernelW + kx) * ldc
                    for oy in 0..<g.outH {
                        let iy = oy * g.strideH - g.padH + ky
                        if iy < 0 || iy >= g.height { continue }
                        let src = row + oy * g.outW
                        let dst = plane + iy * g.width
                        if g.strideW == 1 {
                            let shift = kx - g.padW
                            let lo = Swift.min(Swift.max(0, -shift), g.outW), hi = Swift.max(Swift.min(g.outW, g.width - shift), lo)
                            let d = dst + shift
                            for ox in lo..<hi { d[ox] += src[ox] }
                        } else {
                            for ox in 0..<g.outW {
                                let ix = ox * g.strideW - g.padW + kx
                                if ix >= 0 && ix < g.width { dst[ix] += src[ox] }
                            }
                        }
                    }
                }
            }
        }
    }
}
