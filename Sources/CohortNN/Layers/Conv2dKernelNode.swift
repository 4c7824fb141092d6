import Cohort

/// Conv2d on a `ConvolutionKernel` (oneDNN's primitives, Cohort's Winograd): the node owns the
/// kernel of its shape, made with it, and hands it the layer's NCHW tensors every step (whatever
/// layouts the kernel prefers stay inside it).
final class Conv2dKernelNode<Kernel: ConvolutionKernel>: TapeNode {
    unowned let layer: Conv2d
    let convolution: Kernel
    var x: Var
    let output: Var

    /// The input shape the convolution was made for.
    var xShape: [Int] {
        let g = convolution.geometry
        return [convolution.batch, g.channels, g.height, g.width]
    }

    init(layer: Conv2d, requiresGrad: Bool, convolution: Kernel) {
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
        convolution.backward(x: x.value.pointer, weight: wv.value.pointer, dy: output.grad!.pointer,
                             dx: x.requiresGrad ? x.grad!.pointer : nil,
                             dweight: wv.requiresGrad ? wv.grad!.pointer : nil,
                             dbias: bv?.requiresGrad == true ? bv!.grad!.pointer : nil)
    }
}
