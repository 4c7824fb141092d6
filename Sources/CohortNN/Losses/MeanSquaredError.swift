import Cohort

extension Tape {
    /// mean((prediction - target)^2) over every element, fused into one node (regression's loss,
    /// PyTorch's MSELoss): gradient 2 (prediction - target) / count. The node keeps its buffers
    /// from one step to the next and reads `target` in place (it must not change before backward).
    public func meanSquaredError(_ prediction: Var, target: Tensor) throws -> Var {
        guard prediction.shape == target.shape else {
            throw CohortError.shape(op: "meanSquaredError", detail: "prediction \(shapeString(prediction.shape)) vs target \(shapeString(target.shape))")
        }
        let rg = needsGrad(prediction)
        let n = node(MeanSquaredErrorNode.self, reusable: { $0.output.requiresGrad == rg }) {
            MeanSquaredErrorNode(requiresGrad: rg)
        }
        n.prediction = prediction
        n.target = target
        n.forward()
        noteInput(prediction)
        return n.output
    }
}

final class MeanSquaredErrorNode: TapeNode {
    var prediction = Var(Tensor(zeros: [0]))
    var target = Tensor(zeros: [0])
    let output: Var

    init(requiresGrad: Bool) {
        output = Var(output: [], requiresGrad: requiresGrad)
    }

    func forward() {
        let p = prediction.value.pointer, t = target.pointer, n = target.count
        var total = 0.0
        for i in 0..<n {
            let d = Double(p[i] - t[i])
            total += d * d
        }
        output.value.pointer[0] = Float(total / Double(max(n, 1)))
    }

    func backward() {
        guard prediction.requiresGrad else { return }
        let n = target.count
        let g = output.grad!.pointer[0] * 2 / Float(max(n, 1))
        let p = prediction.value.pointer, t = target.pointer, gp = prediction.grad!.pointer
        for i in 0..<n { gp[i] += g * (p[i] - t[i]) }
    }
}
