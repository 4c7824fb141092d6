import ArgumentParser
import Cohort
import CohortTrain
import Foundation

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a checkpoint's network (float, pruned or int8) as an ONNX model that takes raw inputs, for onnxruntime and other runtimes.")

    @Argument(help: "A checkpoint or model file (.safetensors) written by cohort train, distill or compress.")
    var checkpoint: String

    @Option(help: "The ONNX file to write.")
    var onnx: String

    func run() throws {
        try failOnError {
            let saved = try SavedRun.open(checkpoint)
            try ONNXExport.write(saved, to: onnx)
            let d = saved.data
            print("\(onnx): opset \(ONNXExport.opset), input 'input' [batch, \(d.sampleShape.map(String.init).joined(separator: ", "))] raw values, output '\(d.task == .regression ? "prediction" : "logits")' [batch, \(d.outputCount)]")
        }
    }
}
