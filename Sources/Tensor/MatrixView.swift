/// A strided 2-D window onto float32 memory: `rows` × `cols`, consecutive rows `rowStride` apart.
///
/// This is the shape BLAS understands (leading dimension = `rowStride`), so sub-matrices, column
/// blocks and per-head slices of a larger buffer can be multiplied without copying.
public struct MatrixView {
    public let base: UnsafeMutablePointer<Float>
    public let rows: Int
    public let cols: Int
    public let rowStride: Int

    public init(base: UnsafeMutablePointer<Float>, rows: Int, cols: Int, rowStride: Int? = nil) {
        let ld = rowStride ?? max(cols, 1)
        precondition(rows >= 0 && cols >= 0 && ld >= max(cols, 1), "bad view \(rows)x\(cols) stride \(ld)")
        self.base = base
        self.rows = rows
        self.cols = cols
        self.rowStride = ld
    }

    @inline(__always)
    public subscript(r: Int, c: Int) -> Float {
        get { base[r * rowStride + c] }
        nonmutating set { base[r * rowStride + c] = newValue }
    }

    /// Rows `r` ..< `r + n`, all columns.
    public func rowBlock(_ r: Int, _ n: Int) -> MatrixView {
        precondition(r >= 0 && n >= 0 && r + n <= rows)
        return MatrixView(base: base + r * rowStride, rows: n, cols: cols, rowStride: rowStride)
    }

    /// Columns `c` ..< `c + n`, all rows (keeps the parent's stride).
    public func columnBlock(_ c: Int, _ n: Int) -> MatrixView {
        precondition(c >= 0 && n >= 0 && c + n <= cols)
        return MatrixView(base: base + c, rows: rows, cols: n, rowStride: rowStride)
    }

    /// Copies the view into a contiguous tensor of shape [rows, cols].
    public func toTensor() -> Tensor {
        var out = [Float](repeating: 0, count: rows * cols)
        for r in 0..<rows {
            for c in 0..<cols { out[r * cols + c] = base[r * rowStride + c] }
        }
        return Tensor(shape: [rows, cols], data: out)
    }
}

extension Tensor {
    /// The 2-D interpretation used for BLAS: rank 0 → 1×1, rank 1 → 1×n, rank ≥ 2 → [shape[0], rest].
    public var matrixShape: (rows: Int, cols: Int) {
        switch rank {
        case 0: return (1, 1)
        case 1: return (1, shape[0])
        default: return (shape[0], shape.dropFirst().reduce(1, *))
        }
    }

    /// Runs `body` with a 2-D view of this tensor's storage (see `matrixShape`).
    public mutating func withMatrixView<R>(_ body: (MatrixView) throws -> R) rethrows -> R {
        let (r, c) = matrixShape
        return try data.withUnsafeMutableBufferPointer { buf in
            try body(MatrixView(base: buf.baseAddress!, rows: r, cols: c))
        }
    }
}
