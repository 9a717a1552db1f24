import XCTest
import CKernels
@testable import Tensor

/// The Linear products against a double-precision reference, over every weight dtype, every kernel
/// path this CPU runs, both thread counts, and the OpenBLAS opt-in.
final class MixedPrecisionTests: XCTestCase {
    func randoms(_ n: Int, seed: UInt64) -> [Float] {
        var s = seed &* 0x9E3779B97F4A7C15 | 1
        return (0..<n).map { _ in
            s ^= s << 13; s ^= s >> 7; s ^= s << 17
            return Float(Int(s % 20001) - 10000) / 10000
        }
    }

    /// Weights stored in `dtype`, plus their exact float32 values for the reference.
    struct Weights {
        var bytes: [UInt8]
        var exact: [Float]
    }

    func makeWeights(_ dtype: WeightDType, out: Int, inF: Int, seed: UInt64) -> Weights {
        let raw = randoms(out * inF, seed: seed)
        switch dtype {
        case .float32:
            return Weights(bytes: raw.withUnsafeBytes { Array($0) }, exact: raw)
        case .float16:
            let h = raw.map { HalfPrecision.half(from: $0) }
            return Weights(bytes: h.withUnsafeBytes { Array($0) }, exact: h.map { HalfPrecision.float(fromHalf: $0) })
        case .bfloat16:
            let h = raw.map { HalfPrecision.bfloat16(from: $0) }
            return Weights(bytes: h.withUnsafeBytes { Array($0) },
                           exact: h.map { HalfPrecision.float(fromBFloat16: $0) })
        }
    }

    /// Reference y and the per-element error scale sum |x·w| + |bias| (the float32 rounding
    /// bound is proportional to it, so cancellation cannot make a correct result fail).
    func reference(x: [Float], m: Int, inF: Int, w: [Float], out: Int, bias: [Float]?, roundX: Bool)
        -> (y: [Double], scale: [Double]) {
        let xs = roundX ? x.map { HalfPrecision.float(fromBFloat16: HalfPrecision.bfloat16(from: $0)) } : x
        var y = [Double](repeating: 0, count: m * out), scale = y
        xs.withUnsafeBufferPointer { xp in
            w.withUnsafeBufferPointer { wp in
                for r in 0..<m {
                    for o in 0..<out {
                        var acc = 0.0, mag = 0.0
                        for k in 0..<inF {
                            let p = Double(xp[r * inF + k]) * Double(wp[o * inF + k])
                            acc += p
                            mag += abs(p)
                        }
                        if let bias { acc += Double(bias[o]); mag += abs(Double(bias[o])) }
                        y[r * out + o] = acc
                        scale[r * out + o] = mag
                    }
                }
            }
        }
        return (y, scale)
    }

    /// Runs `linear` on strided views (x and y embedded with padding and an offset), checks the
    /// result against the reference and that no padding element was written.
    func check(dtype: WeightDType, weights: Weights, out: Int, inF: Int, m: Int, bias: [Float]?,
               config: LinearConfig, scratch: inout LinearScratch, label: String, tolerance: Double = 1e-5,
               ref: (y: [Double], scale: [Double]), x: [Float]) {
        let xStride = inF + 5, yStride = out + 3, yOffset = 2
        var xBuf = [Float](repeating: .nan, count: m * xStride + 1)
        for r in 0..<m { for k in 0..<inF { xBuf[1 + r * xStride + k] = x[r * inF + k] } }
        let sentinel: Float = -12345
        var yBuf = [Float](repeating: sentinel, count: m * yStride + yOffset)
        weights.bytes.withUnsafeBytes { wp in
            xBuf.withUnsafeMutableBufferPointer { xp in
                yBuf.withUnsafeMutableBufferPointer { yp in
                    let xv = MatrixView(base: xp.baseAddress! + 1, rows: m, cols: inF, rowStride: xStride)
                    let yv = MatrixView(base: yp.baseAddress! + yOffset, rows: m, cols: out, rowStride: yStride)
                    if let bias {
                        bias.withUnsafeBufferPointer { bp in
                            linear(xv, weight: wp.baseAddress!, dtype: dtype, outFeatures: out, inFeatures: inF,
                                   bias: bp.baseAddress!, into: yv, scratch: &scratch, config: config)
                        }
                    } else {
                        linear(xv, weight: wp.baseAddress!, dtype: dtype, outFeatures: out, inFeatures: inF,
                               bias: nil, into: yv, scratch: &scratch, config: config)
                    }
                }
            }
        }
        var failures = 0
        for i in 0..<yBuf.count {
            let r = (i - yOffset) / yStride, c = (i - yOffset) - r * yStride
            let inside = i >= yOffset && c >= 0 && c < out && r < m
            if !inside {
                if yBuf[i] != sentinel && failures < 5 {
                    XCTFail("\(label): padding y[\(i)] overwritten with \(yBuf[i])")
                    failures += 1
                }
                continue
            }
            let want = ref.y[r * out + c], bound = tolerance * ref.scale[r * out + c] + 1e-30
            let got = Double(yBuf[i])
            if !(abs(got - want) <= bound) && failures < 5 {
                XCTFail("\(label): y[\(r), \(c)] = \(got), want \(want) (bound \(bound))")
                failures += 1
            }
        }
    }

