import Cohort

extension Tape {
    /// mean((prediction - target)^2) over every element.
    public func meanSquaredError(_ prediction: Var, target: Tensor) throws -> Var {
        guard prediction.shape == target.shape else {
            throw CohortError.shape(op: "meanSquaredError", detail: "prediction \(shapeString(prediction.shape)) vs target \(shapeString(target.shape))")
        }
        let diff = try sub(prediction, Var(target))
        return try mean(square(diff))
    }
}
