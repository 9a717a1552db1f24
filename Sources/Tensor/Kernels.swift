import CKernels
import Foundation

/// Vectorised float32 kernels for the transformer's non-matrix work. Each dispatches at run time
/// between an AVX2+FMA build and a baseline build (see Sources/System/CKernels).
public enum Kernels {
    // Every row kernel takes `threads`: rows are split into contiguous blocks over the persistent
    // pool (see parallel_rows.c); results do not depend on the thread count.

    /// y[r] = w ⊙ x[r] / sqrt(mean(x[r]²) + eps) for each of `rows` rows of length `n` (LLaMA RMSNorm).
    public static func rmsNorm(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>,
                               rows: Int, n: Int, xStride: Int? = nil, yStride: Int? = nil, eps: Float, threads: Int = 1) {
        ck_rmsnorm_mt(x, weight, y, rows, n, xStride ?? n, yStride ?? n, eps, Int32(threads))
    }

    /// Biased LayerNorm over rows (CLIP).
    public static func layerNorm(_ x: UnsafePointer<Float>, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
                                 into y: UnsafeMutablePointer<Float>, rows: Int, n: Int,
                                 xStride: Int? = nil, yStride: Int? = nil, eps: Float, threads: Int = 1) {
        ck_layernorm_mt(x, gamma, beta, y, rows, n, xStride ?? n, yStride ?? n, eps, Int32(threads))
    }

    /// out = silu(gate) ⊙ up (LLaMA MLP); `out` may alias `gate` or `up`.
    public static func siluMul(gate: UnsafePointer<Float>, up: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int) {
        ck_silu_mul(gate, up, out, count)
    }

    /// gate ← silu(gate) ⊙ up, split over threads.
    public static func siluMul(_ gate: UnsafeMutablePointer<Float>, up: UnsafePointer<Float>, count: Int, threads: Int) {
        ck_silu_mul_mt(gate, up, count, Int32(threads))
    }

    /// x ← x · sigmoid(1.702 x) (CLIP's quick_gelu).
    public static func quickGELU(_ x: UnsafeMutablePointer<Float>, count: Int, threads: Int = 1) {
        ck_quick_gelu_mt(x, count, Int32(threads))
    }

    /// x ← x · Φ(x) with the exact erf form (torch.nn.GELU default, the projector's activation).
    public static func gelu(_ x: UnsafeMutablePointer<Float>, count: Int, threads: Int = 1) {
        ck_gelu_erf_mt(x, count, Int32(threads))
    }

    /// In-place softmax of `rows` rows of length `n`, `stride` elements apart.
    public static func softmax(_ x: UnsafeMutablePointer<Float>, rows: Int, n: Int, stride: Int? = nil, threads: Int = 1) {
        ck_softmax_mt(x, rows, n, stride ?? n, Int32(threads))
    }

    /// Causal softmax: row r, at position `start + r`, over its first `start + r + 1` entries; the
    /// later entries of the row are set to 0.
    public static func causalSoftmax(_ x: UnsafeMutablePointer<Float>, rows: Int, n: Int, stride: Int? = nil,
                                     start: Int, threads: Int = 1) {
        ck_softmax_causal_mt(x, rows, n, stride ?? n, start, Int32(threads))
    }

    /// y += x
    public static func add(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int, threads: Int = 1) {
        ck_add_mt(y, x, count, Int32(threads))
    }

    /// The vectorisable exp used by the kernels (exposed for tests).
    public static func exp(_ x: Float) -> Float { ck_exp(x) }

    /// Rotary position embedding (HF rotate_half convention) applied in place to `rows` tokens of
    /// `heads` heads × `headDim`; `cos`/`sin` hold [rows, headDim/2] for the tokens' positions.
    public static func rope(_ x: UnsafeMutablePointer<Float>, rows: Int, heads: Int, headDim: Int, rowStride: Int,
                            cos: UnsafePointer<Float>, sin: UnsafePointer<Float>) {
        ck_rope(x, rows, heads, headDim, rowStride, cos, sin)
    }

    /// Runs `body(part, parts)` for part in 0..<parts on the persistent pool (the caller runs part 0).
    /// Nested or concurrent calls run inline on the calling thread.
    public static func parallelFor(parts: Int, _ body: (Int, Int) -> Void) {
        if parts <= 1 { body(0, 1); return }
        withoutActuallyEscaping(body) { escaping in
            var task = escaping
            withUnsafeMutablePointer(to: &task) { pointer in
                _ = ck_pool_run(Int32(parts), { ctx, part, parts in
                    let f = ctx!.assumingMemoryBound(to: ((Int, Int) -> Void).self).pointee
                    f(Int(part), Int(parts))
                }, pointer)
            }
        }
    }
}

/// Precomputed RoPE angles for positions 0..<maxPositions, as HF Llama computes them
/// (inv_freq = 1 / theta^(2i/d) in float32, angle = position × inv_freq in float32).
public struct RotaryTable: Sendable {
    public let headDim: Int
    public let maxPositions: Int
    public let cos: [Float]
    public let sin: [Float]

    public init(headDim: Int, maxPositions: Int, theta: Double) {
        precondition(headDim % 2 == 0 && headDim > 0 && maxPositions > 0)
        let half = headDim / 2
        var invFreq = [Float](repeating: 0, count: half)
        for i in 0..<half {
            // torch: 1.0 / (base ** (torch.arange(0, dim, 2).float() / dim)) — exponent in float32.
            let expo = Float(2 * i) / Float(headDim)
            invFreq[i] = Float(1.0) / Float(Foundation.pow(Double(Float(theta)), Double(expo)))
        }
        var c = [Float](repeating: 0, count: maxPositions * half)
        var s = [Float](repeating: 0, count: maxPositions * half)
        for p in 0..<maxPositions {
            for i in 0..<half {
                let angle = Float(p) * invFreq[i]
                c[p * half + i] = Float(Foundation.cos(Double(angle)))
                s[p * half + i] = Float(Foundation.sin(Double(angle)))
            }
        }
        self.headDim = headDim
        self.maxPositions = maxPositions
        cos = c
        sin = s
    }
}

