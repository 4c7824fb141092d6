import Cohort

/// y = x W^T + b, with W shaped [out, in] (PyTorch's layout) and x shaped [batch, in].
public final class Linear: Layer {
    public let inFeatures: Int, outFeatures: Int
    public let weight: Parameter
    public let bias: Parameter?
    /// The weight in int8 (a quantised model file): inference computes with it (Int8Linear.swift).
    public var int8: Int8Weights?

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, initializer: Initializer = .heUniform) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        weight = Parameter(shape: [outFeatures, inFeatures], initializer: initializer, decays: true)
        self.bias = bias ? Parameter(shape: [outFeatures], initializer: .zeros, decays: false) : nil
    }

    public var ownParameters: [(String, Parameter)] {
        [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
    }

    public var summary: String { "Linear(\(inFeatures) -> \(outFeatures)\(bias == nil ? ", no bias" : ""))" }

    public func outputShape(for input: [Int]) throws -> [Int] {
        guard input.count == 2, input[1] == inFeatures else {
            throw CohortError.shape(op: summary, detail: "expects input [batch, \(inFeatures)], got \(shapeString(input))")
        }
        return [input[0], outFeatures]
    }

    public func forward(_ x: Var, _ ctx: ForwardContext) throws -> Var {
        // Checked without building the output shape: an array per call would be a heap allocation per step.
        if x.shape.count != 2 || x.shape[1] != inFeatures { _ = try outputShape(for: x.shape) }
        let tape = ctx.tape
        if let int8, !tape.isRecording { return try int8Forward(x, int8, tape) }
        let w = weight.variable, b = bias?.variable
        let rg = tape.isRecording && (x.requiresGrad || w.requiresGrad || (b?.requiresGrad ?? false))
        let batch = x.shape[0], precision = ctx.precision
        let n = try tape.node(LinearNode.self, reusable: {
            $0.batch == batch && $0.layer === self && $0.output.requiresGrad == rg && $0.precision == precision
        }) {
            try LinearNode(layer: self, batch: batch, requiresGrad: rg, precision: precision)
        }
        n.x = x
        try n.prepareBackward(inputGradient: rg && x.requiresGrad, weightGradient: rg && w.requiresGrad)
        n.forward(parameterVersion: ctx.parameterVersion)
        tape.noteInput(x); tape.noteInput(w)
        if let b { tape.noteInput(b) }
        return n.output
    }
}

/// The fused Linear op: one product forward (bias preloaded into the output, accumulated onto),
/// two products and a column sum backward. The products are `GEMM`s made once for this shape; in
/// bf16 the node rounds x (forward, kept for the weight gradient) and dY (backward, shared by both
/// products) into its own buffers, and the weight once per step (`BF16WeightCopy`).
final class LinearNode: TapeNode {
    unowned let layer: Linear
    let batch: Int
    let precision: MatmulPrecision
    var x: Var
    let output: Var
    private let forwardProduct: GEMM
    private var inputGradient: GEMM?, weightGradient: GEMM?
    /// bf16 only.
    private let x16: BF16Buffer?, gy16: BF16Buffer?, w16: BF16WeightCopy?

    init(layer: Linear, batch: Int, requiresGrad: Bool, precision: MatmulPrecision) throws {
        self.layer = layer
        self.batch = batch
        self.precision = precision
        x = Var(Tensor(zeros: [0]))
        output = Var(output: [batch, layer.outFeatures], requiresGrad: requiresGrad)
        let (nIn, nOut) = (layer.inFeatures, layer.outFeatures)
        // Y[B, out] (+)= X[B, in] W^T
        forwardProduct = try GEMM(m: batch, n: nOut, k: nIn, transposeB: true, accumulate: layer.bias != nil, precision: precision)
        let bf16 = precision.usesBF16Operands
        x16 = bf16 ? BF16Buffer(count: batch * nIn) : nil
        gy16 = bf16 && requiresGrad ? BF16Buffer(count: batch * nOut) : nil
        w16 = bf16 ? BF16WeightCopy(count: nOut * nIn) : nil
    }

    /// Makes the backward products this node needs (on its first forward).
    func prepareBackward(inputGradient needsInput: Bool, weightGradient needsWeight: Bool) throws {
        let (nIn, nOut) = (layer.inFeatures, layer.outFeatures)
        if needsInput && inputGradient == nil {  // dX[B, in] += dY[B, out] W[out, in]
            inputGradient = try GEMM(m: batch, n: nIn, k: nOut, accumulate: true, precision: precision)
        }
        if needsWeight && weightGradient == nil {  // dW[out, in] += dY^T[out, B] X[B, in]
            weightGradient = try GEMM(m: nOut, n: nIn, k: batch, transposeA: true, accumulate: true, precision: precision)
        }
    }

    func forward(parameterVersion: UInt64) {
        let nOut = layer.outFeatures
        let y = output.value.pointer
        if let b = layer.bias?.value.pointer {
            for r in 0..<batch { (y + r * nOut).update(from: b, count: nOut) }
        }
        if let x16, let w16 {
            x16.fill(from: x.value.pointer)
            forwardProduct.run(a: x16.pointer, b: w16.current(layer.weight.value, version: parameterVersion), c: y)
        } else {
            forwardProduct.run(a: x.value.pointer, b: layer.weight.value.pointer, c: y)
        }
    }

    func backward() {
        let nOut = layer.outFeatures
        let gy = output.grad!.pointer
        let w = layer.weight.variable
        gy16?.fill(from: gy)
        if x.requiresGrad, let product = inputGradient {
            if let gy16, let w16 {
                product.run(a: gy16.pointer, b: w16.pointer, c: x.grad!.pointer)
            } else {
                product.run(a: gy, b: w.value.pointer, c: x.grad!.pointer)
            }
        }
        if w.requiresGrad, let product = weightGradient {
            if let gy16, let x16 {
                product.run(a: gy16.pointer, b: x16.pointer, c: w.grad!.pointer)
            } else {
                product.run(a: gy, b: x.value.pointer, c: w.grad!.pointer)
            }
        }
        if let b = layer.bias?.variable, b.requiresGrad {
            let gb = b.grad!.pointer
            for r in 0..<batch {
                let row = gy + r * nOut
                for j in 0..<nOut { gb[j] += row[j] }
            }
        }
    }
}