    var pathsHere: [KernelPath] { KernelPath.supported }

    func testStreamingKernelAllDtypesPathsThreadsAndRowCounts() {
        // in is not a multiple of 8/16/32 and out (101) splits unevenly into 12-row blocks and
        // across two threads; 101 × 333 is above the single-thread cut-off, so the pool runs.
        let out = 101, inF = 333
        var scratch = LinearScratch()
        let bias = randoms(out, seed: 99)
        for dtype in [WeightDType.float16, .bfloat16, .float32] {
            let w = makeWeights(dtype, out: out, inF: inF, seed: 7)
            for m in 1...17 {
                let x = randoms(m * inF, seed: UInt64(100 + m))
                let refNoBias = reference(x: x, m: m, inF: inF, w: w.exact, out: out, bias: nil, roundX: false)
                let refBias = reference(x: x, m: m, inF: inF, w: w.exact, out: out, bias: bias, roundX: false)
                for path in pathsHere {
                    for threads in [1, 2] {
                        let config = LinearConfig(path: path, threads: threads, streamingMaxRows: 64)
                        let label = "\(dtype) \(path) t=\(threads) m=\(m)"
                        check(dtype: dtype, weights: w, out: out, inF: inF, m: m, bias: nil, config: config,
                              scratch: &scratch, label: label + " no bias", ref: refNoBias, x: x)
                        check(dtype: dtype, weights: w, out: out, inF: inF, m: m, bias: bias, config: config,
                              scratch: &scratch, label: label + " bias", ref: refBias, x: x)
                    }
                }
            }
        }
    }

    func testOddSmallShapes() {
        // Shapes below one vector (in < 8) and single output rows exercise the scalar tails alone.
        var scratch = LinearScratch()
        for (out, inF) in [(1, 1), (3, 7), (13, 9), (5, 17), (24, 16), (12, 40)] {
            for dtype in [WeightDType.float16, .bfloat16, .float32] {
                let w = makeWeights(dtype, out: out, inF: inF, seed: UInt64(out * 31 + inF))
                let bias = randoms(out, seed: 5)
                for m in [1, 2, 3, 4, 5, 9] {
                    let x = randoms(m * inF, seed: UInt64(m))
                    let ref = reference(x: x, m: m, inF: inF, w: w.exact, out: out, bias: bias, roundX: false)
                    for path in pathsHere {
                        check(dtype: dtype, weights: w, out: out, inF: inF, m: m, bias: bias,
                              config: LinearConfig(path: path, threads: 2, streamingMaxRows: 64), scratch: &scratch,
                              label: "\(out)x\(inF) \(dtype) \(path) m=\(m)", ref: ref, x: x)
                    }
                }
            }
        }
    }

    func testPanelPathMatchesReference() {
        // streamingMaxRows 0 sends every row count to the prefill kernel (with `openblas`: widened panels +
        // sgemm; 16-row panels leave a 5-row remainder).
        let out = 37, inF = 45
        var scratch = LinearScratch()
        let bias = randoms(out, seed: 3)
        for dtype in [WeightDType.float16, .bfloat16, .float32] {
            let w = makeWeights(dtype, out: out, inF: inF, seed: 11)
            for m in [1, 2, 17, 40] {
                let x = randoms(m * inF, seed: UInt64(m + 50))
                for b in [nil, bias] {
                    let ref = reference(x: x, m: m, inF: inF, w: w.exact, out: out, bias: b, roundX: false)
                    for threads in [1, 2] {
                        for prefill in PrefillKernel.allCases {
                            let config = LinearConfig(threads: threads, streamingMaxRows: 0, panelRows: 16, prefill: prefill)
                            check(dtype: dtype, weights: w, out: out, inF: inF, m: m, bias: b, config: config,
                                  scratch: &scratch,
                                  label: "\(prefill) \(dtype) m=\(m) t=\(threads) bias=\(b != nil)", ref: ref, x: x)
                        }
                    }
                }
            }
        }
    }

