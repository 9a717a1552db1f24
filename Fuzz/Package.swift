// swift-tools-version: 6.1
// libFuzzer targets for every parser that reads untrusted files. Built and run by scripts/fuzz.sh
// (`swift build -c release -Xswiftc -sanitize=fuzzer,address`), never by the product build.
import PackageDescription

let fuzzTargets = [
    "FuzzNpy",
]

let package = Package(
    name: "vispruner-fuzz",
    dependencies: [.package(name: "vispruner-bench", path: "..")],
    targets: fuzzTargets.map { name in
        .executableTarget(
            name: name,
            dependencies: [.product(name: "VisPrunerKit", package: "vispruner-bench")],
            path: "Sources/\(name)",
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        )
    },
    swiftLanguageModes: [.v5]
)
