import Cohort

/// The mean of each channel over its whole plane: [B, C, H, W] -> [B, C] (PyTorch's
/// AdaptiveAvgPool2d(1) followed by flatten), how a ResNet turns its last feature maps into a vector.
public final class GlobalAvgPool: Layer {
    public init() {}

    public var summary: String { "GlobalAvgPool" }

    public func outputShape(for input: [Int]) throws -> [Int] {
        guard input.count == 4, input[2] > 0, input[3] > 0 else {
            throw CohortError.shape(op: summary, detail: "expects input [batch, channels, height, width], got \(shapeString(input))")
        }
        return [input[0], input[1]]
    }

    public func forward(_ x: Var, _ ctx: ForwardContext) throws -> Var {
        if x.shape.count != 4 { _ = try outputShape(for: x.shape) }
        let tape = ctx.tape
        let rg = tape.needsGrad(x)
        let n = try tape.node(GlobalAvgPoolNode.self, reusable: { $0.xShape == x.shape && $0.output.requiresGrad == rg }) {
            GlobalAvgPoolNode(xShape: x.shape, outputShape: try outputShape(for: x.shape), requiresGrad: rg)
        }
        n.x = x
        n.forward()
        tape.noteInput(x)
        return n.output
    }
}

final class GlobalAvgPoolNode: TapeNode {
    let xShape: [Int]
    var x: Var
    let output: Var
    let planes: Int, plane: Int  // B*C planes of H*W

    init(xShape: [Int], outputShape: [Int], requiresGrad: Bool) {
        self.xShape = xShape
        x = Var(Tensor(zeros: [0]))
        output = Var(output: outputShape, requiresGrad: requiresGrad)
        planes = xShape[0] * xShape[1]
        plane = xShape[2] * xShape[3]
    }

    func forward() {
        let xs = x.value.pointer, ys = output.value.pointer, inv = 1 / Float(plane)
        for p in 0..<planes {
            let src = xs + p * plane
            var s: Float = 0
            for i in 0..<plane { s += src[i] }
            ys[p] = s * inv
        }
    }

    func backward() {
        guard x.requiresGrad else { return }
        let gy = output.grad!.pointer, gx = x.grad!.pointer, inv = 1 / Float(plane)
        for p in 0..<planes {
            let dst = gx + p * plane, v = gy[p] * inv
            for i in 0..<plane { dst[i] += v }
        }
    }
}
