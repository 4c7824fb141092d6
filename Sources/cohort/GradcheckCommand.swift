import ArgumentParser
import Cohort
import CohortNN
import Foundation

struct GradcheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gradcheck",
        abstract: "Compare every op's and layer's autodiff gradient with centred finite differences.")

    @Option(help: "Largest worst-case relative error that passes (default 1e-2; 1.5e-2 in bf16).")
    var tolerance: Double?

    @Option(help: "fp32 (every op and layer), or bf16 (the layers whose products run in bf16, autodiff in bf16 against finite differences in fp32).")
    var precision: Precision = .fp32

    @Flag(help: "Check bf16 emulated on a CPU without avx512_bf16 instead of refusing.")
    var allowEmulatedBf16 = false

    @Option(help: "Only checks whose name contains this text.")
    var filter: String?

    func run() throws {
        try failOnError {
            let matmul = try MatmulPrecision.resolve(precision, allowEmulation: allowEmulatedBf16)
            let all = matmul == .fp32 ? OpChecks.all() + LayerChecks.all() : LayerChecks.products(precision: matmul)
            let tolerance = self.tolerance ?? (matmul == .fp32 ? 1e-2 : LayerChecks.bf16Tolerance)
            let checks = all.filter { filter == nil || $0.name.contains(filter!) }
            guard !checks.isEmpty else { throw CohortError.invalid("gradcheck: no check matches '\(filter!)'") }
            var failed: [String] = []
            let width = checks.map(\.name.count).max()! + 2
            print("check".padding(toLength: width, withPad: " ", startingAt: 0) + "elements  worst rel. error")
            for check in checks {
                let r = try check.run()
                let ok = r.worstRelativeError <= tolerance
                if !ok { failed.append(r.name) }
                print(r.name.padding(toLength: width, withPad: " ", startingAt: 0)
                      + String(format: "%8d  %.2e  %@", r.elements, r.worstRelativeError, ok ? "ok" : "FAIL"))
            }
            if !failed.isEmpty {
                throw CohortError.invalid("gradcheck: \(failed.count) of \(checks.count) checks exceed tolerance \(tolerance): \(failed.joined(separator: ", "))")
            }
            print("gradcheck: all \(checks.count) checks within \(tolerance)")
        }
    }
}
