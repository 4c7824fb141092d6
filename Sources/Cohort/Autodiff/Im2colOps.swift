/// Patches of NCHW images as columns: [N, C, H, W] -> [N, C*kh*kw, outH*outW].
final class Im2colNode: TapeNode {
    var kind: OpKind { .convolution }
    var x: Var
    let g: ConvGeometry
    let xShape: [Int]
    let output: Var

    init(_ x: Var, geometry: ConvGeometry, requiresGrad: Bool) {
        self.x = x; g = geometry; xShape = x.shape
        output = Var(output: [x.shape[0], g.patchSize, g.outPixels], requiresGrad: requiresGrad)
    }

    func forward() {
        let image = g.channels * g.height * g.width, cols = g.patchSize * g.outPixels
        for i in 0..<xShape[0] {
            Im2col.forward(x.value.pointer + i * image, g, cols: output.value.pointer + i * cols, ldc: g.outPixels)
        }
    }

    func backward() {
        guard x.requiresGrad else { return }
        let image = g.channels * g.height * g.width, cols = g.patchSize * g.outPixels
        for i in 0..<xShape[0] {
            Im2col.backward(output.grad!.pointer + i * cols, g, ldc: g.outPixels, gx: x.grad!.pointer + i * image)
        }
    }
}

extension Tape {
    /// Image patches as columns, the first half of a convolution (the second is a matmul).
    public func im2col(_ x: Var, kernel: (Int, Int), stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0)) throws -> Var {
        guard x.shape.count == 4 else {
            throw CohortError.shape(op: "im2col", detail: "input \(shapeString(x.shape)) must be [N, C, H, W]")
        }
        let rg = needsGrad(x)
        let n = try node(Im2colNode.self, reusable: {
            $0.xShape == x.shape && $0.g.kernelH == kernel.0 && $0.g.kernelW == kernel.1 && $0.g.strideH == stride.0
                && $0.g.strideW == stride.1 && $0.g.padH == padding.0 && $0.g.padW == padding.1 && $0.output.requiresGrad == rg
        }) {
            let g = try ConvGeometry(channels: x.shape[1], height: x.shape[2], width: x.shape[3], kernel: kernel,
                                     stride: stride, padding: padding)
            return Im2colNode(x, geometry: g, requiresGrad: rg)
        }
        n.x = x
        n.forward()
        noteInput(x)
        return n.output
    }
}
