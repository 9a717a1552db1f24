import Tensor

/// Validated selector input: shapes agree, values finite, budget positive.
struct SelectionInput {
    let n: Int
    let d: Int
    /// Head-averaged [CLS] attention per patch (float32, summed head by head as the reference does).
    let attention: [Float]

    init(features: Tensor, attention: Tensor, tokens: Int, ratio: Double) throws {
        guard features.rank == 2 else { throw PruningError("features must be [N, D], got shape \(features.shape)") }
        n = features.shape[0]
        d = features.shape[1]
        guard n > 0, d > 0 else { throw PruningError("features are empty (shape \(features.shape))") }
        guard tokens > 0 else { throw PruningError("the token budget must be positive, got \(tokens)") }
        guard ratio >= 0, ratio <= 1 else { throw PruningError("the important ratio must be in [0, 1], got \(ratio)") }
        if let bad = features.data.firstIndex(where: { !$0.isFinite }) {
            throw PruningError("features contain a non-finite value (\(features.data[bad])) at patch \(bad / d)")
        }
        switch attention.rank {
        case 1:
            guard attention.shape[0] == n else {
                throw PruningError("attention has \(attention.shape[0]) patches but features have \(n)")
            }
            self.attention = attention.data
        case 2:
            let h = attention.shape[0]
            guard attention.shape[1] == n, h > 0 else {
                throw PruningError("attention must be [H, \(n)] to match the features, got \(attention.shape)")
            }
            var mean = [Float](repeating: 0, count: n)
            for head in 0..<h {
                for i in 0..<n { mean[i] += attention.data[head * n + i] }
            }
            for i in 0..<n { mean[i] /= Float(h) }
            self.attention = mean
        default:
            throw PruningError("attention must be [H, N] or [N], got shape \(attention.shape)")
        }
        if let bad = self.attention.firstIndex(where: { !$0.isFinite }) {
            throw PruningError("attention contains a non-finite value at patch \(bad)")
        }
    }

    /// Patch indices by attention, highest first, equal values ordered as the reference orders them.
    func byAttentionDescending() -> [Int] { ReferenceSort.argsortDescending(attention) }
}

/// Cosine similarities between the given patches (rows of `features`), in the reference's float32
/// rounding: rows divided by their norm, then the Gram matrix (see `ReferenceArithmetic`).
///
/// The ranking compares near-equal similarities, so only the reference's own arithmetic reproduces
/// its selections everywhere; doubles (or another summation order) flip a few percent of the
/// recorded end-to-end selections.
func cosineGram(_ features: Tensor, rows: [Int]) -> [Float] {
    let d = features.shape[1], m = rows.count
    var unit = [Float](repeating: 0, count: m * d)
    features.data.withUnsafeBufferPointer { src in
        unit.withUnsafeMutableBufferPointer { dst in
            for (k, r) in rows.enumerated() {
                let x = src.baseAddress! + r * d, y = dst.baseAddress! + k * d
                let norm = ReferenceArithmetic.norm(x, count: d)
                // An all-zero feature (the reference would produce NaN) is similar to nothing.
                for i in 0..<d { y[i] = norm > 0 ? x[i] / norm : 0 }
            }
        }
    }
    return unit.withUnsafeBufferPointer { ReferenceArithmetic.gram($0.baseAddress!, rows: m, cols: d) }
}
