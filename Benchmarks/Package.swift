// swift-tools-version: 6.1
// Benchmarks live in their own package so the product build and the test suite do not compile
// the benchmark harness. Run everything with ./run-all.sh (see README.md here), or one target with
// `swift package benchmark --target <Name>`.
import PackageDescription

/// One executable benchmark target per area; each lives in Benchmarks/<Name>/.
let benchmarkNames = [
    "KernelBenchmarks",
    "PruningBenchmarks",
    "EngineBenchmarks",
    "GenerateBenchmarks",
    "ReuseBenchmarks",
]

let package = Package(
    name: "vispruner-benchmarks",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "make-random-llava", targets: ["MakeRandomLLaVA"]),
    ],
    dependencies: [
        .package(name: "vispruner-bench", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.0", traits: ["MallocInterposer"]),
    ],
    targets: benchmarkNames.map { name in
        .executableTarget(
            name: name,
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "VisPrunerKit", package: "vispruner-bench"),
                "RandomCheckpoints",
            ],
            path: "Benchmarks/\(name)",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    } + [
        // Real-size checkpoints with random fp16 weights, written once for the engine benchmarks.
        .target(name: "RandomCheckpoints", dependencies: [.product(name: "VisPrunerKit", package: "vispruner-bench")],
                path: "Support/RandomCheckpoints"),
        .executableTarget(name: "MakeRandomLLaVA", dependencies: ["RandomCheckpoints"], path: "Tools/MakeRandomLLaVA"),
    ],
    swiftLanguageModes: [.v5]
)
