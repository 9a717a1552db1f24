#ifndef CKERNELS_H
#define CKERNELS_H
#include <stddef.h>
#include <stdint.h>

// =============================================================================================
// Numerics "n2": the one order in which every floating-point reduction of the forward path adds.
//
// Every kernel path (portable C, AVX2, later AVX-512 / NEON / GPU) follows these rules, so results
// are bit-identical on every path, CPU and thread count. The portable C is the definition; the
// whole CKernels target compiles with -ffp-contract=off, so the only fused operations are the
// explicit fmaf calls (fmaf is correctly rounded by definition, in libm and in hardware alike).
//
//  P1  Products (linear layers for f32/f16/bf16 weights, packed prefill and decode alike; the
//      tower's attention products Q·Kᵀ and P·V; the decoder's attention scores q·k and values p·v):
//      each output element is ONE fmaf chain over the inner index k in increasing order, starting
//      from +0:  acc = +0; for k = 0..K-1: acc = fmaf(a[k], b[k], acc).  Then, if there is a bias,
//      y = acc + bias (one addition). Weights are widened exactly (f16/bf16 -> f32) first.
//      Vector code puts lanes across OUTPUT elements (8 outputs per AVX2 register, 16 per AVX-512
//      register, 4 per NEON register, one thread per output on a GPU); it may block and tile k and
//      the outputs freely, but must carry the accumulator of an output from one k block to the next
//      (never sum per-block partials) and never split the k range of one output across lanes.
//  R16 Row sums (softmax denominators, LayerNorm mean and variance, RMSNorm sum of squares):
//      element i goes to partial i mod 16; each partial is a chain in i order from +0 (plain
//      additions; fmaf(d, d, p) for sums of squares); then p[l] += p[l+8] (l < 8), p[l] += p[l+4]
//      (l < 4), p[l] += p[l+2] (l < 2), sum = p[0] + p[1]. AVX2 keeps the partials in two vectors,
//      AVX-512 in one, NEON in four; their horizontal sums are exactly this tree.
//  E   Element-wise operations are single IEEE operations written out in the kernels (e.g.
//      softmax e = exp(x - max), p = e * (1 / sum); RMSNorm w * (x * (1 / sqrt(ss / n + eps)));
//      silu (g / (1 + exp(-g))) * up; RoPE a·cos - b·sin). Maxima are order-independent.
//      exp and erf are our own (numerics.h: ~1 ulp, no libm); the RoPE tables' pow, sin and cos are
//      our own double-precision routines rounded once to float32 (tables.c).
//  S   VisPruner's similarity products keep the reference's own rounding order
//      (reference_float32.c: 8-lane norm, 192-deep fmaf blocks summed in order), identical on every
//      path, because the recorded selections are defined by it.
// =============================================================================================
#define CK_NUMERICS_VERSION "n2"

// Bulk fp16/bf16 -> fp32 conversion (F16C when the CPU has it, portable code otherwise; exact either way).
void ck_f16_to_f32(const uint16_t *src, float *dst, size_t n);
void ck_bf16_to_f32(const uint16_t *src, float *dst, size_t n);
// CPU features detected at run time (1 = present).
int ck_has_f16c(void);
int ck_has_avx2(void);
int ck_has_avx512f(void);
int ck_has_avx512bf16(void);

// Kernel paths (values are stable: the Swift wrapper mirrors them).
enum { CK_PATH_PORTABLE = 0, CK_PATH_AVX2 = 1, CK_PATH_AVX512BF16 = 2 };
// 1 if this CPU can run `path`.
int ck_linear_path_supported(int path);
// The fastest supported path.
int ck_linear_best_path(void);
// The path actually run for a request (unsupported requests fall back to the next lower path).
int ck_linear_effective_path(int path);
// The path the row kernels, attention and matmul run (process-wide; starts as the best path).
int ck_kernel_path(void);
void ck_set_kernel_path(int path);

// Row kernels; xs/ys are row strides in elements. All compute in float32 (rules R16, E).
void ck_rmsnorm(const float *x, const float *w, float *y, size_t rows, size_t n, size_t xs, size_t ys, float eps);
void ck_layernorm(const float *x, const float *g, const float *b, float *y, size_t rows, size_t n, size_t xs,
                  size_t ys, float eps);
// out = silu(gate) * up
void ck_silu_mul(const float *gate, const float *up, float *out, size_t n);
void ck_quick_gelu(float *x, size_t n);
// x * 0.5 * (1 + erf(x / sqrt 2)), as torch.nn.GELU() forms it.
void ck_gelu_erf(float *x, size_t n);
// In-place softmax of `rows` rows of length n, `stride` apart.
void ck_softmax(float *x, size_t rows, size_t n, size_t stride);
void ck_add(float *y, const float *x, size_t n);
float ck_exp(float x);
float ck_erf(float x);
void ck_rope(float *x, size_t rows, size_t heads, size_t d, size_t row_stride, const float *cos_t, const float *sin_t);

// RoPE tables (tables.c): inv_freq[i] = 1 / theta^(2i/d) (pow in double, rounded to float32, then the
// float32 division); angle = float(position) * inv_freq[i] in float32; cos/sin of the angle in double,
// rounded to float32. cos_t/sin_t are [rows, d/2].
void ck_rope_inv_freq(float theta, size_t d, float *inv_freq);
void ck_rope_tables(const int64_t *positions, size_t rows, const float *inv_freq, size_t half, float *cos_t,
                    float *sin_t);
// The double-precision routines behind them (exposed for tests): correctly rounded in practice.
double ck_dsin(double x);
double ck_dcos(double x);
double ck_dexp(double x);
double ck_dlog(double x);

