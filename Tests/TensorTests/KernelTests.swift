import XCTest
import Foundation
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

    func testRopeRotatesHalves() {
        let table = RotaryTable(headDim: 4, maxPositions: 3, theta: 10000)
        // position 2, two heads of dim 4
        var x: [Float] = [1, 2, 3, 4, 5, 6, 7, 8]
        let half = 2
        let c = Array(table.cos[(2 * half)..<(3 * half)]), s = Array(table.sin[(2 * half)..<(3 * half)])
        XCTAssertEqual(c[0], Float(Foundation.cos(2.0)), accuracy: 1e-6)
        XCTAssertEqual(c[1], Float(Foundation.cos(2.0 / 100)), accuracy: 1e-6)
        Kernels.rope(&x, rows: 1, heads: 2, headDim: 4, rowStride: 8, cos: c, sin: s)
        XCTAssertEqual(x[0], 1 * c[0] - 3 * s[0], accuracy: 1e-6)
        XCTAssertEqual(x[2], 3 * c[0] + 1 * s[0], accuracy: 1e-6)
        XCTAssertEqual(x[5], 6 * c[1] - 8 * s[1], accuracy: 1e-6)
        XCTAssertEqual(x[7], 8 * c[1] + 6 * s[1], accuracy: 1e-6)
    }

    /// Blocked causal GQA attention equals the naive formula, including with a query offset (decode).
    func testAttentionMatchesNaive() {
        let heads = 4, kvHeads = 2, d = 8, nk = 11
        for (nq, offset, causal) in [(11, 0, true), (3, 8, true), (5, 0, false)] {
            var q = randoms(nq * heads * d, seed: 6), k = randoms(nk * kvHeads * d, seed: 7), v = randoms(nk * kvHeads * d, seed: 8)
            var out = [Float](repeating: 0, count: nq * heads * d)
            var scratch = AttentionScratch()
            q.withUnsafeMutableBufferPointer { qp in k.withUnsafeMutableBufferPointer { kp in v.withUnsafeMutableBufferPointer { vp in
                out.withUnsafeMutableBufferPointer { op in
                    Attention.forward(q: MatrixView(base: qp.baseAddress!, rows: nq, cols: heads * d),
                                      k: MatrixView(base: kp.baseAddress!, rows: nk, cols: kvHeads * d),
                                      v: MatrixView(base: vp.baseAddress!, rows: nk, cols: kvHeads * d),
                                      out: MatrixView(base: op.baseAddress!, rows: nq, cols: heads * d),
                                      heads: heads, kvHeads: kvHeads, headDim: d, causal: causal, queryOffset: offset,
                                      scratch: &scratch, blockRows: 2)
                } } } }
            for h in 0..<heads {
                let kh = h / (heads / kvHeads)
                for i in 0..<nq {
                    let last = causal ? offset + i : nk - 1
                    var scores: [Double] = []
                    for j in 0...last {
                        var dot = 0.0
                        for c in 0..<d {
                            let qa = Double(q[i * heads * d + h * d + c])
                            let kb = Double(k[j * kvHeads * d + kh * d + c])
                            dot += qa * kb
                        }
                        scores.append(dot / Double(d).squareRoot())
                    }
                    let m = scores.max()!
                    scores = scores.map { Foundation.exp($0 - m) }
                    let z = scores.reduce(0, +)
                    for c in 0..<d {
                        var want = 0.0
                        for j in 0...last { want += scores[j] / z * Double(v[j * kvHeads * d + kh * d + c]) }
                        XCTAssertEqual(out[i * heads * d + h * d + c], Float(want), accuracy: 1e-4, "nq=\(nq) h=\(h) i=\(i)")
                    }
                }
            }
        }
    }
}
