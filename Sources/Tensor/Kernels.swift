import CKernels

/// The engine's numerics: the version of the arithmetic every kernel follows (the summation orders and
/// elementary functions defined in Sources/System/CKernels/include/CKernels.h). Answers computed under
/// different versions must never be merged, resumed into each other or share cached features: put
/// `arithmetic(...)` into run keys and the feature-cache key.
public enum Numerics {
    /// Changes whenever any summation order or elementary function of the forward path changes.
    public static let version = "n2"

    /// The arithmetic a configuration runs: `version` when its results are the same on every machine,
    /// else `version` plus what makes them machine-dependent (the OpenBLAS opt-in, the AVX512_BF16 dot
    /// products of the bfloat16 mode).
    public static func arithmetic(prefill: PrefillKernel = LinearConfig.default.prefill,
                                  bfloat16: Bool = false, path: KernelPath = KernelPath.active) -> String {
        var tag = version
        if prefill == .openblas { tag += "+openblas" }
        if bfloat16 && path.effective == .avx512bf16 { tag += "+vdpbf16ps" }
        return tag
    }
}

/// Float32 kernels for the transformer's non-matrix work and the float32 products. Each dispatches
/// at run time on `KernelPath.active` between an AVX2+FMA build and a baseline build, with the same
/// bits on both (see Sources/System/CKernels/include/CKernels.h).
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

    /// y += x
    public static func add(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int, threads: Int = 1) {
        ck_add_mt(y, x, count, Int32(threads))
    }

    /// The exp used by the kernels (exposed for tests).
    public static func exp(_ x: Float) -> Float { ck_exp(x) }

    /// The erf used by GELU (exposed for tests).
    public static func erf(_ x: Float) -> Float { ck_erf(x) }

    /// RoPE inverse frequencies 1 / theta^(2i/headDim), i < headDim/2, as LlamaRotaryEmbedding forms them
    /// (our own pow; see CKernels.h).
    public static func ropeInverseFrequencies(theta: Float, headDim: Int) -> [Float] {
        var out = [Float](repeating: 0, count: headDim / 2)
        out.withUnsafeMutableBufferPointer { ck_rope_inv_freq(theta, headDim, $0.baseAddress!) }
        return out
    }

    /// cos/sin tables [positions.count, half] of the angles float(position) × invFreq[i] (our own sin/cos).
    public static func ropeTables(positions: [Int], invFreq: UnsafePointer<Float>, half: Int,
                                  cos: UnsafeMutablePointer<Float>, sin: UnsafeMutablePointer<Float>) {
        let p = positions.map { Int64($0) }
        p.withUnsafeBufferPointer { ck_rope_tables($0.baseAddress, p.count, invFreq, half, cos, sin) }
    }

    /// Scratch floats `matmul` needs for `m` rows and inner dimension `k` on `threads` threads.
    public static func matmulScratchFloats(rows m: Int, inner k: Int, threads: Int) -> Int {
        Int(ck_matmul_scratch_floats(m, k, Int32(threads)))
    }

    /// c = a · B (rule P1 of CKernels.h: each output one fmaf chain over k) for float32 operands, on the
    /// active kernel path. `b` is B stored as rows of B's columns ([n, k], `transposedB`: keys) or as
    /// [k, n] (values). `scratch` holds `matmulScratchFloats` floats.
    public static func matmul(_ a: MatrixView, _ b: MatrixView, transposedB: Bool, into c: MatrixView,
                              scratch: UnsafeMutablePointer<Float>, threads: Int = 1) {
        let k = a.cols, n = transposedB ? b.rows : b.cols
        precondition((transposedB ? b.cols : b.rows) == k && c.rows == a.rows && c.cols == n, "matmul shapes")
        var args = ck_matmul_args(path: ck_kernel_path(), dtype: Int32(CK_DT_F32),
                                  b_layout: Int32(transposedB ? CK_B_ROWS : CK_B_COLS), a: UnsafePointer(a.base),
                                  lda: a.rowStride, m: a.rows, k: k, b: UnsafeRawPointer(b.base), ldb: b.rowStride,
                                  n: n, bias: nil, c: c.base, ldc: c.rowStride, scratch: scratch)
        ck_matmul(&args, Int32(threads))
    }

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
