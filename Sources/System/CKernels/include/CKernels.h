#ifndef CKERNELS_H
#define CKERNELS_H
#include <stddef.h>
#include <stdint.h>
// Bulk fp16/bf16 -> fp32 conversion (F16C when the CPU has it, portable code otherwise).
void ck_f16_to_f32(const uint16_t *src, float *dst, size_t n);
void ck_bf16_to_f32(const uint16_t *src, float *dst, size_t n);
// CPU features detected at run time (1 = present).
int ck_has_f16c(void);
int ck_has_avx2(void);
int ck_has_avx512f(void);
int ck_has_avx512bf16(void);

// Row kernels; xs/ys are row strides in elements. All compute in float32.
void ck_rmsnorm(const float *x, const float *w, float *y, size_t rows, size_t n, size_t xs, size_t ys, float eps);
void ck_layernorm(const float *x, const float *g, const float *b, float *y, size_t rows, size_t n, size_t xs,
                  size_t ys, float eps);
// out = silu(gate) * up
void ck_silu_mul(const float *gate, const float *up, float *out, size_t n);
void ck_quick_gelu(float *x, size_t n);
void ck_gelu_erf(float *x, size_t n);
// In-place softmax of `rows` rows of length n, `stride` apart.
void ck_softmax(float *x, size_t rows, size_t n, size_t stride);
void ck_add(float *y, const float *x, size_t n);
float ck_exp(float x);
void ck_rope(float *x, size_t rows, size_t heads, size_t d, size_t row_stride, const float *cos_t, const float *sin_t);

// The same kernels split by rows (or, for the flat ones, by chunks) over `threads` pool threads;
// results are identical to the single-threaded calls.
void ck_rmsnorm_mt(const float *x, const float *w, float *y, size_t rows, size_t n, size_t xs, size_t ys, float eps,
                   int threads);
void ck_layernorm_mt(const float *x, const float *g, const float *b, float *y, size_t rows, size_t n, size_t xs,
                     size_t ys, float eps, int threads);
void ck_softmax_mt(float *x, size_t rows, size_t n, size_t stride, int threads);
// Causal: row r (at position start + r) is soft-maxed over its first start + r + 1 entries, the rest set to 0.
void ck_softmax_causal_mt(float *x, size_t rows, size_t n, size_t stride, size_t start, int threads);
// gate <- silu(gate) * up
void ck_silu_mul_mt(float *gate, const float *up, size_t n, int threads);
void ck_quick_gelu_mt(float *x, size_t n, int threads);
void ck_gelu_erf_mt(float *x, size_t n, int threads);
void ck_add_mt(float *y, const float *x, size_t n, int threads);

// Causal attention of one head for `rows` query rows (row stride qs); row r sits at position pos0 + r
// and attends keys 0...pos0 + r, which are the concatenation of `segs` (each `len` rows of row
// stride kvs). `scores` holds at least pos0 + rows floats. Each row's result depends only on its
// own query and visible keys, never on the other rows or on where the segments are split.
typedef struct { const float *k; const float *v; size_t len; } ck_kv_segment;
void ck_causal_attention(const float *q, size_t qs, size_t rows, size_t pos0, const ck_kv_segment *segs, size_t nseg,
                         size_t kvs, size_t hd, float scale, float *scores, float *out, size_t os);

// VisPruner's similarity arithmetic in the reference's float32 rounding order (see reference_float32.c).
float ck_ref_norm(const float *x, size_t d);
// g [m × m] = x · xᵀ for x [m × d]; scratch must hold d × ceil(m/32)·32 floats (or be NULL: portable path).
void ck_ref_gram(const float *x, size_t m, size_t d, float *g, float *scratch);
// ---- Streaming mixed-precision Linear (linear.c, threadpool.c) ----
// Weight storage types and kernel paths (values are stable: the Swift wrapper mirrors them).
enum { CK_DT_F32 = 0, CK_DT_F16 = 1, CK_DT_BF16 = 2 };
enum { CK_PATH_PORTABLE = 0, CK_PATH_AVX2 = 1, CK_PATH_AVX512BF16 = 2 };

// y[r*ys + o] = bias[o] + sum_k x[r*xs + k] * W[o*in + k] for r < m, o < out; W is row-major
// [out, in] in `dtype`, bias may be NULL. `xb` (bf16 activations, row stride xbs) is read only by
// the AVX512-BF16 path for bf16 weights (vdpbf16ps, "reduced precision"); otherwise x is used.
typedef struct {
    int path;
    int dtype;
    const void *w;
    size_t out, in;
    const float *x;
    size_t xs, m;
    const uint16_t *xb;
    size_t xbs;
    const float *bias;
    float *y;
    size_t ys;
} ck_linear_args;

// 1 if this CPU can run `path`.
int ck_linear_path_supported(int path);
// The fastest supported path.
int ck_linear_best_path(void);
// The path actually run for a request (unsupported requests fall back to the next lower path).
int ck_linear_effective_path(int path);
// Output rows [o0, o1) on the calling thread.
void ck_linear_rows(const ck_linear_args *a, size_t o0, size_t o1);
// Part `part` of `parts` of the output rows (for callers with their own threads).
void ck_linear_part(const ck_linear_args *a, size_t part, size_t parts);
// All output rows, split across `threads` threads of the internal pool.
void ck_linear(const ck_linear_args *a, int threads);
// dst[rows*in] = float32(W rows), split across `threads` pool threads.
void ck_widen_rows(int dtype, const void *w, size_t in, size_t rows, float *dst, int threads);
// Activations rounded to bf16 (round-to-nearest-even), as float32 or as packed bf16.
void ck_round_to_bf16(const float *src, size_t src_stride, float *dst, size_t dst_stride, size_t rows, size_t n);
void ck_pack_bf16(const float *src, size_t src_stride, uint16_t *dst, size_t dst_stride, size_t rows, size_t n);

// Prefill GEMM for stored fp16/bf16/f32 weights (packed_gemm.c, AVX2+FMA+F16C):
// c[r*ldc + o] = sum_j a[r*lda + j] * W[o*k + j] for r < m, o < n, W row-major [n, k] in `dtype`.
// `scratch` must hold ck_packed_gemm_scratch_floats(m, k, threads) floats. Call only on CPUs where
// ck_linear_path_supported(CK_PATH_AVX2) (the same features).
size_t ck_packed_gemm_scratch_floats(size_t m, size_t k, int threads);
void ck_packed_gemm(int dtype, const float *a, size_t lda, size_t m, size_t k, const void *w, size_t n, float *c,
                    size_t ldc, float *scratch, int threads);

// Persistent pool: runs fn(ctx, i, n) for i < n with the caller taking i = 0; returns n used.
// Re-entrant or concurrent calls run inline on the calling thread.
typedef void (*ck_task_fn)(void *ctx, size_t part, size_t parts);
int ck_pool_run(int threads, ck_task_fn fn, void *ctx);
// Cores this process may run on (affinity mask), at least 1.
int ck_available_cores(void);
#endif
