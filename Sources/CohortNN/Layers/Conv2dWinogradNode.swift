import Cohort

/// Conv2d on Cohort's Winograd F(4x4, 3x3) (`WinogradConvolution`, 3x3 stride-1 convolutions):
/// the node owns the convolution of its shape and hands it the layer's NCHW tensors every step.
final class Conv2dWinogradNode: TapeNode {
    unowned let layer: Conv2d
    let convolution: WinogradConvolution
    var x: Var
    let output: Var

    /// The input shape the convolution was made for.
    var xShape: [Int] {
        let g = convolution.geometry
        return [convolution.batch, g.channels, g.height, g.width]
    }

    init(layer: Conv2d, requiresGrad: Bool, convolution: WinogradConvolution) {
        self.layer = layer
        self.convolution = convolution
        x = Var(Tensor(zeros: [0]))
        let g = convolution.geometry
        output = Var(output: [convolution.batch, layer.outChannels, g.outH, g.outW], requiresGrad: requiresGrad)
    }

    func forward() {
        convolution.forward(x: x.value.pointer, weight: layer.weight.value.pointer, bias: layer.bias?.value.pointer, y: output.value.pointer)
    }

    func backward() {
        let wv = layer.weight.variable, bv = layer.bias?.variable
        convolution.backward(dy: output.grad!.pointer, dx: x.requiresGrad ? x.grad!.pointer : nil,
                             dweight: wv.requiresGrad ? wv.grad!.pointer : nil,
                             dbias: bv?.requiresGrad == true ? bv!.grad!.pointer : nil)
    }
}
