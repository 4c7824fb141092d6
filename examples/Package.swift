// swift-tools-version:5.9
// Programs written against Cohort's library products as a user would, depending on the package by
// path: a layer of one's own with its gradient check, a dataset of one's own, and a training loop
// of one's own that runs under mpirun with Cohort's gradient synchronisation. CI builds and runs
// them (launch/examples).
import Foundation
import PackageDescription

// A path dependency is known by its folder's name, which is wherever the checkout was cloned.
let cohort = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

let package = Package(
    name: "CohortExamples",
    platforms: [.macOS(.v13)],
    dependencies: [.package(path: "..")],
    targets: [
        // A learnable Swish activation (y = x * sigmoid(beta * x), beta per feature).
        .target(name: "ExampleLayers", dependencies: [.product(name: "Cohort", package: cohort), .product(name: "CohortNN", package: cohort)]),
        // Two interleaved spirals generated in code, as a Cohort Dataset.
        .target(name: "ExampleData", dependencies: [.product(name: "Cohort", package: cohort), .product(name: "CohortData", package: cohort)]),
        .executableTarget(name: "layer-check", dependencies: ["ExampleLayers", .product(name: "Cohort", package: cohort),
                                                              .product(name: "CohortNN", package: cohort)]),
        .executableTarget(name: "spirals", dependencies: ["ExampleLayers", "ExampleData",
                                                          .product(name: "Cohort", package: cohort), .product(name: "CohortNN", package: cohort),
                                                          .product(name: "CohortOptim", package: cohort), .product(name: "CohortData", package: cohort),
                                                          .product(name: "CohortDistributed", package: cohort),
                                                          .product(name: "CohortFormats", package: cohort),
                                                          .product(name: "CohortTrain", package: cohort)]),
    ]
)
