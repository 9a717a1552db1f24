import Tensor

/// Order in which VisPruner's LLaVA-1.6 path feeds the visual tokens of an anyres image.
///
/// The reference strips `_unpad` from `mm_patch_merge_type`, so there is no unpadding and no
/// `image_newline`: the kept tokens of the base view come first (ascending patch index), then the
/// crops are merged spatially — the crop grid is read as one large patch grid in row-major order
/// (crop row, patch row, crop column, patch column) and the kept tokens are taken in that order.
public enum AnyresLayout {
    /// (view, patch index) pairs in feed order. View 0 is the base image, views 1... the crops in
    /// row-major grid order. `keptPerView[v]` lists the kept patch indices of view v.
    public static func feedOrder(keptPerView: [[Int]], gridRows: Int, gridCols: Int, patchesPerSide side: Int) throws -> [(view: Int, patch: Int)] {
        let crops = gridRows * gridCols
        guard gridRows > 0, gridCols > 0, keptPerView.count == 1 + crops else {
            throw ModelError("anyres layout: expected \(1 + crops) views (base + \(gridRows)×\(gridCols) crops), got \(keptPerView.count)")
        }
        let n = side * side
        let masks = try keptMasks(keptPerView, patches: n)
        var order: [(view: Int, patch: Int)] = []
        for k in 0..<n where masks[0][k] { order.append((0, k)) }
        for cy in 0..<gridRows {
            for y in 0..<side {
                for cx in 0..<gridCols {
                    let view = 1 + cy * gridCols + cx
                    for x in 0..<side where masks[view][y * side + x] { order.append((view, y * side + x)) }
                }
            }
        }
        return order
    }

    /// Per view, whether each of its `n` patches is kept (indices checked).
    static func keptMasks(_ keptPerView: [[Int]], patches n: Int) throws -> [[Bool]] {
        var masks = [[Bool]](repeating: [Bool](repeating: false, count: n), count: keptPerView.count)
        for (v, kept) in keptPerView.enumerated() {
            for k in kept {
                guard k >= 0 && k < n else { throw ModelError("anyres layout: view \(v) keeps index \(k) outside 0..<\(n)") }
                masks[v][k] = true
            }
        }
        return masks
    }

    /// Gathers the rows of per-view features ([N, D] each) in `feedOrder` order: [T, D].
    public static func gather(features: [Tensor], keptPerView: [[Int]], gridRows: Int, gridCols: Int) throws -> Tensor {
        guard let first = features.first, first.rank == 2 else { throw ModelError("anyres layout: no [N, D] features given") }
        let (n, d) = (first.shape[0], first.shape[1])
        guard features.allSatisfy({ $0.shape == [n, d] }) else { throw ModelError("anyres layout: views have different feature shapes") }
        let side = Int(Double(n).squareRoot())
        guard side * side == n else { throw ModelError("anyres layout: \(n) patches do not form a square grid") }
        let order = try feedOrder(keptPerView: keptPerView, gridRows: gridRows, gridCols: gridCols, patchesPerSide: side)
        guard features.count == keptPerView.count else {
            throw ModelError("anyres layout: \(features.count) feature views for \(keptPerView.count) kept lists")
        }
        var out = [Float](); out.reserveCapacity(order.count * d)
        for (v, p) in order { out += features[v].data[(p * d)..<((p + 1) * d)] }
        return Tensor(shape: [order.count, d], data: out)
    }
}
