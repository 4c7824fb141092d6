import Cohort

/// A weight's bf16 copy for bf16 products, rounded again only when the parameters have changed
/// since (`ForwardContext.parameterVersion`): once per step however many products read it.
final class BF16WeightCopy {
    let buffer: BF16Buffer
    private var version: UInt64?

    init(count: Int) { buffer = BF16Buffer(count: count) }

    func current(_ weight: Tensor, version v: UInt64) -> UnsafePointer<BFloat16Bits> {
        if version != v {
            buffer.fill(from: weight.pointer)
            version = v
        }
        return UnsafePointer(buffer.pointer)
    }

    var pointer: UnsafePointer<BFloat16Bits> { UnsafePointer(buffer.pointer) }
}
