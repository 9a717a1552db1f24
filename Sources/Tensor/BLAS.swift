import CBLAS

/// Whether an operand enters a product as stored or transposed.
public enum Transpose: Sendable {
    case none, transposed
    var cblas: CBLAS_TRANSPOSE { self == .none ? CblasNoTrans : CblasTrans }
}

/// C ← alpha · op(A) · op(B) + beta · C through OpenBLAS `cblas_sgemm` (row-major).
///
/// Views carry their own leading dimension, so strided sub-matrices multiply in place.
public func sgemm(_ a: MatrixView, _ transA: Transpose = .none,
                  _ b: MatrixView, _ transB: Transpose = .none,
                  into c: MatrixView, alpha: Float = 1, beta: Float = 0) {
    let (m, k) = transA == .none ? (a.rows, a.cols) : (a.cols, a.rows)
    let (kb, n) = transB == .none ? (b.rows, b.cols) : (b.cols, b.rows)
    precondition(k == kb, "sgemm inner dimensions differ: \(k) vs \(kb)")
    precondition(c.rows == m && c.cols == n, "sgemm output is \(c.rows)x\(c.cols), expected \(m)x\(n)")
    if m == 0 || n == 0 { return }
    if k == 0 {
        // BLAS leaves C untouched when k == 0 only if beta == 1; make the semantics explicit.
        for r in 0..<m { for col in 0..<n { c[r, col] = beta == 0 ? 0 : beta * c[r, col] } }
        return
    }
    cblas_sgemm(CblasRowMajor, transA.cblas, transB.cblas,
                Int32(m), Int32(n), Int32(k), alpha,
                a.base, Int32(a.rowStride), b.base, Int32(b.rowStride),
                beta, c.base, Int32(c.rowStride))
}

/// Matrix product of two tensors seen as matrices (see `Tensor.matrixShape`).
public func matmul(_ a: Tensor, _ transA: Transpose = .none, _ b: Tensor, _ transB: Transpose = .none) -> Tensor {
    var a = a, b = b
    let m = transA == .none ? a.matrixShape.rows : a.matrixShape.cols
    let n = transB == .none ? b.matrixShape.cols : b.matrixShape.rows
    var c = Tensor(zeros: [m, n])
    a.withMatrixView { av in
        b.withMatrixView { bv in
            c.withMatrixView { cv in sgemm(av, transA, bv, transB, into: cv) }
        }
    }
    return c
}

/// Threads OpenBLAS uses for one call (it defaults to all cores).
public enum BLASThreads {
    public static var count: Int { Int(openblas_get_num_threads()) }
    public static func set(_ n: Int) { openblas_set_num_threads(Int32(max(1, n))) }
}

/// C ← alpha · op(A) · op(B) + beta · C, with transposes given by label (the common call form).
public func sgemm(_ a: MatrixView, _ b: MatrixView, into c: MatrixView,
                  transA: Transpose = .none, transB: Transpose = .none,
                  alpha: Float = 1, beta: Float = 0) {
    sgemm(a, transA, b, transB, into: c, alpha: alpha, beta: beta)
}

/// Matrix product with transposes given by label.
public func matmul(_ a: Tensor, _ b: Tensor, transA: Transpose = .none, transB: Transpose = .none) -> Tensor {
    matmul(a, transA, b, transB)
}
