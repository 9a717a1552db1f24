import Benchmark
import Foundation
import Pruning
import Tensor
import Records

/// Selection time at LLaVA-1.5 geometry (N = 576 patches, D = 1024 CLIP ViT-L channels, 16 heads).
///
/// Inputs are the recorded fixture pub-s1-d1024 (clustered like real ViT features) so the PyTorch
/// peer (peers/pruning_peer.py) times exactly the same work; synthetic data is used if absent.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration.maxDuration = .seconds(3)
    Benchmark.defaultConfiguration.maxIterations = 200
    // Same thread count as the peer (PRUNING_THREADS, default 1) so the comparison is like for like.
    let threads = Int(ProcessInfo.processInfo.environment["PRUNING_THREADS"] ?? "") ?? 1
    BLASThreads.set(threads)

    let (features, attention) = loadInputs()
    let ratio = 0.5
    for tokens in [32, 64, 128, 192] {
        for method in [SelectionMethod.vispruner, .fastervlm, .divprune] {
            Benchmark("\(method.rawValue) N=576 D=1024 T=\(tokens) r=\(ratio)",
                      configuration: .init(metrics: [.wallClock, .peakMemoryResident])) { benchmark in
                let selector = method.selector(seed: 0)
                for _ in benchmark.scaledIterations {
                    blackHole(try selector.select(features: features, attention: attention, tokens: tokens, ratio: ratio))
                }
            }
        }
    }
}

private func loadInputs() -> (Tensor, Tensor) {
    let dir = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("shared/fixtures/pruning")
    if let f = try? Npy.readTensor(contentsOf: dir.appendingPathComponent("pub-s1-d1024-features.npy")),
       let a = try? Npy.readTensor(contentsOf: dir.appendingPathComponent("pub-s1-d1024-attention.npy")) {
        return (f, a)
    }
    var state: UInt64 = 42
    func next() -> Float {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(state >> 40) / Float(1 << 24) - 0.5
    }
    let f = Tensor(shape: [576, 1024], data: (0..<(576 * 1024)).map { _ in next() })
    let a = Tensor(shape: [16, 576], data: (0..<(16 * 576)).map { _ in next() + 0.5 })
    return (f, a)
}
