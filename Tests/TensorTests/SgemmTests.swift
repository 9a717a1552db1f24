import XCTest
@testable import Tensor

final class SgemmTests: XCTestCase {
    /// Deterministic pseudo-random values so failures reproduce.
    func values(_ n: Int, seed: UInt64) -> [Float] {
        var s = seed &* 0x9E3779B97F4A7C15 | 1
        return (0..<n).map { _ in
            s ^= s << 13; s ^= s >> 7; s ^= s << 17
            return Float(Int(s % 2001) - 1000) / 500
        }
    }

    /// Naive triple loop over strided views: the reference sgemm is checked against.
    func naive(_ a: MatrixView, _ ta: Transpose, _ b: MatrixView, _ tb: Transpose, m: Int, n: Int, k: Int) -> [Float] {
        var out = [Float](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var acc: Double = 0
                for p in 0..<k {
                    let x = ta == .none ? a[i, p] : a[p, i]
                    let y = tb == .none ? b[p, j] : b[j, p]
                    acc += Double(x) * Double(y)
                }
                out[i * n + j] = Float(acc)
            }
        }
        return out
    }

    func testAllTransposeCombinationsMatchNaive() {
        let (m, n, k) = (7, 5, 9)
        for ta in [Transpose.none, .transposed] {
            for tb in [Transpose.none, .transposed] {
                var aData = values(m * k, seed: 1)
                var bData = values(k * n, seed: 2)
                var cData = [Float](repeating: 0, count: m * n)
                aData.withUnsafeMutableBufferPointer { ap in
                    bData.withUnsafeMutableBufferPointer { bp in
                        cData.withUnsafeMutableBufferPointer { cp in
                            let a = ta == .none ? MatrixView(base: ap.baseAddress!, rows: m, cols: k)
                                                : MatrixView(base: ap.baseAddress!, rows: k, cols: m)
                            let b = tb == .none ? MatrixView(base: bp.baseAddress!, rows: k, cols: n)
                                                : MatrixView(base: bp.baseAddress!, rows: n, cols: k)
                            let c = MatrixView(base: cp.baseAddress!, rows: m, cols: n)
                            sgemm(a, ta, b, tb, into: c)
                            let expected = naive(a, ta, b, tb, m: m, n: n, k: k)
                            for i in 0..<(m * n) {
                                XCTAssertEqual(cp[i], expected[i], accuracy: 1e-4, "ta=\(ta) tb=\(tb) at \(i)")
                            }
                        }
                    }
                }
            }
        }
    }

    func testStridedSubmatricesAndAccumulation() {
        // A is a 4x3 block inside a 6x8 buffer; B a 3x2 column block of a 5x6 buffer; C a block of a 4x5 buffer.
        var big = values(6 * 8, seed: 3)
        var bBig = values(5 * 6, seed: 4)
        var cBig = values(4 * 5, seed: 5)
        let cBefore = cBig
        big.withUnsafeMutableBufferPointer { ap in
            bBig.withUnsafeMutableBufferPointer { bp in
                cBig.withUnsafeMutableBufferPointer { cp in
                    let parentA = MatrixView(base: ap.baseAddress!, rows: 6, cols: 8)
                    let a = parentA.rowBlock(1, 4).columnBlock(2, 3)
                    let b = MatrixView(base: bp.baseAddress!, rows: 5, cols: 6).rowBlock(2, 3).columnBlock(3, 2)
                    let c = MatrixView(base: cp.baseAddress!, rows: 4, cols: 5).columnBlock(1, 2)
                    sgemm(a, b, into: c, alpha: 2, beta: 0.5)
                    let prod = naive(a, .none, b, .none, m: 4, n: 2, k: 3)
                    for i in 0..<4 {
                        for j in 0..<5 {
                            let got = cp[i * 5 + j]
                            if j == 1 || j == 2 {
                                let want = 2 * prod[i * 2 + (j - 1)] + 0.5 * cBefore[i * 5 + j]
                                XCTAssertEqual(got, want, accuracy: 1e-4)
                            } else {
                                XCTAssertEqual(got, cBefore[i * 5 + j], "elements outside the view must be untouched")
                            }
                        }
                    }
                }
            }
        }
    }

    func testMatmulOnTensorsAndEmptyInner() {
        let a = Tensor(shape: [2, 3], data: [1, 2, 3, 4, 5, 6])
        let b = Tensor(shape: [3, 2], data: [7, 8, 9, 10, 11, 12])
        XCTAssertEqual(matmul(a, b).data, [58, 64, 139, 154])
        XCTAssertEqual(matmul(a, a, transB: .transposed).data, [14, 32, 32, 77])
        let e = matmul(Tensor(zeros: [2, 0]), Tensor(zeros: [0, 3]))
        XCTAssertEqual(e.shape, [2, 3])
        XCTAssertEqual(e.data, [0, 0, 0, 0, 0, 0])
    }

    func testTensorBasics() {
        var t = Tensor(shape: [2, 3], data: [0, 1, 2, 3, 4, 5])
        XCTAssertEqual(t[1, 2], 5)
        t[0, 1] = 9
        XCTAssertEqual(t.data[1], 9)
        XCTAssertEqual(t.strides, [3, 1])
        XCTAssertEqual(t.reshaped([3, -1]).shape, [3, 2])
        XCTAssertEqual(t.rows(1..<2).data, [3, 4, 5])
    }
}