    func testWidenedPanelsAcrossThreads() {
        // Large enough for ck_widen_rows to split the panel between pool threads.
        let out = 70, inF = 1100, m = 20
        var scratch = LinearScratch()
        for dtype in [WeightDType.float16, .bfloat16] {
            let w = makeWeights(dtype, out: out, inF: inF, seed: 17)
            let x = randoms(m * inF, seed: 18)
            let ref = reference(x: x, m: m, inF: inF, w: w.exact, out: out, bias: nil, roundX: false)
            check(dtype: dtype, weights: w, out: out, inF: inF, m: m, bias: nil,
                  config: LinearConfig(threads: 2, streamingMaxRows: 4, panelRows: 64, prefill: .openblas),
                  scratch: &scratch, label: "widen \(dtype)", ref: ref, x: x)
        }
    }

    func testPackedGEMMAcrossBlockBoundaries() throws {
        // in > 256 crosses K blocks (with a remainder that is not a multiple of 8); out > 192 crosses
        // column blocks and ends in a partial 16-wide sliver; rows not a multiple of 6; a large enough
        // problem for both pool threads to take columns. Every path, and the same bits on every path.
        var scratch = LinearScratch()
        for (out, inF, m) in [(401, 520, 13), (200, 300, 6), (16, 8, 7), (3, 1, 9), (257, 777, 31)] {
            for dtype in [WeightDType.float16, .bfloat16, .float32] {
                let w = makeWeights(dtype, out: out, inF: inF, seed: UInt64(out + inF))
                let x = randoms(m * inF, seed: UInt64(m * 7 + out))
                let bias = randoms(out, seed: 99)
                let ref = reference(x: x, m: m, inF: inF, w: w.exact, out: out, bias: bias, roundX: false)
                for path in pathsHere {
                    for threads in [1, 2] {
                        check(dtype: dtype, weights: w, out: out, inF: inF, m: m, bias: bias,
                              config: LinearConfig(path: path, threads: threads, streamingMaxRows: 0, prefill: .packed),
                              scratch: &scratch, label: "packed \(dtype) \(m)x\(inF)x\(out) \(path) t=\(threads)", ref: ref, x: x)
                    }
                }
            }
        }
    }

    func testReducedPrecisionRoundsActivationsToBFloat16() {
        // y = bf16(x)·Wᵀ with float32 sums, on the streaming and the panel path.
        let out = 53, inF = 333
        var scratch = LinearScratch()
        let bias = randoms(out, seed: 8)
        for dtype in [WeightDType.bfloat16, .float16, .float32] {
            let w = makeWeights(dtype, out: out, inF: inF, seed: 21)
            for m in [1, 3, 6, 17] {
                let x = randoms(m * inF, seed: UInt64(m + 70))
                let ref = reference(x: x, m: m, inF: inF, w: w.exact, out: out, bias: bias, roundX: true)
                for path in pathsHere {
                    for streamingMax in [64, 0] {
                        for prefill in PrefillKernel.allCases where streamingMax == 0 || prefill == .packed {
                            let config = LinearConfig(path: path, threads: 2, precision: .bfloat16Activations,
                                                      streamingMaxRows: streamingMax, panelRows: 16, prefill: prefill)
                            check(dtype: dtype, weights: w, out: out, inF: inF, m: m, bias: bias, config: config,
                                  scratch: &scratch,
                                  label: "bf16-act \(dtype) \(path) m=\(m) stream<=\(streamingMax) \(prefill)",
                                  ref: ref, x: x)
                        }
                    }
                }
                // The reduced mode must actually differ from float32 activations somewhere,
                // otherwise this test would not notice it being ignored.
                let exactRef = reference(x: x, m: m, inF: inF, w: w.exact, out: out, bias: bias, roundX: false)
                XCTAssertNotEqual(ref.y, exactRef.y)
            }
        }
    }

