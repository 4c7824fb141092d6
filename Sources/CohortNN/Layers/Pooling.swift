import CPooling
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

    /// The max-pooling kernel path: the fastest this CPU runs within COHORT_CPU, chosen once
    /// (tests set another to compare).
    nonisolated(unsafe) public static var path = cohort_pool_best_path()
    /// Every path this CPU runs (within COHORT_CPU), and the name of the one in use, for `cohort info`.
    public static var availablePaths: [cohort_pool_path] {
        (0..<COHORT_POOL_PATH_COUNT.rawValue).map { cohort_pool_path(rawValue: $0) }.filter { cohort_pool_path_available($0) != 0 }
    }
    public static var pathName: String { String(cString: cohort_pool_path_name(path)) }

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
        argmax = layer.kind == .max && requiresGrad ? [Int32](repeating: 0, count: output.value.count) : []
    }

    var planes: Int { xShape[0] * xShape[1] }

    func forward() {
        // Geometry in locals: the compiler cannot keep class fields in registers across the
        // stores below (they might alias), and this loop runs over every activation.
        let (H, W, oH, oW) = (g.height, g.width, g.outH, g.outW)
        let (kH, kW, sH, sW) = (g.kernelH, g.kernelW, g.strideH, g.strideW)
        let inPlane = H * W, outPlane = oH * oW
        let xs = x.value.pointer, ys = output.value.pointer
        if layer.kind == .average {
            let inv = 1 / Float(kH * kW)
            for p in 0..<planes {
                let src = xs + p * inPlane, dst = ys + p * outPlane
                for oy in 0..<oH {
                    for ox in 0..<oW {
                        var s: Float = 0
                        for ky in 0..<kH {
                            let row = src + (oy * sH + ky) * W + ox * sW
                            for kx in 0..<kW { s += row[kx] }
                        }
                        dst[oy * oW + ox] = s * inv
                    }
                }
            }
            return
        }
        // Max pooling: Sources/CPooling (a vector path for 2x2 windows), the argmax only for a backward pass.
        argmax.withUnsafeMutableBufferPointer { idx in
            cohort_maxpool_forward(xs, planes, Int32(H), Int32(W), Int32(kH), Int32(kW), Int32(sH), Int32(sW), ys,
                                   output.requiresGrad ? idx.baseAddress : nil, Pool2d.path)
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
