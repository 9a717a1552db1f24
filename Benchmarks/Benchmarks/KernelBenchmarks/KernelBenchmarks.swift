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

    // The decode step's matrix-vector product with fp16 weights read as stored (the streaming kernel,
    // both cores): memory-bound, 90 MB of weights per call.
    Benchmark("linear fp16 1x4096x11008 (streaming)", configuration: .init(metrics: [.wallClock, .throughput])) { benchmark in
        let (k, n) = (4096, 11008)
        let weights = (0..<(k * n)).map { Float16(Float($0 % 97) * 0.001).bitPattern }
        var x = Tensor(shape: [1, k], data: (0..<k).map { Float($0 % 7) * 0.01 })
        var y = Tensor(zeros: [1, n])
        var scratch = LinearScratch()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            weights.withUnsafeBytes { w in
                x.withMatrixView { xv in
                    y.withMatrixView { yv in
                        linear(xv, weight: w.baseAddress!, dtype: .float16, outFeatures: n, inFeatures: k, bias: nil,
                               into: yv, scratch: &scratch)
                    }
                }
            }
        }
        blackHole(y.data[0])
    }
}
