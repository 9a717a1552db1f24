// swift-tools-version: 6.1
// Benchmarks live in their own package so the product build and the test suite do not compile
// the benchmark harness. Run from this folder: `swift package benchmark` (see README.md here).
import PackageDescription

/// One executable benchmark target per area; each lives in Benchmarks/<Name>/.
let benchmarkNames = [
    "KernelBenchmarks",
    "PruningBenchmarks",
]

let package = Package(
    name: "vispruner-benchmarks",
    platforms: [.macOS(.v13)],
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
            ],
            path: "Benchmarks/\(name)",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    },
    swiftLanguageModes: [.v5]
)
