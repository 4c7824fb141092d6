import Cohort

/// 2-D convolution over NCHW input by im2col + one sgemm for the whole batch.
/// Weight [out, in, kh, kw] (PyTorch's layout), bias [out].
public final class Conv2d: Layer {
    public let inChannels: Int, outChannels: Int
    public let kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int)
    public let weight: Parameter
    public let bias: Parameter?

    public init(_ inChannels: Int, _ outChannels: Int, kernel: (Int, Int), stride: (Int, Int) = (1, 1),
                padding: (Int, Int) = (0, 0), bias: Bool = true, initializer: Initializer = .heUniform) {
        self.inChannels = inChannels; self.outChannels = outChannels
        self.kernel = kernel; self.stride = stride; self.padding = padding
        weight = Parameter(shape: [outChannels, inChannels, kernel.0, kernel.1], initializer: initializer, decays: true)
        self.bias = bias ? Parameter(shape: [outChannels], initializer: .zeros, decays: false) : nil
    }

    public var ownParameters: [(String, Parameter)] { [("weight", weight)] + (bias.map { [("bias", $0)] } ?? []) }

    public var summary: String {
        "Conv2d(\(inChannels) -> \(outChannels), \(kernel.0)x\(kernel.1), stride \(stride.0), padding \(padding.0))"
    }

    func geometry(_ input: [Int]) throws -> ConvGeometry {
        guard input.count == 4, input[1] == inChannels else {
            throw CohortError.shape(op: summary, detail: "expects input [batch, \(inChannels), height, width], got \(shapeString(input))")
        }
        do {
            return try ConvGeometry(channels: inChannels, height: input[2], width: input[3], kernel: kernel, stride: stride, padding: padding)
        } catch let CohortError.shape(_, detail) {
            throw CohortError.shape(op: summary, detail: detail)
        }
    }

    public func outputShape(for input: [Int]) throws -> [Int] {
        let g = try geometry(input)
        return [input[0], outChannels, g.outH, g.outW]
    }

    public func forward(_ x: Var, _ ctx: ForwardContext) throws -> Var {
        let tape = ctx.tape
        let rg = tape.isRecording && (x.requiresGrad || weight.variable.requiresGrad)
        let n = try tape.node(Conv2dNode.self, reusable: { $0.layer === self && $0.xShape == x.shape && $0.output.requiresGrad == rg }) {
            Conv2dNode(layer: self, xShape: x.shape, geometry: try geometry(x.shape), requiresGrad: rg)
        }
        n.x = x
        n.forward()
        tape.noteInput(x); tape.noteInput(weight.variable)
        if let b = bias { tape.noteInput(b.variable) }
        return n.output
    }
}

/// cols [C*kh*kw, B*P] (P = output pixels) holds every image's patches side by side, so the whole
/// batch is one sgemm: Y'[out, B*P] = W[out, C*kh*kw] x cols. Y' is then laid out as [B, out, P].
final class Conv2dNode: TapeNode {
    unowned let layer: Conv2d
    let xShape: [Int]
    let g: ConvGeometry
    var x: Var
    let output: Var
    let cols: Tensor, wide: Tensor  // wide = Y' (forward) and dY' (backward)
    private var gradCols: Tensor?

    init(layer: Conv2d, xShape: [Int], geometry: ConvGeometry, requiresGrad: Bool) {
        self.layer = layer; self.xShape = xShape; g = geometry
        x = Var(Tensor(zeros: [0]))
        let batch = xShape[0]
        output = Var(output: [batch, layer.outChannels, g.outH, g.outW], requiresGrad: requiresGrad)
        cols = Tensor(zeros: [g.patchSize, batch * g.outPixels])
        wide = Tensor(zeros: [layer.outChannels, batch * g.outPixels])
    }

    var batch: Int { xShape[0] }

    func forward() {
        let P = g.outPixels, ld = batch * P, image = g.channels * g.height * g.width
        for b in 0..<batch { Im2col.forward(x.value.pointer + b * image, g, cols: cols.pointer + b * P, ldc: ld) }
        let out = layer.outChannels
        BLAS.sgemm(transA: false, transB: false, m: out, n: ld, k: g.patchSize, a: layer.weight.value.pointer, lda: g.patchSize,
                   b: cols.pointer, ldb: ld, beta: 0, c: wide.pointer, ldc: ld)
        let y = output.value.pointer, w = wide.pointer
        let bias = layer.bias?.value.pointer
        for b in 0..<batch {
            for o in 0..<out {
                let src = w + o * ld + b * P, dst = y + (b * out + o) * P
                let shift = bias?[o] ?? 0
                for p in 0..<P { dst[p] = src[p] + shift }
            }
        }
    }

    func backward() {
        let P = g.outPixels, ld = batch * P, out = layer.outChannels, image = g.channels * g.height * g.width
        let gy = output.grad!.pointer, w = wide.pointer
        for b in 0..<batch {  // dY [B, out, P] -> dY' [out, B*P]
            for o in 0..<out { (w + o * ld + b * P).update(from: gy + (b * out + o) * P, count: P) }
        }
        let wv = layer.weight.variable
        if wv.requiresGrad {  // dW[out, C*k*k] += dY' x cols^T
            BLAS.sgemm(transA: false, transB: true, m: out, n: g.patchSize, k: ld, a: w, lda: ld, b: cols.pointer, ldb: ld,
                       beta: 1, c: wv.grad!.pointer, ldc: g.patchSize)
        }
        if let bv = layer.bias?.variable, bv.requiresGrad {
            let gb = bv.grad!.pointer
            for o in 0..<out {
                var s: Float = 0
                let row = w + o * ld
                for i in 0..<ld { s += row[i] }
                gb[o] += s
            }
        }
        if x.requiresGrad {  // dcols = W^T x dY', then col2im into each image
            if gradCols == nil { gradCols = Tensor(zeros: cols.shape) }
            let gc = gradCols!.pointer
            BLAS.sgemm(transA: true, transB: false, m: g.patchSize, n: ld, k: out, a: wv.value.pointer, lda: g.patchSize,
                       b: w, ldb: ld, beta: 0, c: gc, ldc: ld)
            for b in 0..<batch { Im2col.backward(gc + b * P, g, ldc: ld, gx: x.grad!.pointer + b * image) }
        }
    }
}
