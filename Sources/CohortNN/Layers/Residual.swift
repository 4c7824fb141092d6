import Cohort

/// When a residual block's shortcut is a learned projection instead of the identity (config key
/// `projection`).
public enum ShortcutProjection: String, ConfigChoice {
    /// Only when the body changes the shape (torchvision's BasicBlock `downsample`).
    case auto
    /// Even when the shapes match.
    case always
    /// Never: a body that changes the shape is an error.
    case never
}

/// A residual block (He et al. 2016): y = body(x) + shortcut(x), the shortcut being x itself or a
/// projection of it. As in torchvision's BasicBlock minus its last ReLU: the activation after the
/// addition is a layer of its own, after the block. Parameters are "layers.<i>.<name>" (the body,
/// a Sequential) and "projection.<name>".
public final class Residual: Layer {
    public let body: Sequential
    /// nil: the identity.
    public let projection: Layer?

    public init(body: Sequential, projection: Layer? = nil) {
        self.body = body
        self.projection = projection
    }

    public var children: [(String, Layer)] { [("layers", body)] + (projection.map { [("projection", $0)] } ?? []) }

    public var summary: String {
        "Residual(" + body.layers.map(\.summary).joined(separator: ", ") + (projection.map { " + " + $0.summary } ?? " + identity") + ")"
    }

    public func outputShape(for input: [Int]) throws -> [Int] {
        let out: [Int]
        do { out = try body.outputShape(for: input) } catch let CohortError.shape(op, detail) {
            throw CohortError.shape(op: "Residual " + op, detail: detail)
        }
        let shortcut = try projection?.outputShape(for: input) ?? input
        guard shortcut == out else {
            throw CohortError.shape(op: "Residual", detail: "the body gives \(shapeString(out)) but the shortcut \(shapeString(shortcut)) for input \(shapeString(input))")
        }
        return out
    }

    public func forward(_ x: Var, _ ctx: ForwardContext) throws -> Var {
        let y = try body.forward(x, ctx)
        let shortcut = try projection?.forward(x, ctx) ?? x
        // x's gradient accumulates from both paths: every node adds (+=) into its input's gradient.
        return try ctx.tape.add(y, shortcut)
    }

    /// The shortcut for a body that maps `input` to `output` (shapes with the batch axis): nil for
    /// the identity; otherwise a 1x1 convolution with the stride that maps input's plane onto
    /// output's (4-D), or a linear map (2-D). Neither has a bias, as in He et al.'s W_s x (the
    /// body's last layer brings its own bias or BatchNorm shift to the sum). Errors name both shapes.
    public static func projectionLayer(from input: [Int], to output: [Int], mode: ShortcutProjection,
                                  initializer: Initializer) throws -> Layer? {
        let shapes = "the body maps \(shapeString(Array(input.dropFirst()))) to \(shapeString(Array(output.dropFirst())))"
        if mode == .never || (mode == .auto && input == output) {
            guard input == output else {
                throw CohortError.invalid("\(shapes) and projection is never: the identity shortcut needs the same shape (projection: auto adds one)")
            }
            return nil
        }
        switch (input.count, output.count) {
        case (2, 2):
            return Linear(input[1], output[1], bias: false, initializer: initializer)
        case (4, 4):
            guard let sh = stride(input[2], onto: output[2]), let sw = stride(input[3], onto: output[3]) else {
                throw CohortError.invalid("\(shapes): no 1x1 convolution stride maps \(input[2])x\(input[3]) onto \(output[2])x\(output[3]) (pad the body's convolutions to keep the size, or stride them)")
            }
            return Conv2d(input[1], output[1], kernel: (1, 1), stride: (sh, sw), bias: false, initializer: initializer)
        default:
            throw CohortError.invalid("\(shapes): a projection maps [channels, height, width] to [channels, height, width], or [features] to [features]")
        }
    }

    /// The smallest stride s with which a 1x1 window over `size` positions gives `target` outputs.
    static func stride(_ size: Int, onto target: Int) -> Int? {
        guard size >= 1 else { return nil }
        return (1...size).first { (size - 1) / $0 + 1 == target }
    }
}
