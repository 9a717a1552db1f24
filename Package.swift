// swift-tools-version: 6.1
// VisPruner Bench: evaluation harness and native LLaVA engine for VisPruner token pruning.
import PackageDescription

let package = Package(
    name: "vispruner-bench",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "vispruner", targets: ["vispruner"]),
        .library(name: "VisPrunerKit", targets: [
            "Tensor", "Checkpoint", "Tokenizer", "Imaging", "Pruning", "Model",
            "Datasets", "Scoring", "Store", "Harness", "Report",
        ]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ],
    targets: [
        // System libraries (headers + link flags); apt names for a fresh Debian machine.
        .systemLibrary(name: "CBLAS", path: "Sources/System/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CPNG", path: "Sources/System/CPNG", pkgConfig: "libpng16",
                       providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CJPEG", path: "Sources/System/CJPEG", pkgConfig: "libjpeg",
                       providers: [.apt(["libjpeg62-turbo-dev"])]),
        // C shims: setjmp-based codec error handling (cannot be done from Swift) and SIMD kernels
        // with run-time CPU feature dispatch.
        .target(name: "CImageIO", dependencies: ["CPNG", "CJPEG"], path: "Sources/System/CImageIO",
                linkerSettings: [.linkedLibrary("png16"), .linkedLibrary("jpeg")]),
        .target(name: "CKernels", path: "Sources/System/CKernels",
                cSettings: [.unsafeFlags(["-O3"])]),

        // Core layers (each depends only on the ones above it).
        .target(name: "Tensor", dependencies: ["CBLAS", "CKernels"]),
        .target(name: "Checkpoint", dependencies: ["Tensor"]),
        .target(name: "Tokenizer"),
        .target(name: "Imaging", dependencies: ["Tensor", "CImageIO"]),
        // Optimised even in debug builds: selection and the engine's row kernels are loops the parity
        // tests run millions of times.
        .target(name: "Pruning", dependencies: ["Tensor"], swiftSettings: [.unsafeFlags(["-O"])]),
        .target(name: "Model", dependencies: ["Tensor", "Checkpoint", "Tokenizer", "Imaging", "Pruning"],
                swiftSettings: [.unsafeFlags(["-O"])]),
        .target(name: "Datasets"),
        .target(name: "Scoring", dependencies: ["Datasets"]),
        .target(name: "Store", dependencies: ["Datasets", "Scoring", .product(name: "GRDB", package: "GRDB.swift")]),
        .target(name: "Harness", dependencies: [
            "Model", "Datasets", "Scoring", "Store", .product(name: "Logging", package: "swift-log"),
            .product(name: "Yams", package: "Yams"),
        ]),
        .target(name: "Report", dependencies: ["Store", "Scoring", "Imaging"]),
        .executableTarget(name: "vispruner", dependencies: [
            "Tensor", "Checkpoint", "Tokenizer", "Imaging", "Pruning", "Model",
            "Datasets", "Scoring", "Store", "Harness", "Report",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], path: "Sources/CLI"),

        .target(name: "TestSupport", path: "Tests/TestSupport"),
        // Child process for the store's kill-mid-write durability test.
        .executableTarget(name: "store-writer", dependencies: ["Store", "Datasets"], path: "Tests/StoreWriter"),
        .testTarget(name: "TensorTests", dependencies: ["Tensor", "TestSupport"], exclude: ["Resources"]),
        .testTarget(name: "CheckpointTests", dependencies: ["Checkpoint", "Tensor", "TestSupport"],
                    exclude: ["Resources/TorchBin"]),  // torch.save fixtures, read in place by path
        .testTarget(name: "TokenizerTests", dependencies: ["Tokenizer", "TestSupport"]),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging", "Tensor", "TestSupport"]),
        .testTarget(name: "PruningTests", dependencies: ["Pruning", "Tensor", "TestSupport"]),
        .testTarget(name: "ModelTests", dependencies: ["Model", "Tensor", "Checkpoint", "Imaging", "Tokenizer", "Pruning", "TestSupport"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "TestSupport"]),
        .testTarget(name: "ScoringTests", dependencies: ["Scoring", "Datasets", "TestSupport"]),
        .testTarget(name: "StoreTests", dependencies: ["Store", "Datasets", "Scoring", "store-writer", "TestSupport"]),
        .testTarget(name: "HarnessTests", dependencies: ["Harness", "Store", "Report", "TestSupport"]),
        .testTarget(name: "ReportTests", dependencies: ["Report", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["vispruner", "Store", "Datasets", "TestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
