// swift-tools-version: 6.1
// VisPruner Bench: evaluation harness and native LLaVA engine for VisPruner token pruning.
import PackageDescription

let package = Package(
    name: "vispruner-bench",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "vispruner", targets: ["vispruner"]),
        .library(name: "VisPrunerKit", targets: [
            "PythonText", "Records", "Tensor", "Checkpoint", "Tokenizer", "Imaging", "Pruning", "Model",
            "Benchmarks", "Store", "Harness", "Report",
        ]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
                .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // System libraries (headers + link flags); apt names for a fresh Debian machine.
        .systemLibrary(name: "CBLAS", path: "Sources/System/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CPNG", path: "Sources/System/CPNG", pkgConfig: "libpng16",
                       providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CJPEG", path: "Sources/System/CJPEG", pkgConfig: "libjpeg",
                       providers: [.apt(["libjpeg62-turbo-dev"])]),
        // Figures: Cairo's image, SVG and PDF surfaces; text in DejaVu Sans found through fontconfig.
        .systemLibrary(name: "CCairo", path: "Sources/System/CCairo", pkgConfig: "cairo",
                       providers: [.apt(["libcairo2-dev", "fonts-dejavu-core"])]),
        // C shims: setjmp-based codec error handling (cannot be done from Swift) and SIMD kernels
        // with run-time CPU feature dispatch.
        .target(name: "CImageIO", dependencies: ["CPNG", "CJPEG"], path: "Sources/System/CImageIO",
                linkerSettings: [.linkedLibrary("png16"), .linkedLibrary("jpeg")]),
        .target(name: "CKernels", path: "Sources/System/CKernels",
                cSettings: [.unsafeFlags(["-O3", "-ffp-contract=off"])]),  // numerics n2: no implicit FMA (CKernels.h)

        // Layers, each depending only on the ones above it (ARCHITECTURE.md draws them).
        // Python's str and json.dumps semantics, shared by the tokenizer and the benchmark scripts' ports.
        .target(name: "PythonText"),
        // The vocabulary every layer shares: question ids, answers, metrics, run settings and keys, timings.
        .target(name: "Records", dependencies: ["PythonText", .product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "Tensor", dependencies: ["CBLAS", "CKernels"]),
        .target(name: "Checkpoint", dependencies: ["Tensor"]),
        .target(name: "Tokenizer", dependencies: ["PythonText"]),
        .target(name: "Imaging", dependencies: ["Records", "Tensor", "CImageIO"]),
        // Optimised even in debug builds: selection and the engine's row kernels are loops the parity
        // tests run millions of times.
        .target(name: "Pruning", dependencies: ["Records", "Tensor"], swiftSettings: [.unsafeFlags(["-O"])]),
        .target(name: "Model", dependencies: ["Records", "Tensor", "Checkpoint", "Tokenizer", "Imaging", "Pruning"],
                swiftSettings: [.unsafeFlags(["-O"])]),
        // One folder per benchmark: items, prompts, answer parsing, official-identical scorer, exporters.
        .target(name: "Benchmarks", dependencies: ["PythonText", "Records"]),
        .target(name: "Store", dependencies: ["Records", .product(name: "GRDB", package: "GRDB.swift")]),
        .target(name: "Harness", dependencies: [
            "Records", "Tensor", "Checkpoint", "Imaging", "Model", "Benchmarks", "Store", .product(name: "Yams", package: "Yams"),
        ]),
        .target(name: "Report", dependencies: ["PythonText", "Records", "Store", "Imaging", "Pruning", "CCairo"]),
        .executableTarget(name: "vispruner", dependencies: [
            "Records", "Tensor", "Imaging", "Pruning", "Model", "Benchmarks", "Store", "Harness", "Report",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], path: "Sources/CLI"),

        .target(name: "TestSupport", path: "Tests/TestSupport"),
        // Child process for the store's kill-mid-write durability test.
        .executableTarget(name: "store-writer", dependencies: ["Store", "Records"], path: "Tests/StoreWriter"),
        .testTarget(name: "TensorTests", dependencies: ["Tensor", "CKernels", "TestSupport", .product(name: "Crypto", package: "swift-crypto")],
                    exclude: ["Resources"]),
        .testTarget(name: "CheckpointTests", dependencies: ["Checkpoint", "Tensor", "TestSupport"],
                    exclude: ["Resources/TorchBin"]),  // torch.save fixtures, read in place by path
        .testTarget(name: "TokenizerTests", dependencies: ["Tokenizer", "PythonText", "TestSupport"]),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging", "Tensor", "TestSupport"]),
        .testTarget(name: "PruningTests", dependencies: ["Pruning", "Records", "Tensor", "TestSupport"]),
        .testTarget(name: "ModelTests", dependencies: ["Model", "Records", "Tensor", "Checkpoint", "Pruning", "TestSupport",
                                                 .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "BenchmarksTests", dependencies: ["Benchmarks", "Records", "PythonText", "TestSupport"]),
        .testTarget(name: "StoreTests", dependencies: ["Store", "Records", "store-writer", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "HarnessTests", dependencies: ["Harness", "Records", "PythonText", "Benchmarks", "Store", "TestSupport"]),
        .testTarget(name: "ReportTests", dependencies: ["Report", "Records", "Store", "Imaging", "Pruning", "TestSupport"], exclude: ["Resources"]),
        // The vispruner executable is a dependency so the tests can run it.
        .testTarget(name: "CLITests", dependencies: ["vispruner", "Records", "Store", "Benchmarks", "TestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
