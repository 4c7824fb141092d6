import Cohort

/// 2-D convolution over NCHW input, by oneDNN's convolution primitives or Cohort's Winograd F(4x4,
/// 3x3) for 3x3 stride-1 ones (each a `ConvolutionKernel` in a `Conv2dKernelNode`) or im2col + one product for
/// the whole batch (`Conv2dNode`), as `ConvolutionPath.chosen` says; in
/// int8 (an int8 model's inference) by integer products on quantised images (`Int8Conv2dNode`).
/// Weight [out, in, kh, kw] (PyTorch's layout), bias [out].
public final class Conv2d: Layer {
    public let inChannels: Int, outChannels: Int
    public let kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int)
    public let weight: Parameter
    public let bias: Parameter?
    /// The weight in int8 [out, C*kh*kw] (a quantised model file): inference computes with it (Int8Conv2d.swift).
    public var int8: Int8Weights?

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
        if let int8, !tape.isRecording { return try int8Forward(x, int8, tape) }
        let rg = tape.isRecording && (x.requiresGrad || weight.variable.requiresGrad)
        let precision = ctx.precision
        let path = ConvolutionPath.chosen(for: precision, requested: ctx.convolution)
        if path == .cohortWinograd, WinogradConvolution.pays(try geometry(x.shape)) {
            return try kernelForward(x, tape, requiresGrad: rg, matches: { _ in true }) {
                try WinogradConvolution(batch: x.shape[0], geometry: try geometry(x.shape), outChannels: outChannels)
            }
        }
        if path.usesOneDNN, let dnnl = DNNL.shared {
            return try kernelForward(x, tape, requiresGrad: rg, matches: { $0.winogradRequested == (path == .winograd) }) {
                try DNNLConvolution(dnnl: dnnl, batch: x.shape[0], geometry: try geometry(x.shape), outChannels: outChannels,
                                    bias: bias != nil, training: rg, winograd: path == .winograd)
            }
        }
        let n = try tape.node(Conv2dNode.self, reusable: {
            $0.layer === self && $0.xShape == x.shape && $0.output.requiresGrad == rg && $0.precision == precision
        }) {
            Conv2dNode(layer: self, xShape: x.shape, geometry: try geometry(x.shape), requiresGrad: rg,
                       forwardProduct: try forwardProduct(x.shape, precision: precision), precision: precision)
        }
        n.x = x
        try n.prepareBackward(inputGradient: rg && x.requiresGrad, weightGradient: rg && weight.variable.requiresGrad)
        n.forward(parameterVersion: ctx.parameterVersion)
        return noteInputs(x, tape, n.output)
    }

    /// The forward through a `ConvolutionKernel` node: the tape's node of this layer, shape and kind
    /// where `matches` takes its kernel, else a new one with `make`'s kernel.
    private func kernelForward<Kernel: ConvolutionKernel>(_ x: Var, _ tape: Tape, requiresGrad rg: Bool, matches: (Kernel) -> Bool,
                                                          make: () throws -> Kernel) throws -> Var {
        let n = try tape.node(Conv2dKernelNode<Kernel>.self, reusable: {
            $0.layer === self && $0.xShape == x.shape && $0.output.requiresGrad == rg && matches($0.convolution)
        }) {
            Conv2dKernelNode(layer: self, requiresGrad: rg, convolution: try make())
        }
        n.x = x
        try n.convolution.prepareBackward(data: rg && x.requiresGrad, weights: rg && (weight.variable.requiresGrad || bias?.variable.requiresGrad == true))
        n.forward()
        return noteInputs(x, tape, n.output)
    }

    private func noteInputs(_ x: Var, _ tape: Tape, _ output: Var) -> Var {
        tape.noteInput(x); tape.noteInput(weight.variable)
        if let b = bias { tape.noteInput(b.variable) }
        return output
    }

    /// Y'[out, B*P] = W[out, C*kh*kw] x cols[C*kh*kw, B*P].
    private func forwardProduct(_ xShape: [Int], precision: MatmulPrecision) throws -> GEMM {
        let g = try geometry(xShape)
        return try GEMM(m: outChannels, n: xShape[0] * g.outPixels, k: g.patchSize, accumulate: false, precision: precision)
    }
}

