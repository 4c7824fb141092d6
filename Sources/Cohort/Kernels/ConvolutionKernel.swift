/// A convolution made once per shape that a Conv2d tape node runs every step on the layer's NCHW
/// tensors: oneDNN's primitives (`DNNLConvolution`) or Cohort's Winograd (`WinogradConvolution`).
public protocol ConvolutionKernel: AnyObject {
    var batch: Int { get }
    var geometry: ConvGeometry { get }
    /// y = conv(x, weight) + bias.
    func forward(x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>)
    /// Makes what the backward passes asked for need (on the first backward); `weights` covers the bias gradient too.
    func prepareBackward(data: Bool, weights: Bool) throws
    /// Adds the gradients asked for (non-nil, and prepared) into the caller's; x and weight are
    /// this step's forward's, unchanged.
    func backward(x: UnsafePointer<Float>, weight: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                  dx: UnsafeMutablePointer<Float>?, dweight: UnsafeMutablePointer<Float>?, dbias: UnsafeMutablePointer<Float>?)
}

extension DNNLConvolution: ConvolutionKernel {}
extension WinogradConvolution: ConvolutionKernel {}
