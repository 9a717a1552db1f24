// Products under rule P1 (CKernels.h): each output element is one fmaf chain over k in order.
//
// This file holds the path selection, the portable implementation (the definition, plain C), the
// dispatch to the AVX2 packed GEMM (packed_gemm.c, the same chains with lanes across outputs), and
// the machine-dependent extras outside the default arithmetic: the AVX512_BF16 dot-product path of
// the reduced-precision mode and the weight widening the OpenBLAS opt-in uses.
#include "CKernels.h"
#include "weight_elements.h"
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

void ck_round_to_bf16(const float *src, size_t src_stride, float *dst, size_t dst_stride, size_t rows, size_t n) {
    for (size_t r = 0; r < rows; r++)
        for (size_t i = 0; i < n; i++)
            dst[r * dst_stride + i] = lin_bf16(lin_to_bf16(src[r * src_stride + i]));
}

void ck_pack_bf16(const float *src, size_t src_stride, uint16_t *dst, size_t dst_stride, size_t rows, size_t n) {
    for (size_t r = 0; r < rows; r++)
        for (size_t i = 0; i < n; i++) dst[r * dst_stride + i] = lin_to_bf16(src[r * src_stride + i]);
}

// ---------------------------------------------------------------------------------------------
// Paths.

int ck_linear_path_supported(int path) {
    switch (path) {
    case CK_PATH_PORTABLE: return 1;
#if defined(__x86_64__)
    case CK_PATH_AVX2:
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
    case CK_PATH_AVX512BF16:
        return ck_linear_path_supported(CK_PATH_AVX2) && __builtin_cpu_supports("avx512f") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bf16");
#endif
    default: return 0;
    }
}

int ck_linear_best_path(void) {
    static int best = -1;
    if (best < 0) {
        best = ck_linear_path_supported(CK_PATH_AVX512BF16) ? CK_PATH_AVX512BF16
             : ck_linear_path_supported(CK_PATH_AVX2)       ? CK_PATH_AVX2
                                                            : CK_PATH_PORTABLE;
    }
    return best;
}

int ck_linear_effective_path(int path) {
    // Never run instructions the CPU lacks, whatever the caller asked for.
    while (path > CK_PATH_PORTABLE && !ck_linear_path_supported(path)) path--;
    return path < CK_PATH_PORTABLE ? CK_PATH_PORTABLE : path;
}

static atomic_int g_path = -1;

int ck_kernel_path(void) {
    int p = atomic_load_explicit(&g_path, memory_order_relaxed);
    if (p < 0) {
        p = ck_linear_best_path();
        atomic_store_explicit(&g_path, p, memory_order_relaxed);
    }
    return p;
}

void ck_set_kernel_path(int path) {
    atomic_store_explicit(&g_path, ck_linear_effective_path(path), memory_order_relaxed);
}

// ---------------------------------------------------------------------------------------------
// Portable products: the definition. Output columns [o0, o1); B column o is widened into `col`
// (k floats) once and used for every row.

static void matmul_portable(const ck_matmul_args *g, size_t o0, size_t o1, float *col) {
    for (size_t o = o0; o < o1; o++) {
        if (g->b_layout == CK_B_COLS) {
            const float *b = (const float *)g->b;
            for (size_t k = 0; k < g->k; k++) col[k] = b[k * g->ldb + o];
        } else if (g->b_layout == CK_B_PANELS) {
            size_t base = (o / 16) * g->ldb * 16 + o % 16;
            for (size_t k = 0; k < g->k; k++) col[k] = lin_weight(g->dtype, g->b, base + k * 16);
        } else {
            for (size_t k = 0; k < g->k; k++) col[k] = lin_weight(g->dtype, g->b, o * g->ldb + k);
        }
        for (size_t r = 0; r < g->m; r++) {
            const float *a = g->a + r * g->lda;
            float acc = 0.0f;
            for (size_t k = 0; k < g->k; k++) acc = __builtin_fmaf(a[k], col[k], acc);
            g->c[r * g->ldc + o] = g->bias ? acc + g->bias[o] : acc;
        }
    }
}

static void portable_part(void *ctx, size_t part, size_t parts) {
    const ck_matmul_args *g = (const ck_matmul_args *)ctx;
    size_t o0 = g->n * part / parts, o1 = g->n * (part + 1) / parts;
    if (o0 < o1) matmul_portable(g, o0, o1, g->scratch + part * g->k);
}

size_t ck_packed_scratch(size_t m, size_t k, int threads);  // packed_gemm.c

size_t ck_matmul_scratch_floats(size_t m, size_t k, int threads) {
    size_t t = (size_t)(threads < 1 ? 1 : threads);
    size_t portable = t * (k ? k : 1);
    size_t packed = ck_packed_scratch(m, k, threads);
    return portable > packed ? portable : packed;
}

