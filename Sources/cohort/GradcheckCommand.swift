import ArgumentParser
import Cohort
import CohortNN
import Foundation

struct GradcheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gradcheck",
        abstract: "Compare every op's and layer's autodiff gradient with centred finite differences.")

    @Option(help: "Largest worst-case relative error that passes.")
    var tolerance: Double = 1e-2

    @Option(help: "Only checks whose name contains this text.")
    var filter: String?

    func run() throws {
        try failOnError {
            let checks = (OpChecks.all() + LayerChecks.all()).filter { filter == nil || $0.name.contains(filter!) }
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
