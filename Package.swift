// swift-tools-version:5.9
import PackageDescription

// Layers (docs/ARCHITECTURE.md), arrows point at what a target may import:
//   cohort (CLI) -> CohortDistill -> CohortTrain -> CohortNN, CohortOptim, CohortData, CohortDistributed -> Cohort -> CBLAS, CDNNL, CBFloat16, CCPU, CWinograd
//   CohortNN -> CohortFormats (models load from safetensors), CInt8 (int8 inference kernels; also the CLI, for `bench int8`), CPooling, CNormalization;
//   CohortDistributed -> CMPI, CAtomics, CWire; CohortData -> CZlib
// Every target lists every module it imports. CMPI, CBLAS and CZlib are system-library targets
// resolved with pkg-config (ompi-c, openblas, zlib); CDNNL (oneDNN 2.x) links libdnnl directly, since
// Debian's libdnnl-dev ships no pkg-config file. CAllocationCounter interposes malloc, so only
// the binary that counts allocations (`cohort bench train`) links it.
let package = Package(
    name: "Cohort",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "cohort", targets: ["cohort"]),
        // The modules a user programs against (examples/ builds programs on them as a user would).
        .library(name: "Cohort", targets: ["Cohort"]),
        .library(name: "CohortNN", targets: ["CohortNN"]),
        .library(name: "CohortOptim", targets: ["CohortOptim"]),
        .library(name: "CohortData", targets: ["CohortData"]),
        .library(name: "CohortFormats", targets: ["CohortFormats"]),
        .library(name: "CohortDistributed", targets: ["CohortDistributed"]),
        .library(name: "CohortTrain", targets: ["CohortTrain"]),
        .library(name: "CohortDistill", targets: ["CohortDistill"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ],
    targets: [
        .systemLibrary(name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c",
                       providers: [.apt(["libopenmpi-dev"])]),
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CDNNL", path: "Sources/CDNNL", providers: [.apt(["libdnnl-dev"])]),
        // The one CPU probe (x86 and aarch64 features, capped by COHORT_CPU) every kernel family chooses its path from.
        .target(name: "CCPU", path: "Sources/CCPU", cSettings: [.unsafeFlags(["-O2"])]),
        // bf16 rounding (AVX-512 BF16 or a portable loop).
        .target(name: "CBFloat16", dependencies: ["CCPU"], path: "Sources/CBFloat16", cSettings: [.unsafeFlags(["-O3"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        // A plain C timing loop around cblas_sgemm: the reference `cohort bench blas` must match.
        .target(name: "CBLASReference", dependencies: ["CBLAS"], path: "Sources/CBLASReference",
                cSettings: [.unsafeFlags(["-O2"])]),
        // 8-bit inference kernels (AVX2, AVX-VNNI, AVX-512 VNNI, NEON, dot product, chosen at run time; a portable loop everywhere).
        .target(name: "CInt8", dependencies: ["CCPU"], path: "Sources/CInt8", cSettings: [.unsafeFlags(["-O3"])]),
        // Winograd F(4x4, 3x3)'s transforms (AVX2 chosen at run time, a portable path everywhere), unfused like CNormalization.
        .target(name: "CWinograd", dependencies: ["CCPU"], path: "Sources/CWinograd", cSettings: [.unsafeFlags(["-O3", "-ffp-contract=off"])]),
        .target(name: "Cohort", dependencies: ["CBLAS", "CDNNL", "CBFloat16", "CCPU", "CWinograd"], path: "Sources/Cohort"),
        .target(name: "CohortData", dependencies: ["Cohort", "CZlib"], path: "Sources/CohortData"),
        .target(name: "CohortOptim", dependencies: ["Cohort"], path: "Sources/CohortOptim"),
        .target(name: "CohortFormats", dependencies: ["Cohort"], path: "Sources/CohortFormats"),
        // Max pooling (AVX2 and NEON for 2x2 windows, chosen at run time).
        .target(name: "CPooling", dependencies: ["CCPU"], path: "Sources/CPooling", cSettings: [.unsafeFlags(["-O3"])]),
        // Batch normalisation's loops; -ffp-contract=off keeps each path's multiplies and adds unfused, as the
        // portable loops compute them (the paths agree bit for bit).
        .target(name: "CNormalization", dependencies: ["CCPU"], path: "Sources/CNormalization", cSettings: [.unsafeFlags(["-O3", "-ffp-contract=off"])]),
        .target(name: "CohortNN", dependencies: ["Cohort", "CohortFormats", "CInt8", "CPooling", "CNormalization"], path: "Sources/CohortNN"),
        .target(name: "CAtomics", path: "Sources/CAtomics"),
        // Gradients to and from 16 bits on the wire (F16C chosen at run time, a portable path elsewhere).
        .target(name: "CWire", dependencies: ["CCPU"], path: "Sources/CWire", cSettings: [.unsafeFlags(["-O3"])]),
        .target(name: "CAllocationCounter", path: "Sources/CAllocationCounter"),
        .target(name: "CohortDistributed", dependencies: ["Cohort", "CMPI", "CAtomics", "CWire"], path: "Sources/CohortDistributed"),
        .target(name: "CohortTrain",
                dependencies: ["Cohort", "CohortNN", "CohortOptim", "CohortData", "CohortFormats", "CohortDistributed",
                               .product(name: "Yams", package: "Yams")],
                path: "Sources/CohortTrain"),
        .target(name: "CohortDistill",
                dependencies: ["Cohort", "CohortNN", "CohortData", "CohortFormats", "CohortDistributed", "CohortOptim", "CohortTrain"],
                path: "Sources/CohortDistill"),
        .executableTarget(
            name: "cohort",
            dependencies: [
                "Cohort", "CohortNN", "CohortData", "CohortDistributed", "CohortTrain", "CohortDistill", "CBLASReference", "CAllocationCounter", "CInt8",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/cohort"),
        .testTarget(name: "CohortTests", dependencies: ["Cohort", "CBFloat16"], path: "Tests/CohortTests"),
        .testTarget(name: "CohortDataTests", dependencies: ["Cohort", "CohortData", "CZlib"], path: "Tests/CohortDataTests"),
        .testTarget(name: "CohortOptimTests", dependencies: ["Cohort", "CohortOptim"], path: "Tests/CohortOptimTests"),
        .testTarget(name: "CohortFormatsTests", dependencies: ["Cohort", "CohortFormats"], path: "Tests/CohortFormatsTests"),
        .testTarget(name: "CohortNNTests", dependencies: ["Cohort", "CohortNN", "CInt8", "CPooling", "CNormalization"], path: "Tests/CohortNNTests"),
        .testTarget(name: "CohortTrainTests", dependencies: ["Cohort", "CohortNN", "CohortOptim", "CohortData", "CohortFormats", "CohortDistributed", "CohortTrain", "CZlib", "CWire"],
                    path: "Tests/CohortTrainTests"),
        .testTarget(name: "CohortDistillTests", dependencies: ["Cohort", "CohortNN", "CohortData", "CohortFormats", "CohortDistributed", "CohortTrain", "CohortDistill"],
                    path: "Tests/CohortDistillTests"),
    ]
)