void ck_matmul(const ck_matmul_args *g, int threads) {
    if (g->m == 0 || g->n == 0) return;
    if (g->k == 0) {
        for (size_t r = 0; r < g->m; r++)
            for (size_t o = 0; o < g->n; o++) g->c[r * g->ldc + o] = g->bias ? 0.0f + g->bias[o] : 0.0f;
        return;
    }
    int path = ck_linear_effective_path(g->path);
#if defined(__x86_64__)
    if (path >= CK_PATH_AVX2) { ck_matmul_avx2(g, threads); return; }
#endif
    size_t parts = threads < 1 ? 1 : (size_t)threads;
    if (parts > g->n) parts = g->n;
    if (g->m * g->n * g->k < 32768) parts = 1;
    if (parts == 1) { matmul_portable(g, 0, g->n, g->scratch); return; }
    ck_pool_run((int)parts, portable_part, (void *)g);
}

// ---------------------------------------------------------------------------------------------
// Panel repacking of Linear weights (once, at load).

size_t ck_panel_elements(size_t out, size_t in) { return (out + 15) / 16 * 16 * in; }

typedef struct {
    size_t es;
    const char *w;
    size_t out, in;
    char *dst;
} panel_job;

static void panel_part(void *ctx, size_t part, size_t parts) {
    const panel_job *j = (const panel_job *)ctx;
    size_t groups = (j->out + 15) / 16;
    size_t g0 = groups * part / parts, g1 = groups * (part + 1) / parts;
    for (size_t g = g0; g < g1; g++)
        for (size_t l = 0; l < 16; l++) {
            size_t o = g * 16 + l;
            char *d = j->dst + (g * j->in * 16 + l) * j->es;
            if (o < j->out) {
                const char *src = j->w + o * j->in * j->es;
                for (size_t k = 0; k < j->in; k++) memcpy(d + k * 16 * j->es, src + k * j->es, j->es);
            } else {
                for (size_t k = 0; k < j->in; k++) memset(d + k * 16 * j->es, 0, j->es);
            }
        }
}

void ck_pack_panels(int dtype, const void *w, size_t out, size_t in, void *dst, int threads) {
    panel_job j = {dtype == CK_DT_F32 ? 4 : 2, (const char *)w, out, in, (char *)dst};
    size_t groups = (out + 15) / 16;
    size_t parts = threads < 1 ? 1 : (size_t)threads;
    if (parts > groups) parts = groups ? groups : 1;
    if (parts == 1) { panel_part(&j, 0, 1); return; }
    ck_pool_run((int)parts, panel_part, &j);
}

// ---------------------------------------------------------------------------------------------
// Reduced precision on AVX512_BF16 CPUs: bf16 weights times bf16 activations through vdpbf16ps
// (each instruction multiplies 32 bf16 pairs and adds adjacent products into 16 floats). Its
// order is the instruction's, so results differ from rule P1 and between machines. Not executable
// on machines without AVX512_BF16; only reached when ck_linear_path_supported(CK_PATH_AVX512BF16).

#define LIN_OBLK 12

typedef struct {
    const uint16_t *w;
    size_t out, in;
    const uint16_t *xb;
    size_t xbs, m;
    const float *bias;
    float *y;
    size_t ys;
} dp_job;

#if defined(__x86_64__)
#define AVX512_TARGET "avx512f,avx512bf16,avx512vl,avx512bw,f16c,fma"
#define AVX512_ATTR __attribute__((target(AVX512_TARGET), always_inline)) static inline

#define DP_TILE(NAME, R, C)                                                                               \
    AVX512_ATTR void NAME(const uint16_t *w, size_t in, const uint16_t *x, size_t xs, float *y, size_t ys, \
                          const float *bias) {                                                            \
        __m512 acc[R][C];                                                                                 \
        for (int i = 0; i < R; i++)                                                                       \
            for (int j = 0; j < C; j++) acc[i][j] = _mm512_setzero_ps();                                  \
        size_t k = 0;                                                                                     \
        for (; k + 32 <= in; k += 32) {                                                                   \
            __m512i wv[R];                                                                                \
            for (int i = 0; i < R; i++) wv[i] = _mm512_loadu_si512((const void *)(w + i * in + k));        \
            for (int j = 0; j < C; j++) {                                                                 \
                __m512i xv = _mm512_loadu_si512((const void *)(x + j * xs + k));                          \
                for (int i = 0; i < R; i++)                                                               \
                    acc[i][j] = _mm512_dpbf16_ps(acc[i][j], (__m512bh)wv[i], (__m512bh)xv);               \
            }                                                                                             \
        }                                                                                                 \
        for (int i = 0; i < R; i++)                                                                       \
            for (int j = 0; j < C; j++) {                                                                 \
                float s = _mm512_reduce_add_ps(acc[i][j]);                                                \
                for (size_t t = k; t < in; t++)                                                           \
                    s = __builtin_fmaf(lin_bf16(w[i * in + t]), lin_bf16(x[j * xs + t]), s);             \
                y[j * ys + i] = bias ? s + bias[i] : s;                                                   \
            }                                                                                             \
    }

