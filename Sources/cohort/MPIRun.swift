import Cohort
import Foundation

/// Runs this binary under mpirun (the benchmarks that compare one process with several ranks) and
/// returns the last line of its output that is a JSON object.
enum MPIRun {
    static func jsonLine(ranks n: Int, _ arguments: [String], what: String) throws -> Data {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let me = CommandLine.arguments[0].hasPrefix("/") ? CommandLine.arguments[0]
            : FileManager.default.currentDirectoryPath + "/" + CommandLine.arguments[0]
        p.arguments = ["mpirun", "-np", String(n), "--oversubscribe", "--bind-to", n <= ProcessInfo.processInfo.activeProcessorCount ? "core" : "none",
                       me] + arguments
        var env = ProcessInfo.processInfo.environment
        env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"; env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        p.environment = env
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0, let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last(where: { $0.hasPrefix("{") }) else {
            throw CohortError.invalid("\(what): the \(n)-rank run under mpirun failed (exit \(p.terminationStatus))")
        }
        return Data(line.utf8)
    }
}
