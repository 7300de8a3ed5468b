// swift-tools-version: 6.0
// Recur: a zero-allocation SIMD runtime for small recurrent sequence models (`Sources/`),
// and the offline GSL-seeded trainer that produces its model files (`tools/`).
//
// Fast by default, flag-free as a library (docs/performance.md): the `RecurRuntime` library product carries no
// unsafeFlags, so a dependent compiles it with its own flags. The `recur` executable links `RecurRuntimeNative`, the
// same sources compiled with `-target-cpu native` for the machine that builds it (never a named CPU: a binary built
// for one dies with SIGILL on another). `RECUR_PORTABLE=1 swift build ...` drops that flag for a binary that runs on
// any CPU of the architecture (baseline x86-64: slower, see docs/performance.md).
import PackageDescription

// The manifest reads no file of the host and imports no Foundation: what it builds depends only on this environment
// variable. The kernels are chosen at run time (Sources/RecurRuntime/Kernels/KernelPlan.swift): the `recur` CLI
// describes its CPU at start-up and the runtime plans each model for it.
let portable = !["", "0"].contains(Context.environment["RECUR_PORTABLE"] ?? "")
let nativeCPU: [SwiftSetting] = portable ? [] : [.unsafeFlags(["-target-cpu", "native"], .when(platforms: [.linux]))]
// The CLI must know whether its runtime was compiled for this CPU (plan for it) or for the baseline (plan for 4
// lanes, whatever the CPU has): the only define, read in one place (Sources/recur/CPUDetection.swift).
let cliSettings: [SwiftSetting] = portable ? [.define("RECUR_PORTABLE")] : []

let package = Package(
  name: "Recur",
  // macOS 13: the trainer's progress bar and timings use ContinuousClock and Duration (macOS 13 APIs); the rest of the
  // package needs no newer OS (docs/architecture.md, "macOS and other platforms"). Linux has no minimum.
  platforms: [.macOS(.v13)],
  products: [
    .library(name: "RecurRuntime", targets: ["RecurRuntime"]),
    .executable(name: "recur", targets: ["recur"]),
    .executable(name: "recur-train", targets: ["recur-train"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0")
  ],
  targets: [
    // The runtime: Swift standard library only (no Foundation, no Glibc, no GSL). Its C API for firmware,
    // Sources/RecurC (recur.h), is not a SwiftPM target: tools/build-librecur compiles it with these sources as
    // Embedded Swift into librecur.a (docs/bare-metal.md).
    // BuiltinModule: only for `llvm.fmuladd` (see Sources/RecurRuntime/Kernels/Vector.swift).
    .target(name: "RecurRuntime", swiftSettings: [.enableExperimentalFeature("BuiltinModule")]),
    // The one number scanner (stdin, golden files, training data): the CLI and the trainer read numbers alike.
    .target(name: "RecurText"),
    // Untrusted input through one door: the one opener and the one writer of every file both CLIs touch, and the
    // one escaping function for text echoed to a terminal or a JSON document (standard library and libc only).
    .target(name: "RecurIO"),
    // The same runtime sources (Sources/RecurRuntimeNative is a symlink to Sources/RecurRuntime), compiled for the
    // CPU of the machine that builds them, for the `recur` executable only: fast by default (docs/performance.md).
    // Not a product: the library product above stays flag-free. Never a named CPU.
    .target(
      name: "RecurRuntimeNative",
      swiftSettings: [.enableExperimentalFeature("BuiltinModule")] + nativeCPU
    ),
    .executableTarget(
      name: "recur",
      dependencies: [
        "RecurRuntimeNative", "RecurText", "RecurIO",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      swiftSettings: cliSettings
    ),

    // The offline side.
    .systemLibrary(
      name: "CGSL",
      path: "tools/CGSL",
      pkgConfig: "gsl",
      providers: [.apt(["libgsl-dev"]), .brew(["gsl"])]
    ),
    .target(
      name: "RecurTrainer", dependencies: ["RecurRuntime", "RecurText", "RecurIO", "CGSL"], path: "tools/RecurTrainer"),
    .executableTarget(
      name: "recur-train",
      dependencies: [
        "RecurTrainer", "RecurRuntime", "RecurText", "RecurIO",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      path: "tools/recur-train"
    ),

    // Test-only: counts malloc-family calls on the calling thread. Never a product dependency.
    .target(name: "MallocCounter", path: "Tests/MallocCounter"),
    // Test-only, used by every test target: the child-process runner and product lookup, Double reference cells,
    // random models, the one relative error. Never a product dependency.
    .target(name: "RecurTestSupport", dependencies: ["RecurRuntime"], path: "Tests/RecurTestSupport"),
    .testTarget(name: "RecurRuntimeTests", dependencies: ["RecurRuntime", "MallocCounter", "RecurTestSupport"]),
    .testTarget(
      name: "RecurCLITests", dependencies: ["recur", "recur-train", "RecurRuntimeNative", "RecurTestSupport"]),
    .testTarget(name: "RecurTextTests", dependencies: ["RecurText", "RecurIO", "RecurTestSupport"]),
    .testTarget(
      name: "RecurTrainerTests",
      dependencies: ["RecurTrainer", "RecurRuntime", "RecurText", "recur-train", "RecurTestSupport"]),
  ],
  swiftLanguageModes: [.v6]
)
