import CohortFormats
import Foundation
import XCTest

/// Runs the `cohort` binary built next to the test bundle (swift build --build-tests builds it).
enum CLI {
    static var binary: URL {
        // The test bundle is the products folder itself on Linux, a .xctest folder inside it elsewhere.
        let bundle = Bundle(for: Marker.self).bundleURL
        for folder in [bundle, bundle.deletingLastPathComponent()] {
            let candidate = folder.appendingPathComponent("cohort")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return bundle.appendingPathComponent("cohort")
    }

    final class Marker {}

    struct Output { let status: Int32; let stdout: String; let stderr: String }

    /// Runs `arguments` (first element: executable path or "cohort"), waiting at most `timeout` seconds.
    @discardableResult
    static func run(_ arguments: [String], timeout: Double = 300, environment: [String: String] = [:]) throws -> Output {
        let p = Process()
        p.executableURL = arguments[0] == "cohort" ? binary : URL(fileURLWithPath: arguments[0])
        p.arguments = Array(arguments.dropFirst())
        var env = CLI.environment
        for (k, v) in environment { env[k] = v }
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        // Read while it runs so a full pipe never blocks the child.
        let outData = Collected(), errData = Collected()
        let group = DispatchGroup()
        group.enter(); DispatchQueue.global().async { outData.set(out.fileHandleForReading.readDataToEndOfFile()); group.leave() }
        group.enter(); DispatchQueue.global().async { errData.set(err.fileHandleForReading.readDataToEndOfFile()); group.leave() }
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(20_000) }
        if p.isRunning {
            p.terminate()
            kill(p.processIdentifier, SIGKILL)
            XCTFail("\(arguments.joined(separator: " ")) did not finish within \(timeout) s")
        }
        p.waitUntilExit()
        group.wait()
        return Output(status: p.terminationStatus, stdout: String(decoding: outData.get(), as: UTF8.self),
                      stderr: String(decoding: errData.get(), as: UTF8.self))
    }

    /// One BLAS thread, one oneDNN (OpenMP) thread and the same kernels for every child, so runs
    /// compare bit for bit (a different thread count or kernel sums in another order) and ranks
    /// sharing the 2 cores do not oversubscribe them. The kernels are the ones launch/env.sh chose
    /// (launch/test sources it): OPENBLAS_CORETYPE and COHORT_CPU are passed on as they are.
    static var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        env["OPENBLAS_NUM_THREADS"] = "1"
        env["OMP_NUM_THREADS"] = "1"
        return env
    }

    /// Bytes read on another thread, handed over under a lock.
    final class Collected: @unchecked Sendable {
        private var data = Data()
        private let lock = NSLock()
        func set(_ d: Data) { lock.lock(); data = d; lock.unlock() }
        func get() -> Data { lock.lock(); defer { lock.unlock() }; return data }
    }

    static var hasMPI: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/mpirun") }

    static var hasFashionMNIST: Bool { FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz") }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("cohort-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// `smallConfig` named `name` with its runs in `dir`, written to `dir/name.yaml`; returns its path.
    static func writeSmallConfig(in dir: URL, name: String, extra: String = "") throws -> String {
        let url = dir.appendingPathComponent("\(name).yaml")
        try smallConfig(name: name, extra: "output: {directory: \(dir.path)}\n" + extra).write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    /// A run's latest checkpoint in `dir`: every parameter and buffer by name (no optimizer state).
    static func checkpointTensors(in dir: URL, run: String) throws -> [String: [Float]] {
        let file = try Safetensors.read(from: dir.appendingPathComponent("\(run)/checkpoints/latest.safetensors"))
        var out: [String: [Float]] = [:]
        for name in file.names where !name.hasPrefix("optimizer.") { out[name] = try file.floatTensor(name).scalars }
        return out
    }

    /// The "test accuracy 0.8627 (...)" figure `cohort train` prints at the end.
    static func testAccuracy(_ output: Output) -> Double? {
        output.stdout.split(separator: "\n").first { $0.hasPrefix("test accuracy") }.flatMap { Double($0.split(separator: " ")[2]) }
    }

    /// A small, fast run config: a 784-32-10 MLP on Fashion-MNIST.
    static func smallConfig(name: String = "small", extra: String = "") -> String {
        """
        name: \(name)
        seed: 3
        data: {validation: 1000}
        model:
          layers:
            - {type: flatten}
            - {type: linear, out: 32}
            - {type: relu}
            - {type: linear, out: 10}
        optimizer: {name: sgd, lr: 0.05, momentum: 0.9}
        training: {epochs: 1, batch_size: 64, log_every: 10}
        \(extra)
        """
    }
}
