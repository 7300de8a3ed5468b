// swift-tools-version: 6.0
// Recur: a zero-allocation SIMD runtime for small recurrent sequence models (`Sources/`),
// and the offline GSL-seeded trainer that produces its model files (`tools/`).
//
// No unsafeFlags here: CPU-specific code generation is chosen on the command line, e.g.
//   swift build -c release -Xswiftc -target-cpu -Xswiftc native   (never a named CPU: see README "Performance")
import PackageDescription

let package = Package(
  name: "Recur",
  products: [
    .library(name: "RecurRuntime", targets: ["RecurRuntime"]),
    .executable(name: "recur", targets: ["recur"]),
    .executable(name: "recur-train", targets: ["recur-train"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0")
  ],
  targets: [
    // The runtime: Swift standard library only (no Foundation, no Glibc, no GSL).
    // BuiltinModule: only for `llvm.fmuladd` (see Sources/RecurRuntime/MultiplyAdd.swift).
    .target(name: "RecurRuntime", swiftSettings: [.enableExperimentalFeature("BuiltinModule")]),
    // The one number scanner (stdin, golden files, training data): the CLI and the trainer read numbers alike.
    .target(name: "RecurText"),
    .executableTarget(
      name: "recur",
      dependencies: [
        "RecurRuntime", "RecurText",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),

    // The offline side.
    .systemLibrary(
      name: "CGSL",
      path: "tools/CGSL",
      pkgConfig: "gsl",
      providers: [.apt(["libgsl-dev"])]
    ),
    .target(name: "RecurTrainer", dependencies: ["RecurRuntime", "RecurText", "CGSL"], path: "tools/RecurTrainer"),
    .executableTarget(
      name: "recur-train",
      dependencies: [
        "RecurTrainer", "RecurRuntime",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      path: "tools/recur-train"
    ),

    // Test-only: counts malloc-family calls on the calling thread. Never a product dependency.
    .target(name: "MallocCounter", path: "Tests/MallocCounter"),
    .testTarget(name: "RecurRuntimeTests", dependencies: ["RecurRuntime", "MallocCounter"]),
    .testTarget(name: "RecurCLITests", dependencies: ["recur", "recur-train", "RecurRuntime"]),
    .testTarget(name: "RecurTextTests", dependencies: ["RecurText"]),
    .testTarget(name: "RecurTrainerTests", dependencies: ["RecurTrainer", "RecurRuntime", "RecurText", "recur-train"]),
  ],
  swiftLanguageModes: [.v6]
)