DP_TILE(dp_4x1, 4, 1)
DP_TILE(dp_4x2, 4, 2)
DP_TILE(dp_3x4, 3, 4)
DP_TILE(dp_1x1, 1, 1)
DP_TILE(dp_1x2, 1, 2)
DP_TILE(dp_1x4, 1, 4)

__attribute__((target(AVX512_TARGET))) static void dp_rows(const dp_job *a, size_t o0, size_t o1) {
    const uint16_t *W = a->w;
    const size_t in = a->in, m = a->m, xs = a->xbs;
    for (size_t ob = o0; ob < o1; ob += LIN_OBLK) {
        size_t oe = ob + LIN_OBLK < o1 ? ob + LIN_OBLK : o1;
        size_t r = 0;
        for (; r + 4 <= m; r += 4) {
            size_t o = ob;
            for (; o + 3 <= oe; o += 3)
                dp_3x4(W + o * in, in, a->xb + r * xs, xs, a->y + r * a->ys + o, a->ys, a->bias ? a->bias + o : 0);
            for (; o < oe; o++)
                dp_1x4(W + o * in, in, a->xb + r * xs, xs, a->y + r * a->ys + o, a->ys, a->bias ? a->bias + o : 0);
        }
        for (; r + 2 <= m; r += 2) {
            size_t o = ob;
            for (; o + 4 <= oe; o += 4)
                dp_4x2(W + o * in, in, a->xb + r * xs, xs, a->y + r * a->ys + o, a->ys, a->bias ? a->bias + o : 0);
            for (; o < oe; o++)
                dp_1x2(W + o * in, in, a->xb + r * xs, xs, a->y + r * a->ys + o, a->ys, a->bias ? a->bias + o : 0);
        }
        for (; r < m; r++) {
            size_t o = ob;
            for (; o + 4 <= oe; o += 4)
                dp_4x1(W + o * in, in, a->xb + r * xs, xs, a->y + r * a->ys + o, a->ys, a->bias ? a->bias + o : 0);
            for (; o < oe; o++)
                dp_1x1(W + o * in, in, a->xb + r * xs, xs, a->y + r * a->ys + o, a->ys, a->bias ? a->bias + o : 0);
        }
    }
}

static void dp_part(void *ctx, size_t part, size_t parts) {
    const dp_job *a = (const dp_job *)ctx;
    size_t blocks = (a->out + LIN_OBLK - 1) / LIN_OBLK;
    size_t b0 = blocks * part / parts, b1 = blocks * (part + 1) / parts;
    size_t o1 = b1 * LIN_OBLK < a->out ? b1 * LIN_OBLK : a->out;
    if (b0 * LIN_OBLK < o1) dp_rows(a, b0 * LIN_OBLK, o1);
}
#endif

void ck_linear_dpbf16(const uint16_t *w, size_t out, size_t in, const uint16_t *xb, size_t xbs, size_t m,
                      const float *bias, float *y, size_t ys, int threads) {
#if defined(__x86_64__)
    if (!ck_linear_path_supported(CK_PATH_AVX512BF16)) __builtin_trap();
    dp_job a = {w, out, in, xb, xbs, m, bias, y, ys};
    size_t blocks = (out + LIN_OBLK - 1) / LIN_OBLK;
    size_t parts = threads < 1 ? 1 : (size_t)threads;
    if (parts > blocks) parts = blocks ? blocks : 1;
    if (out * in * (m ? m : 1) < 32768) parts = 1;
    if (parts == 1) { dp_part(&a, 0, 1); return; }
    ck_pool_run((int)parts, dp_part, &a);
#else
    (void)w; (void)out; (void)in; (void)xb; (void)xbs; (void)m; (void)bias; (void)y; (void)ys; (void)threads;
    __builtin_trap();
#endif
}

// ---------------------------------------------------------------------------------------------
// Panel widening for the OpenBLAS opt-in (VISPRUNER_PREFILL=openblas).

typedef struct {
    int dtype;
    const void *w;
    size_t in, rows;
    float *dst;
} widen_args;

static void widen_part(void *ctx, size_t part, size_t parts) {
    const widen_args *a = (const widen_args *)ctx;
    size_t r0 = a->rows * part / parts, r1 = a->rows * (part + 1) / parts;
    size_t n = (r1 - r0) * a->in;
    if (n == 0) return;
    size_t first = r0 * a->in;
    switch (a->dtype) {
    case CK_DT_F16: ck_f16_to_f32((const uint16_t *)a->w + first, a->dst + first, n); break;
    case CK_DT_BF16: ck_bf16_to_f32((const uint16_t *)a->w + first, a->dst + first, n); break;
    default: memcpy(a->dst + first, (const float *)a->w + first, n * 4); break;
    }
}

void ck_widen_rows(int dtype, const void *w, size_t in, size_t rows, float *dst, int threads) {
    widen_args a = {dtype, w, in, rows, dst};
    size_t parts = threads < 1 ? 1 : (size_t)threads;
    if (rows * in < 65536 || parts > rows) parts = 1;
    if (parts == 1) { widen_part(&a, 0, 1); return; }
    ck_pool_run((int)parts, widen_part, &a);
}
