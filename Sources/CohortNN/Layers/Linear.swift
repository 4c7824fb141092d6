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
        if let int8, !tape.isRecording { return int8Forward(x, int8, tape) }
        let w = weight.variable, b = bias?.variable
        let rg = tape.isRecording && (x.requiresGrad || w.requiresGrad || (b?.requiresGrad ?? false))
        let batch = x.shape[0]
        let n = tape.node(LinearNode.self, reusable: { $0.batch == batch && $0.layer === self && $0.output.requiresGrad == rg }) {
            LinearNode(layer: self, batch: batch, requiresGrad: rg)
        }
        n.x = x
        n.forward()
        tape.noteInput(x); tape.noteInput(w)
        if let b { tape.noteInput(b) }
        return n.output
    }
}

/// The fused Linear op: one sgemm forward (bias preloaded into the output, beta = 1), two sgemms
/// and a column sum backward.
final class LinearNode: TapeNode {
    unowned let layer: Linear
    let batch: Int
    var x: Var
    let output: Var

    init(layer: Linear, batch: Int, requiresGrad: Bool) {
        self.layer = layer
        self.batch = batch
        x = Var(Tensor(zeros: [0]))
        output = Var(output: [batch, layer.outFeatures], requiresGrad: requiresGrad)
    }

    func forward() {
        let (nIn, nOut) = (layer.inFeatures, layer.outFeatures)
        let y = output.value.pointer
        if let b = layer.bias?.value.pointer {
            for r in 0..<batch { (y + r * nOut).update(from: b, count: nOut) }
        }
        BLAS.sgemm(transA: false, transB: true, m: batch, n: nOut, k: nIn, a: x.value.pointer, lda: nIn,
                   b: layer.weight.value.pointer, ldb: nIn, beta: layer.bias == nil ? 0 : 1, c: y, ldc: nOut)
    }

    func backward() {
        let (nIn, nOut) = (layer.inFeatures, layer.outFeatures)
        let gy = output.grad!.pointer
        let w = layer.weight.variable
        if x.requiresGrad {  // dX[B, in] += dY[B, out] W[out, in]
            BLAS.sgemm(transA: false, transB: false, m: batch, n: nIn, k: nOut, a: gy, lda: nOut,
                       b: w.value.pointer, ldb: nIn, beta: 1, c: x.grad!.pointer, ldc: nIn)
        }
        if w.requiresGrad {  // dW[out, in] += dY^T[out, B] X[B, in]
            BLAS.sgemm(transA: true, transB: false, m: nOut, n: nIn, k: batch, a: gy, lda: nOut,
                       b: x.value.pointer, ldb: nIn, beta: 1, c: w.grad!.pointer, ldc: nIn)
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