    func testEmptyInnerDimensionYieldsBias() {
        var scratch = LinearScratch()
        var x = [Float](repeating: 0, count: 1), y = [Float](repeating: 9, count: 6)
        let bias: [Float] = [1, 2, 3]
        let w: [UInt16] = [0]
        for streamingMax in [64, 0] {
            x.withUnsafeMutableBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    linear(MatrixView(base: xp.baseAddress!, rows: 2, cols: 0, rowStride: 1), weight: w, dtype: .float16,
                           outFeatures: 3, inFeatures: 0, bias: bias,
                           into: MatrixView(base: yp.baseAddress!, rows: 2, cols: 3), scratch: &scratch,
                           config: LinearConfig(streamingMaxRows: streamingMax))
                }
            }
            XCTAssertEqual(y, [1, 2, 3, 1, 2, 3])
        }
    }

    // MARK: dispatch and the environment override

    func testKernelPathSelection() throws {
        XCTAssertEqual(try KernelPath.resolve(environmentValue: nil), KernelPath.best)
        XCTAssertEqual(try KernelPath.resolve(environmentValue: " "), KernelPath.best)
        XCTAssertEqual(try KernelPath.resolve(environmentValue: "portable"), .portable)
        XCTAssertThrowsError(try KernelPath.resolve(environmentValue: "sse9")) { error in
            XCTAssertEqual(error as? KernelSelectionError, .unknownPath("sse9"))
        }
        for path in KernelPath.allCases {
            if path.isSupported {
                XCTAssertEqual(try KernelPath.resolve(environmentValue: path.rawValue.uppercased()), path)
                XCTAssertEqual(path.effective, path)
            } else {
                XCTAssertThrowsError(try KernelPath.resolve(environmentValue: path.rawValue)) { error in
                    guard case .unsupportedPath(let p, _)? = error as? KernelSelectionError else {
                        return XCTFail("expected unsupportedPath, got \(error)")
                    }
                    XCTAssertEqual(p, path)
                }
                XCTAssertLessThan(path.effective, path, "an unsupported request must run a lower path")
                XCTAssertTrue(path.effective.isSupported)
            }
        }
        // The detected features and the paths must agree.
        XCTAssertEqual(KernelPath.avx2.isSupported, CPUFeatures.avx2 && CPUFeatures.f16c)
        XCTAssertEqual(KernelPath.avx512bf16.isSupported, CPUFeatures.avx512bf16 && CPUFeatures.avx512f)
        XCTAssertTrue(KernelPath.best.isSupported)
        XCTAssertEqual(KernelPath.best, KernelPath.supported.last)
    }

    func testConfigFromEnvironment() throws {
        let c = try LinearConfig.fromEnvironment(["VISPRUNER_KERNELS": "portable", "VISPRUNER_KERNEL_THREADS": "3"])
        XCTAssertEqual(c.path, .portable)
        XCTAssertEqual(c.threads, 3)
        let d = try LinearConfig.fromEnvironment([:])
        XCTAssertEqual(d.path, KernelPath.best)
        XCTAssertEqual(d.threads, LinearConfig.availableCores)
        XCTAssertGreaterThanOrEqual(LinearConfig.availableCores, 1)
        for bad in ["0", "x", "65", "-1"] {
            XCTAssertThrowsError(try LinearConfig.fromEnvironment(["VISPRUNER_KERNEL_THREADS": bad]))
        }
        XCTAssertEqual(d.prefill, .packed)
        XCTAssertEqual(try LinearConfig.fromEnvironment(["VISPRUNER_PREFILL": "OpenBLAS"]).prefill, .openblas)
        XCTAssertThrowsError(try LinearConfig.fromEnvironment(["VISPRUNER_PREFILL": "mkl"])) { error in
            XCTAssertEqual(error as? KernelSelectionError, .unknownPrefill("mkl"))
        }
        // Our kernels exist on every path (the portable one is the definition).
        XCTAssertEqual(PrefillKernel.packed.effective(path: .portable), .packed)
        if !KernelPath.avx512bf16.isSupported {
            XCTAssertThrowsError(try LinearConfig.fromEnvironment(["VISPRUNER_KERNELS": "avx512bf16"]))
        }
    }

    // MARK: thread pool

    func testPoolRunsEveryPartExactlyOnceWithChangingThreadCounts() {
        // Alternating part counts is where a worker could pair one job's count with another's work.
        let slots = 8
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: slots)
        defer { counts.deallocate() }
        let pattern = [2, 4, 1, 3, 2, 8, 2, 1]
        for round in 0..<400 {
            let n = pattern[round % pattern.count]
            counts.initialize(repeating: 0, count: slots)
            let used = ck_pool_run(Int32(n), { ctx, part, _ in
                ctx!.assumingMemoryBound(to: Int.self)[part] += 1
            }, counts)
            XCTAssertEqual(Int(used), n)
            for i in 0..<n where counts[i] != 1 {
                XCTFail("round \(round): part \(i) of \(n) ran \(counts[i]) times")
                return
            }
            for i in n..<slots where counts[i] != 0 {
                XCTFail("round \(round): part \(i) ran although only \(n) were requested")
                return
            }
        }
    }
}
