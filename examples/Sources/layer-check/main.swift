// The custom layer's gradients, for its input and its parameter, against finite differences.
import Cohort
import CohortNN
import ExampleLayers
import Foundation

let layer = LearnableSwish(features: 5)
var rng = RandomStream(seed: 4)
rng.fillUniform(layer.beta.value, 0.5, 2)
let x = Tensor(zeros: [3, 5])
rng.fillUniform(x, -2, 2)
let check = GradCheck("LearnableSwish", inputs: [x], parameters: [layer.beta.variable]) { tape, inputs in
    try layer.forward(inputs[0], ForwardContext(tape: tape, training: true))
}
let result = try check.run()
print("\(result.name): worst relative error \(result.worstRelativeError) over \(result.elements) elements")
exit(result.worstRelativeError < 1e-2 ? 0 : 1)