// The same kernels split by rows (or, for the flat ones, by chunks) over `threads` pool threads;
// results are identical to the single-threaded calls.
void ck_rmsnorm_mt(const float *x, const float *w, float *y, size_t rows, size_t n, size_t xs, size_t ys, float eps,
                   int threads);
void ck_layernorm_mt(const float *x, const float *g, const float *b, float *y, size_t rows, size_t n, size_t xs,
                     size_t ys, float eps, int threads);
void ck_softmax_mt(float *x, size_t rows, size_t n, size_t stride, int threads);
// gate <- silu(gate) * up
void ck_silu_mul_mt(float *gate, const float *up, size_t n, int threads);
void ck_quick_gelu_mt(float *x, size_t n, int threads);
void ck_gelu_erf_mt(float *x, size_t n, int threads);
void ck_add_mt(float *y, const float *x, size_t n, int threads);

// Causal attention of one head for `rows` query rows (row stride qs); row r sits at position pos0 + r
// and attends keys 0...pos0 + r, which are the concatenation of `segs` (each `len` rows of row
// stride kvs). score_j = (q·k_j chain, rule P1) * scale; p = softmax (R16, E); out = Σ_j p_j v_j
// (one chain over j per output element, P1). A row's result depends only on its own query and
// visible keys. `scratch` holds ck_causal_attention_scratch(rows, pos0, hd) floats.
typedef struct { const float *k; const float *v; size_t len; } ck_kv_segment;
size_t ck_causal_attention_scratch(size_t rows, size_t pos0, size_t hd);
void ck_causal_attention(const float *q, size_t qs, size_t rows, size_t pos0, const ck_kv_segment *segs, size_t nseg,
                         size_t kvs, size_t hd, float scale, float *scratch, float *out, size_t os);

// VisPruner's similarity arithmetic in the reference's float32 rounding order (see reference_float32.c).
float ck_ref_norm(const float *x, size_t d);
// g [m × m] = x · xᵀ for x [m × d]; scratch must hold d × ceil(m/32)·32 floats (or be NULL: portable path).
void ck_ref_gram(const float *x, size_t m, size_t d, float *g, float *scratch);

// ---- Products (matmul.c, packed_gemm.c, threadpool.c), rule P1 ----
// Weight storage types.
enum { CK_DT_F32 = 0, CK_DT_F16 = 1, CK_DT_BF16 = 2 };
// How B is stored: CK_B_ROWS: B(k, o) = b[o*ldb + k] (Linear weights [out, in], keys);
// CK_B_COLS: B(k, o) = b[k*ldb + o] (values, float32 only); CK_B_PANELS: Linear weights repacked once by
// ck_pack_panels, B(k, o) = b[((o/16)*ldb + k)*16 + o%16] with ldb = in (16 outputs side by side per k, so
// the products read lanes across outputs without transposing).
enum { CK_B_ROWS = 0, CK_B_COLS = 1, CK_B_PANELS = 2 };
// Elements of the panel copy of an [out, in] weight (out rounded up to 16; the padding is zero).
size_t ck_panel_elements(size_t out, size_t in);
// dst (ck_panel_elements × element size bytes) = W [out, in] in the CK_B_PANELS layout, same dtype, bits copied.
void ck_pack_panels(int dtype, const void *w, size_t out, size_t in, void *dst, int threads);

// c[r*ldc + o] = chain_k(a[r*lda + k] * B(k, o)) (+ bias[o]) for r < m, o < n.
typedef struct {
    int path;
    int dtype;
    int b_layout;
    const float *a;
    size_t lda, m, k;
    const void *b;
    size_t ldb, n;
    const float *bias;
    float *c;
    size_t ldc;
    float *scratch;  // ck_matmul_scratch_floats(m, k, threads) floats
} ck_matmul_args;
size_t ck_matmul_scratch_floats(size_t m, size_t k, int threads);
// Output columns split over `threads` pool threads; the result does not depend on the split.
void ck_matmul(const ck_matmul_args *g, int threads);
// The AVX2 implementation (packed_gemm.c); call only where ck_linear_path_supported(CK_PATH_AVX2).
void ck_matmul_avx2(const ck_matmul_args *g, int threads);

// Reduced precision (bf16 activations times bf16 weights via vdpbf16ps, AVX512_BF16 CPUs only; its
// summation order is the instruction's, NOT rule P1, so its results are machine-dependent):
// y[r*ys + o] = bias[o] + sum_k xb[r*xbs + k] * W[o*in + k].
void ck_linear_dpbf16(const uint16_t *w, size_t out, size_t in, const uint16_t *xb, size_t xbs, size_t m,
                      const float *bias, float *y, size_t ys, int threads);
// dst[rows*in] = float32(W rows), split across `threads` pool threads (the OpenBLAS opt-in's panels).
void ck_widen_rows(int dtype, const void *w, size_t in, size_t rows, float *dst, int threads);
// Activations rounded to bf16 (round-to-nearest-even), as float32 or as packed bf16.
void ck_round_to_bf16(const float *src, size_t src_stride, float *dst, size_t dst_stride, size_t rows, size_t n);
void ck_pack_bf16(const float *src, size_t src_stride, uint16_t *dst, size_t dst_stride, size_t rows, size_t n);

// Persistent pool: runs fn(ctx, i, n) for i < n with the caller taking i = 0; returns n used.
// Re-entrant or concurrent calls run inline on the calling thread.
typedef void (*ck_task_fn)(void *ctx, size_t part, size_t parts);
int ck_pool_run(int threads, ck_task_fn fn, void *ctx);
// Cores this process may run on (affinity mask), at least 1.
int ck_available_cores(void);
#endif
