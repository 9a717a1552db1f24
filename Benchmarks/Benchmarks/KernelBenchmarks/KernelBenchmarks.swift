import Benchmark
import Tensor

// OpenBLAS sgemm at the engine's shapes, named as in peers/torch_peer.py. The 640×4096×11008
// product (a LLaMA-7B MLP projection at prefill) is the compute roofline run-all.sh divides by.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration.maxDuration = .seconds(3)
    Benchmark.defaultConfiguration.maxIterations = 50
    let shapes: [(Int, Int, Int)] = [(577, 1024, 3072), (640, 4096, 11008), (1, 4096, 11008)]
    for (m, k, n) in shapes {
        Benchmark("sgemm \(m)x\(k)x\(n)", configuration: .init(metrics: [.wallClock, .throughput, .peakMemoryResident])) { benchmark in
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
