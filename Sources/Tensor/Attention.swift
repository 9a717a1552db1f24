/// Multi-head scaled-dot-product attention over token-major buffers, computed a block of query
/// rows at a time so the score matrix never exceeds `blockRows × keyCount` floats.
///
/// Layout: row t of `q` holds all heads of token t (head h at columns h·d ..< (h+1)·d); `k`/`v` hold
/// `kvHeads` heads the same way (grouped-query attention when kvHeads < heads). With `causal`, query
/// row i (absolute position `queryOffset + i`) sees keys 0...queryOffset + i.
public struct AttentionScratch {
    var buffer: [Float] = []
    public init() {}
}

public enum Attention {
    public static func forward(q: MatrixView, k: MatrixView, v: MatrixView, out: MatrixView,
                               heads: Int, kvHeads: Int, headDim d: Int,
                               causal: Bool, queryOffset: Int = 0,
                               scratch: inout AttentionScratch, blockRows: Int = 64,
                               probabilities: ((_ head: Int, _ row: Int, _ p: UnsafePointer<Float>) -> Void)? = nil) {
        let nq = q.rows, nk = k.rows
        precondition(heads % kvHeads == 0, "heads must be a multiple of kvHeads")
        precondition(q.cols >= heads * d && out.cols >= heads * d && k.cols >= kvHeads * d && v.cols >= kvHeads * d)
        precondition(v.rows == nk && out.rows == nq)
        let group = heads / kvHeads
        let block = max(1, min(blockRows, nq))
        if scratch.buffer.count < block * nk { scratch.buffer = [Float](repeating: 0, count: block * nk) }
        let scale = 1 / Float(d).squareRoot()
        scratch.buffer.withUnsafeMutableBufferPointer { sbuf in
            let s = sbuf.baseAddress!
            for h in 0..<heads {
                let kh = h / group
                let qh = q.columnBlock(h * d, d), khv = k.columnBlock(kh * d, d), vh = v.columnBlock(kh * d, d)
                let oh = out.columnBlock(h * d, d)
                var r0 = 0
                while r0 < nq {
                    let rows = min(block, nq - r0)
                    // Keys beyond the last visible position of this block are never needed.
                    let visible = causal ? min(nk, queryOffset + r0 + rows) : nk
                    let scores = MatrixView(base: s, rows: rows, cols: visible, rowStride: visible)
                    sgemm(qh.rowBlock(r0, rows), khv.rowBlock(0, visible), into: scores, transB: .transposed, alpha: scale)
                    for i in 0..<rows {
                        let row = s + i * visible
                        let lastVisible = causal ? min(visible, queryOffset + r0 + i + 1) : visible
                        for j in lastVisible..<visible { row[j] = -Float.infinity }
                        Kernels.softmax(row, rows: 1, n: visible)
                        probabilities?(h, r0 + i, UnsafePointer(row))
                    }
                    sgemm(scores, vh.rowBlock(0, visible), into: oh.rowBlock(r0, rows))
                    r0 += rows
                }
            }
        }
    }
}
