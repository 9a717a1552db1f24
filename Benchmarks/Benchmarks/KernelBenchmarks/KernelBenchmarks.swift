import Benchmark
import Tensor

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration.maxDuration = .seconds(3)
    Benchmark.defaultConfiguration.maxIterations = 50

    // sgemm at the engine's shapes: (rows × inner) · (inner × out).
    let shapes: [(String, Int, Int, Int)] = [
        ("clip-qkv 577x1024x1024", 577, 1024, 1024),
        ("llama-prefill-mlp 640x4096x11008", 640, 4096, 11008),
    ]
    for (label, m, k, n) in shapes {
        Benchmark("sgemm \(label)", configuration: .init(metrics: [.wallClock, .throughput, .peakMemoryResident])) { benchmark in
            var a = Tensor(shape: [m, k], data: (0..<(m * k)).map { Float($0 % 7) * 0.01 })
            var b = Tensor(shape: [k, n], data: (0..<(k * n)).map { Float($0 % 5) * 0.01 })
            var c = Tensor(zeros: [m, n])
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                a.withMatrixView { av in b.withMatrixView { bv in c.withMatrixView { cv in sgemm(av, bv, into: cv) } } }
            }
            blackHole(c.data[0])
        }
    }
}