/// cols [C*kh*kw, B*P] (P = output pixels) holds every image's patches side by side, so the whole
/// batch is one product: Y'[out, B*P] = W[out, C*kh*kw] x cols. Y' is then laid out as [B, out, P].
/// In bf16 the node rounds cols (forward, kept for the weight gradient) and dY' (backward, shared by
/// both products) into its own buffers, and the weight once per step (`BF16WeightCopy`).
final class Conv2dNode: TapeNode {
    unowned let layer: Conv2d
    let xShape: [Int]
    let g: ConvGeometry
    let precision: MatmulPrecision
    var x: Var
    let output: Var
    let cols: Tensor, wide: Tensor  // wide = Y' (forward) and dY' (backward)
    private var gradCols: Tensor?
    private let forwardProduct: GEMM
    private var inputGradient: GEMM?, weightGradient: GEMM?
    /// bf16 only.
    private let cols16: BF16Buffer?, wide16: BF16Buffer?, w16: BF16WeightCopy?

    init(layer: Conv2d, xShape: [Int], geometry: ConvGeometry, requiresGrad: Bool, forwardProduct: GEMM, precision: MatmulPrecision) {
        self.layer = layer; self.xShape = xShape; g = geometry
        self.forwardProduct = forwardProduct
        self.precision = precision
        x = Var(Tensor(zeros: [0]))
        let batch = xShape[0]
        output = Var(output: [batch, layer.outChannels, g.outH, g.outW], requiresGrad: requiresGrad)
        cols = Tensor(zeros: [g.patchSize, batch * g.outPixels])
        wide = Tensor(zeros: [layer.outChannels, batch * g.outPixels])
        let bf16 = precision.usesBF16Operands
        cols16 = bf16 ? BF16Buffer(count: cols.count) : nil
        wide16 = bf16 && requiresGrad ? BF16Buffer(count: wide.count) : nil
        w16 = bf16 ? BF16WeightCopy(count: layer.weight.value.count) : nil
    }

    var batch: Int { xShape[0] }

    /// Makes the backward products this node needs (on its first forward).
    func prepareBackward(inputGradient needsInput: Bool, weightGradient needsWeight: Bool) throws {
        let ld = batch * g.outPixels, out = layer.outChannels
        if needsWeight && weightGradient == nil {  // dW[out, C*k*k] += dY'[out, B*P] x cols^T
            weightGradient = try GEMM(m: out, n: g.patchSize, k: ld, transposeB: true, accumulate: true, precision: precision)
        }
        if needsInput && inputGradient == nil {  // dcols[C*k*k, B*P] = W^T x dY'
            inputGradient = try GEMM(m: g.patchSize, n: ld, k: out, transposeA: true, accumulate: false, precision: precision)
            gradCols = Tensor(zeros: cols.shape)
        }
    }

    func forward(parameterVersion: UInt64) {
        let P = g.outPixels, ld = batch * P, image = g.channels * g.height * g.width
        Im2col.forward(batch: batch, x.value.pointer, imageStride: image, g, cols: cols.pointer, ldc: ld)
        let out = layer.outChannels
        if let cols16, let w16 {
            cols16.fill(from: cols.pointer)
            forwardProduct.run(a: w16.current(layer.weight.value, version: parameterVersion), b: cols16.pointer, c: wide.pointer)
        } else {
            forwardProduct.run(a: layer.weight.value.pointer, b: cols.pointer, c: wide.pointer)
        }
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
        wide16?.fill(from: w)
        let wv = layer.weight.variable
        if wv.requiresGrad, let product = weightGradient {
            if let wide16, let cols16 {
                product.run(a: wide16.pointer, b: cols16.pointer, c: wv.grad!.pointer)
            } else {
                product.run(a: w, b: cols.pointer, c: wv.grad!.pointer)
            }
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
        if x.requiresGrad, let product = inputGradient, let gc = gradCols?.pointer {  // then col2im into each image
            if let wide16, let w16 {
                product.run(a: w16.pointer, b: wide16.pointer, c: gc)
            } else {
                product.run(a: wv.value.pointer, b: w, c: gc)
            }
            for b in 0..<batch { Im2col.backward(gc + b * P, g, ldc: ld, gx: x.grad!.pointer + b * image) }
        }
    }
}
