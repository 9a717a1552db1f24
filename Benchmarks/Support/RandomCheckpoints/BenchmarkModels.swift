import Foundation
import Tensor

/// Where benchmark checkpoints and inputs live.
public enum BenchmarkModels {
    /// The repository root (this file is Benchmarks/Support/RandomCheckpoints/BenchmarkModels.swift).
    public static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// Random checkpoints are written once here and reused (`VISPRUNER_BENCH_MODELS`, default
    /// a folder in the system temporary directory).
    public static var root: URL {
        if let dir = ProcessInfo.processInfo.environment["VISPRUNER_BENCH_MODELS"], !dir.isEmpty {
            return URL(fileURLWithPath: dir)
        }
        return FileManager.default.temporaryDirectory.appendingPathComponent("vispruner-bench-models")
    }

    /// The demo LLaVA folder whose tokenizer files the random checkpoints copy.
    public static var tokenizerSource: URL { repoRoot.appendingPathComponent("demo/models/llava15-tiny") }

    /// A LLaVA-1.5-7B of real width with `layers` decoder layers (32 = the whole model).
    public static func llava7B(layers: Int = 32) throws -> RandomLLaVA.Paths {
        var g = RandomLLaVA.Geometry.llama7B
        g.layers = layers
        let name = layers == 32 ? "llava-v1.5-7b-random" : "llava-v1.5-7b-random-\(layers)l"
        return try RandomLLaVA.write(to: root, geometry: g, name: name, tokenizerFrom: tokenizerSource)
    }

    /// A LLaVA-1.5-13B of real width with `layers` decoder layers.
    public static func llava13B(layers: Int) throws -> RandomLLaVA.Paths {
        var g = RandomLLaVA.Geometry.llama13B
        g.layers = layers
        return try RandomLLaVA.write(to: root, geometry: g, name: "llava-v1.5-13b-random-\(layers)l", tokenizerFrom: tokenizerSource)
    }

    /// A demo photo (JPEG) shipped with the repository.
    public static var sampleImage: URL {
        repoRoot.appendingPathComponent("demo/data/pope/val2014/COCO_val2014_000000006033.jpg")
    }

    /// Input rows at the scale of the random checkpoints' token embeddings (|x| ≤ 0.03), so the
    /// activations have the magnitudes a real prompt gives them.
    public static func embeddings(rows: Int, width: Int, seed: UInt64 = 1) -> Tensor {
        Tensor(shape: [rows, width], data: noise(rows * width, seed: seed).map { $0 * 0.03 })
    }

    /// Deterministic pseudo-random floats in [-1, 1).
    public static func noise(_ count: Int, seed: UInt64 = 1) -> [Float] {
        var state = seed &* 0x9E3779B97F4A7C15
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(state >> 40) / Float(1 << 23) - 1
        }
    }
}
