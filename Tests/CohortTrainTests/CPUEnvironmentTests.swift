import Foundation
import XCTest

/// The CPU a run takes its paths from: `cohort info`, the COHORT_CPU cap, and launch/env.sh's
/// OpenBLAS core type, chosen on each node by launch/rank.
final class CPUEnvironmentTests: XCTestCase {
    /// The package root, three folders above this file.
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let flags = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
        .split(separator: "\n").first { $0.hasPrefix("flags") }.map { " \($0.split(separator: ":").last ?? "") " } ?? ""

    /// The path a family takes, from `cohort info`'s table.
    func path(_ family: String, _ info: String) -> String? {
        info.split(separator: "\n").first { $0.hasPrefix(family) }.map { line in
            String(line.dropFirst(family.count).trimmingCharacters(in: .whitespaces).split(separator: " ")[0])
        }
    }

    func testInfoNamesEveryFamilyAndTheCapTakesThePortablePaths() throws {
        let native = try CLI.run(["cohort", "info"], environment: ["COHORT_CPU": ""])  // empty is native, whatever the caller set
        XCTAssertEqual(native.status, 0, native.stderr)
        for family in ["fp32 products", "convolutions", "int8 products", "int8 on onednn", "int8 convolution", "bf16 rounding", "bf16 products", "wire fp16/bf16"] {
            XCTAssertNotNil(path(family, native.stdout), "\(family) in\n\(native.stdout)")
        }
        if flags.contains(" avx2 ") && flags.contains(" fma ") && flags.contains(" f16c ") {
            XCTAssertNotEqual(path("int8 products", native.stdout), "portable", native.stdout)
            XCTAssertEqual(path("wire fp16/bf16", native.stdout), "avx2", native.stdout)
            // oneDNN's Winograd where it has it (avx512_core: F, BW, VL, DQ), Cohort's on AVX2.
            XCTAssertEqual(path("convolutions", native.stdout), ["avx512f", "avx512bw", "avx512vl", "avx512dq"].allSatisfy { flags.contains(" \($0) ") } ? "winograd" : "cohort-winograd", native.stdout)
        }
        let capped = try CLI.run(["cohort", "info"], environment: ["COHORT_CPU": "portable"])
        XCTAssertEqual(capped.status, 0, capped.stderr)
        XCTAssertTrue(capped.stdout.contains("COHORT_CPU: portable; kernels may use: none"), capped.stdout)
        XCTAssertTrue(capped.stdout.contains("onednn 2.") && capped.stdout.contains("isa sse41 (capped by COHORT_CPU)"), capped.stdout)
        for family in ["int8 products", "bf16 rounding", "wire fp16/bf16"] {
            XCTAssertEqual(path(family, capped.stdout), "portable", "\(family) in\n\(capped.stdout)")
        }
        XCTAssertEqual(path("convolutions", capped.stdout), "im2col", capped.stdout)
        if flags.contains(" avx2 ") && flags.contains(" fma ") {
            let avx2 = try CLI.run(["cohort", "info"], environment: ["COHORT_CPU": "avx2"])
            XCTAssertEqual(avx2.status, 0, avx2.stderr)
            XCTAssertEqual(path("convolutions", avx2.stdout), "cohort-winograd", avx2.stdout)
        }
    }

    /// A level that does not exist: one line naming the variable, the value and the levels, exit 2,
    /// before any work (here from `cohort train` with a config that does not exist either).
    func testAnUnknownLevelIsOneLine() throws {
        for args in [["cohort", "info"], ["cohort", "train", "/nonexistent.yaml"]] {
            let r = try CLI.run(args, environment: ["COHORT_CPU": "avx1024"])
            XCTAssertEqual(r.status, 2, "\(args): \(r.stderr)")
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
            XCTAssertTrue(r.stderr.contains("COHORT_CPU: 'avx1024' is not a CPU level (portable, avx2"), r.stderr)
        }
    }

    /// launch/rank sources launch/env.sh on the node it runs on: an OPENBLAS_CORETYPE this CPU can
    /// run is kept, one it cannot run is replaced by this CPU's own choice (with one line saying so),
    /// and COHORT_CPU=avx2 takes Haswell's kernels.
    func testEachNodeChoosesItsOwnOpenBLASCore() throws {
        let rank = root.appendingPathComponent("launch/rank").path
        func coreType(_ environment: [String: String]) throws -> (String?, String) {
            let r = try CLI.run([rank, "/bin/sh", "-c", "echo \"core=${OPENBLAS_CORETYPE:-}\""], environment: environment)
            XCTAssertEqual(r.status, 0, r.stderr)
            let value = r.stdout.split(separator: "\n").last { $0.hasPrefix("core=") }.map { String($0.dropFirst(5)) }
            return (value?.isEmpty == false ? value : nil, r.stderr)
        }
        let (kept, quiet) = try coreType(["OPENBLAS_CORETYPE": "Prescott", "COHORT_CPU": ""])
        XCTAssertEqual(kept, "Prescott")
        XCTAssertEqual(quiet, "")
        if flags.contains(" avx2 ") && flags.contains(" fma ") {
            XCTAssertEqual(try coreType(["COHORT_CPU": "avx2"]).0, "Haswell")
        }
        // A core type this CPU cannot run, if there is one: AVX-512 kernels without AVX-512.
        let unrunnable = !flags.contains(" avx512bw ") ? "SkylakeX" : (!flags.contains(" avx512_bf16 ") ? "Cooperlake" : nil)
        guard let unrunnable else { throw XCTSkip("this CPU runs every OpenBLAS core type env.sh knows") }
        let (replaced, note) = try coreType(["OPENBLAS_CORETYPE": unrunnable, "COHORT_CPU": ""])
        XCTAssertNotEqual(replaced, unrunnable)
        XCTAssertEqual(note.split(separator: "\n").count, 1, note)
        XCTAssertTrue(note.contains("OPENBLAS_CORETYPE=\(unrunnable) needs instructions this CPU"), note)
    }
}
