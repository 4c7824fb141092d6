import Cohort

/// Max or average pooling over NCHW input (no padding; stride defaults to the window).
public final class Pool2d: Layer {
    public enum Kind: Sendable { case max, average }
    public let kind: Kind
    public let window: (Int, Int), stride: (Int, Int)

    public init(_ kind: Kind, window: (Int, Int), stride: (Int, Int)? = nil) {
        self.kind = kind
        self.window = window
        self.stride = stride ?? window
    }

    public var summary: String { "\(kind == .max ? "MaxPool2d" : "AvgPool2d")(\(window.0)x\(window.1), stride \(stride.0))" }

    func geometry(_ input: [Int]) throws -> ConvGeometry {
        guard input.count == 4 else {
            throw CohortError.shape(op: summary, detail: "expects input [batch, channels, height, width], got \(shapeString(input))")
        }
        do {
            return try ConvGeometry(channels: input[1], height: input[2], width: input[3], kernel: window, stride: stride)
        } catch let CohortError.shape(_, detail) {
            throw CohortError.shape(op: summary, detail: detail)
        }
    }

    public func outputShape(for input: [Int]) throws -> [Int] {
        let g = try geometry(input)
        return [input[0], input[1], g.outH, g.outW]
    }

    public func forward(_ x: Var, _ ctx: ForwardContext) throws -> Var {
        let tape = ctx.tape
        let rg = tape.needsGrad(x)
        let n = try tape.node(PoolNode.self, reusable: { $0.layer === self && $0.xShape == x.shape && $0.output.requiresGrad == rg }) {
            PoolNode(layer: self, xShape: x.shape, geometry: try geometry(x.shape), requiresGrad: rg)
        }
        n.x = x
        n.forward()
        tape.noteInput(x)
        return n.output
    }
}

final class PoolNode: TapeNode {
    unowned let layer: Pool2d
    let xShape: [Int]
    let g: ConvGeometry
    var x: Var
    let output: Var
    var argmax: [Int32]  // per output element, the flat index within its input plane (max pooling)

    init(layer: Pool2d, xShape: [Int], geometry: ConvGeometry, requiresGrad: Bool) {
        self.layer = layer; self.xShape = xShape; g = geometry
        x = Var(Tensor(zeros: [0]))
        output = Var(output: [xShape[0], xShape[1], g.outH, g.outW], requiresGrad: requiresGrad)
        argmax = layer.kind == .max ? [Int32](repeating: 0, count: output.value.count) : []
    }

    var planes: Int { xShape[0] * xShape[1] }

    func forward() {
        let inPlane = g.height * g.width, outPlane = g.outH * g.outW
        let xs = x.value.pointer, ys = output.value.pointer
        let isMax = layer.kind == .max
        let inv = 1 / Float(g.kernelH * g.kernelW)
        argmax.withUnsafeMutableBufferPointer { idx in
            for p in 0..<planes {
                let src = xs + p * inPlane, dst = ys + p * outPlane
                for oy in 0..<g.outH {
                    for ox in 0..<g.outW {
                        let y0 = oy * g.strideH, x0 = ox * g.strideW
                        if isMax {
                            var best = src[y0 * g.width + x0], at = y0 * g.width + x0
                            for ky in 0..<g.kernelH {
                                let row = (y0 + ky) * g.width + x0
                                for kx in 0..<g.kernelW where src[row + kx] > best { best = src[row + kx]; at = row + kx }
                            }
                            dst[oy * g.outW + ox] = best
                            idx[p * outPlane + oy * g.outW + ox] = Int32(at)
                        } else {
                            var s: Float = 0
                            for ky in 0..<g.kernelH {
                                let row = (y0 + ky) * g.width + x0
                                for kx in 0..<g.kernelW { s += src[row + kx] }
                            }
                            dst[oy * g.outW + ox] = s * inv
                        }
                    }
                }
            }
        }
    }

    func backward() {
        guard x.requiresGrad else { return }
        let inPlane = g.height * g.width, outPlane = g.outH * g.outW
        let gy = output.grad!.pointer, gx = x.grad!.pointer
        if layer.kind == .max {
            argmax.withUnsafeBufferPointer { idx in
                for p in 0..<planes {
                    for o in 0..<outPlane { gx[p * inPlane + Int(idx[p * outPlane + o])] += gy[p * outPlane + o] }
                }
            }
            return
        }
        let inv = 1 / Float(g.kernelH * g.kernelW)
        for p in 0..<planes {
            for oy in 0..<g.outH {
                for ox in 0..<g.outW {
                    let v = gy[p * outPlane + oy * g.outW + ox] * inv
                    let y0 = oy * g.strideH, x0 = ox * g.strideW
                    for ky in 0..<g.kernelH {
                        let row = gx + p * inPlane + (y0 + ky) * g.width + x0
                        for kx in 0..<g.kernelW { row[kx] += v }
                    }
                }
            }
        }
    }
}
