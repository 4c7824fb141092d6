/// PyTorch's `lerp_(end, weight)` on CPU, which Adam and RMSProp use for running averages:
/// `start + w * (end - start)` for w < 0.5, else `end - (end - start) * (1 - w)` (more accurate
/// near either end). The branch is decided once per step, not per element.
struct Lerp {
    let weight: Float
    let complement: Float
    let small: Bool

    init(weight: Float) {
        self.weight = weight
        complement = 1 - weight
        small = weight.magnitude < 0.5
    }

    @inline(__always)
    func callAsFunction(_ start: Lanes.Vector, _ end: Lanes.Vector) -> Lanes.Vector {
        small ? start + weight * (end - start) : end - (end - start) * complement
    }
}
