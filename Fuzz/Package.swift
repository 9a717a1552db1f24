// swift-tools-version: 6.1
// libFuzzer targets for every parser that reads untrusted files. Built and run by scripts/fuzz.sh
// (`swift build -c release --sanitize=fuzzer --sanitize=address`), never by the product build.
// Release only: a debug build renames executable entry points for testing, which libFuzzer's main does not expect.
import PackageDescription

let fuzzTargets = [
    "FuzzNpy", "FuzzSafetensors", "FuzzTorchCheckpoint", "FuzzTorchPickle", "FuzzSentencePiece", "FuzzImage",
    "FuzzDatasetFiles",
]

let package = Package(
    name: "vispruner-fuzz",
    dependencies: [.package(name: "vispruner-bench", path: "..")],
    targets: [
        .target(name: "FuzzSupport", path: "Sources/FuzzSupport"),
    ] + fuzzTargets.map { name in
        .executableTarget(
            name: name,
            dependencies: ["FuzzSupport", .product(name: "VisPrunerKit", package: "vispruner-bench")],
            path: "Sources/\(name)",
            // No `main` of our own: libFuzzer's calls the target's `@_cdecl("LLVMFuzzerTestOneInput")`.
            swiftSettings: [.unsafeFlags(["-parse-as-library"])],
            // ld.gold stops with "internal error in format_file_lineno" when it reports a problem in the
            // sanitizer runtimes instead of naming it; lld links them and gives readable errors.
            linkerSettings: [.unsafeFlags(["-use-ld=lld"])]
        )
    },
    swiftLanguageModes: [.v5]
)
