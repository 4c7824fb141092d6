// swift-tools-version:5.9
import PackageDescription

// Layers (docs/ARCHITECTURE.md): cohort (CLI) -> CohortTrain -> CohortNN -> Cohort -> CBLAS.
// CMPI and CBLAS are system-library targets resolved with pkg-config (ompi-c, openblas).
let unchecked: [SwiftSetting] = [.unsafeFlags(["-Ounchecked"])]

let package = Package(
    name: "Cohort",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "cohort", targets: ["cohort"]),
        .library(name: "Cohort", targets: ["Cohort"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c",
                       providers: [.apt(["libopenmpi-dev"])]),
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        // A plain C timing loop around cblas_sgemm: the reference `cohort bench blas` must match.
        .target(name: "CBLASReference", dependencies: ["CBLAS"], path: "Sources/CBLASReference",
                cSettings: [.unsafeFlags(["-O2"])]),
        .target(name: "Cohort", dependencies: ["CBLAS"], path: "Sources/Cohort"),
        .executableTarget(
            name: "cohort",
            dependencies: [
                "Cohort", "CBLASReference",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/cohort"),
        .testTarget(name: "CohortTests", dependencies: ["Cohort"], path: "Tests/CohortTests"),
    ]
)
