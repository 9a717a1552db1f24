import XCTest
import Foundation
import CKernels
@testable import Tensor

final class KernelTests: XCTestCase {
    func randoms(_ n: Int, seed: UInt64, scale: Float = 3) -> [Float] {
        var s = seed &* 0x9E3779B97F4A7C15 | 1
        return (0..<n).map { _ in
            s ^= s << 13; s ^= s >> 7; s ^= s << 17
            return (Float(s % 100_000) / 50_000 - 1) * scale
        }
    }

    func testExpIsAccurate() {
        for x in stride(from: Float(-80), through: 80, by: 0.37) {
            let want = Float(Foundation.exp(Double(x)))
            XCTAssertEqual(Kernels.exp(x), want, accuracy: want * 3e-7, "x=\(x)")
        }
        XCTAssertEqual(Kernels.exp(-200), 0)
        XCTAssertEqual(Kernels.exp(-.infinity), 0)
    }

    func testNormsMatchDoublePrecisionReference() {
        let rows = 3, n = 37
        let x = randoms(rows * n, seed: 1), w = randoms(n, seed: 2), b = randoms(n, seed: 3)
        var y = [Float](repeating: 0, count: rows * n)
        Kernels.rmsNorm(x, weight: w, into: &y, rows: rows, n: n, eps: 1e-5)
        for r in 0..<rows {
            let ms = (0..<n).map { Double(x[r * n + $0]) * Double(x[r * n + $0]) }.reduce(0, +) / Double(n)
            for i in 0..<n {
                XCTAssertEqual(y[r * n + i], Float(Double(w[i]) * Double(x[r * n + i]) / (ms + 1e-5).squareRoot()), accuracy: 1e-5)
            }
        }
        Kernels.layerNorm(x, gamma: w, beta: b, into: &y, rows: rows, n: n, eps: 1e-5)
        for r in 0..<rows {
            let xs = (0..<n).map { Double(x[r * n + $0]) }
            let mean = xs.reduce(0, +) / Double(n)
            let v = xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)
            for i in 0..<n {
                XCTAssertEqual(y[r * n + i], Float((xs[i] - mean) / (v + 1e-5).squareRoot() * Double(w[i]) + Double(b[i])), accuracy: 1e-5)
            }
        }
    }

    func testActivationsAndSoftmax() {
        let n = 101
        let g = randoms(n, seed: 4, scale: 10), u = randoms(n, seed: 5)
        var out = [Float](repeating: 0, count: n)
        Kernels.siluMul(gate: g, up: u, into: &out, count: n)
        for i in 0..<n {
            let gd = Double(g[i])
            XCTAssertEqual(out[i], Float(gd / (1 + Foundation.exp(-gd)) * Double(u[i])), accuracy: 1e-5)
        }
        var q = g
        Kernels.quickGELU(&q, count: n)
        for i in 0..<n { XCTAssertEqual(q[i], Float(Double(g[i]) / (1 + Foundation.exp(-1.702 * Double(g[i])))), accuracy: 1e-5) }
        var e = g
        Kernels.gelu(&e, count: n)
        for i in 0..<n { XCTAssertEqual(e[i], Float(0.5 * Double(g[i]) * (1 + erf(Double(g[i]) / 2.0.squareRoot()))), accuracy: 1e-5) }
        var s = g
        Kernels.softmax(&s, rows: 1, n: n)
        let m = g.map(Double.init).max()!
        let z = g.map { Foundation.exp(Double($0) - m) }.reduce(0, +)
        for i in 0..<n { XCTAssertEqual(s[i], Float(Foundation.exp(Double(g[i]) - m) / z), accuracy: 1e-6) }
        var masked: [Float] = [1, -.infinity, 2]
        Kernels.softmax(&masked, rows: 1, n: 3)
        XCTAssertEqual(masked[1], 0)
    }

    func testErfIsAccurate() {
        // Within 1 ulp of the double-precision erf (scripts/numerics_erf_fit.py measures 0.91 ulp exhaustively
        // against mpmath on 300k points; here against Foundation's erf).
        for x in stride(from: Float(-5), through: 5, by: 0.0013) {
            let want = Float(Foundation.erf(Double(x)))
            XCTAssertLessThanOrEqual(abs(Kernels.erf(x) - want), want.ulp * 1.5, "x=\(x)")
        }
        XCTAssertEqual(Kernels.erf(0), 0)
        XCTAssertEqual(Kernels.erf(10), 1)
        XCTAssertEqual(Kernels.erf(-10), -1)
    }

    func testRopeTablesAndRotation() {
        // inv_freq = 1 / theta^(2i/d) and cos/sin of float(position) * inv_freq, each within half an ulp
        // or so of the double-precision values (own pow, sin, cos).
        let hd = 8, half = 4, positions = [0, 2, 5, 4095, 30000]
        let inv = Kernels.ropeInverseFrequencies(theta: 10000, headDim: hd)
        for i in 0..<half {
            let want = Float(1.0 / Foundation.pow(10000.0, Double(Float(2 * i) / Float(hd))))
            XCTAssertLessThanOrEqual(abs(inv[i] - want), want.ulp, "inv_freq[\(i)]")
        }
        var c = [Float](repeating: 0, count: positions.count * half), s = c
        inv.withUnsafeBufferPointer { Kernels.ropeTables(positions: positions, invFreq: $0.baseAddress!, half: half, cos: &c, sin: &s) }
        for (r, p) in positions.enumerated() {
            for i in 0..<half {
                let angle = Double(Float(p) * inv[i])
                XCTAssertEqual(c[r * half + i], Float(Foundation.cos(angle)), "cos \(p) \(i)")
                XCTAssertEqual(s[r * half + i], Float(Foundation.sin(angle)), "sin \(p) \(i)")
            }
        }
        for x in stride(from: -40.0, through: 40.0, by: 0.37) {
            XCTAssertEqual(ck_dsin(x), Foundation.sin(x), accuracy: 2e-16 * max(1, abs(x)))
            XCTAssertEqual(ck_dcos(x), Foundation.cos(x), accuracy: 2e-16 * max(1, abs(x)))
        }
        for x in stride(from: 0.01, through: 500.0, by: 0.77) {
            XCTAssertEqual(ck_dlog(x), Foundation.log(x), accuracy: 4e-16 * max(1, abs(Foundation.log(x))))
            XCTAssertEqual(ck_dexp(x / 100), Foundation.exp(x / 100), accuracy: 4e-16 * Foundation.exp(x / 100))
        }
        // The rotation itself: position 2, two heads of dim 4 (pairs i, i + 2).
        let c2 = Array(c[(1 * half)..<(1 * half + 2)]), s2 = Array(s[(1 * half)..<(1 * half + 2)])
        var x: [Float] = [1, 2, 3, 4, 5, 6, 7, 8]
        Kernels.rope(&x, rows: 1, heads: 2, headDim: 4, rowStride: 8, cos: c2, sin: s2)
        XCTAssertEqual(x[0], 1 * c2[0] - 3 * s2[0])
        XCTAssertEqual(x[2], 3 * c2[0] + 1 * s2[0])
        XCTAssertEqual(x[5], 6 * c2[1] - 8 * s2[1])
        XCTAssertEqual(x[7], 8 * c2[1] + 6 * s2[1])
    }

    /// The decoder's causal attention (`ck_causal_attention`, the production kernel) equals the naive
    /// formula in double precision, over several key segments, with a query offset, on every path.
    func testCausalAttentionMatchesNaive() {
        let d = 12, kvs = 2 * d
        defer { KernelPath.setActive(LinearConfig.default.path) }
        for path in KernelPath.supported {
            KernelPath.setActive(path)
            for (rows, pos0) in [(11, 0), (3, 8), (1, 20)] {
                let total = pos0 + rows
                let q = randoms(rows * d, seed: 6), k = randoms(total * kvs, seed: 7), v = randoms(total * kvs, seed: 8)
                let cut = total / 2
                var out = [Float](repeating: .nan, count: rows * d)
                var scratch = [Float](repeating: 0, count: ck_causal_attention_scratch(rows, pos0, d))
                k.withUnsafeBufferPointer { kp in
                    v.withUnsafeBufferPointer { vp in
                        let segs = [ck_kv_segment(k: kp.baseAddress! + d, v: vp.baseAddress!, len: cut),
                                    ck_kv_segment(k: kp.baseAddress! + cut * kvs + d, v: vp.baseAddress! + cut * kvs, len: total - cut)]
                        ck_causal_attention(q, d, rows, pos0, segs, 2, kvs, d, 1 / Float(d).squareRoot(), &scratch, &out, d)
                    }
                }
                for i in 0..<rows {
                    let last = pos0 + i
                    var scores: [Double] = (0...last).map { j in
                        (0..<d).map { c in Double(q[i * d + c]) * Double(k[j * kvs + d + c]) }.reduce(0, +) / Double(d).squareRoot()
                    }
                    let m = scores.max()!
                    scores = scores.map { Foundation.exp($0 - m) }
                    let z = scores.reduce(0, +)
                    for c in 0..<d {
                        var want = 0.0
                        for j in 0...last { want += scores[j] / z * Double(v[j * kvs + c]) }
                        XCTAssertEqual(out[i * d + c], Float(want), accuracy: 1e-5, "\(path) rows=\(rows) i=\(i)")
                    }
                }
            }
        }
    }

    /// The tower's attention products (`Kernels.matmul`) equal double-precision products.
    func testMatmulMatchesNaive() {
        defer { KernelPath.setActive(LinearConfig.default.path) }
        let (m, k, n) = (13, 70, 19)
        let a = randoms(m * k, seed: 9), bt = randoms(n * k, seed: 10)
        for path in KernelPath.supported {
            KernelPath.setActive(path)
            for transposedB in [true, false] {
                // B as [n, k] (transposedB) or its transpose [k, n].
                var b = transposedB ? bt : (0..<(k * n)).map { i in bt[(i % n) * k + i / n] }
                var av = a
                var c = [Float](repeating: .nan, count: m * n)
                var scratch = [Float](repeating: 0, count: Kernels.matmulScratchFloats(rows: m, inner: k, threads: 2))
                av.withUnsafeMutableBufferPointer { ap in b.withUnsafeMutableBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
                    Kernels.matmul(MatrixView(base: ap.baseAddress!, rows: m, cols: k),
                                   MatrixView(base: bp.baseAddress!, rows: transposedB ? n : k, cols: transposedB ? k : n),
                                   transposedB: transposedB, into: MatrixView(base: cp.baseAddress!, rows: m, cols: n),
                                   scratch: &scratch, threads: 2)
                } } }
                for r in 0..<m {
                    for o in 0..<n {
                        let want = (0..<k).map { Double(a[r * k + $0]) * Double(bt[o * k + $0]) }.reduce(0, +)
                        XCTAssertEqual(Double(c[r * n + o]), want, accuracy: 1e-4, "\(path) transposedB=\(transposedB)")
                    }
                }
            }
        }
    }
}
