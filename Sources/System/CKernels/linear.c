// Streaming mixed-precision Linear kernels: y[r, o] = bias[o] + sum_k x[r, k] * W[o, k] for a few
// activation rows (decode steps, short prompts) with W kept in its stored fp16/bf16/fp32 form.
//
// With one to a few activation rows the product is bound by reading W, so each W element is
// widened in registers and used for every activation row while it is hot, instead of being
// widened to a float32 copy first (that copy would triple the memory traffic).
//
// Every SIMD variant is compiled with a target attribute and chosen at run time; nothing here
// assumes the build machine's CPU.
#include "CKernels.h"
#include "weight_elements.h"
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

static inline size_t lin_elem_size(int dtype) { return dtype == CK_DT_F32 ? 4 : 2; }

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
// CPU feature checks for the three paths.

int ck_linear_path_supported(int path) {
    switch (path) {
    case CK_PATH_PORTABLE: return 1;
#if defined(__x86_64__)
    case CK_PATH_AVX2:
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
    case CK_PATH_AVX512BF16:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
               __builtin_cpu_supports("avx512bf16");
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

// ---------------------------------------------------------------------------------------------
// Portable path: widen a chunk of one W row into a stack buffer, then dot it with every
// activation row. Eight partial sums let the compiler vectorise without reassociation flags.

#define LIN_CHUNK 256

static void rows_portable(const ck_linear_args *a, size_t o0, size_t o1) {
    const size_t in = a->in, es = lin_elem_size(a->dtype);
    float wf[LIN_CHUNK];
    for (size_t o = o0; o < o1; o++) {
        const char *wrow = (const char *)a->w + o * in * es;
        for (size_t r = 0; r < a->m; r++) a->y[r * a->ys + o] = 0.f;
        for (size_t k0 = 0; k0 < in; k0 += LIN_CHUNK) {
            size_t len = in - k0 < LIN_CHUNK ? in - k0 : LIN_CHUNK;
            for (size_t i = 0; i < len; i++) wf[i] = lin_weight(a->dtype, wrow, k0 + i);
            for (size_t r = 0; r < a->m; r++) {
                const float *xr = a->x + r * a->xs + k0;
                float part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
                size_t i = 0;
                for (; i + 8 <= len; i += 8)
                    for (int l = 0; l < 8; l++) part[l] += wf[i + l] * xr[i + l];
                float s = ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
                for (; i < len; i++) s += wf[i] * xr[i];
                a->y[r * a->ys + o] += s;
            }
        }
        if (a->bias)
            for (size_t r = 0; r < a->m; r++) a->y[r * a->ys + o] += a->bias[o];
    }
}

// ---------------------------------------------------------------------------------------------
// SIMD tiles. A tile computes R consecutive W rows against C activation rows with R*C vector
// accumulators. Each W vector is widened once and used C times, each x vector is loaded once
// and used R times. Shapes are chosen to fit the register file (16 ymm / 32 zmm).
//
// The row driver walks W in blocks of LIN_OBLK rows (small enough to stay in L2 while every
// group of activation rows passes over it, so W is read from memory once per call).

#define LIN_OBLK 12

#if defined(__x86_64__)

#define AVX2_ATTR __attribute__((target("avx2,fma,f16c"), always_inline)) static inline


AVX2_ATTR float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// One tile function per (weight type, R, C). `w` points at W row o, `x` at activation row r.
#define AVX2_TILE(NAME, WT, LOAD, SCALAR, R, C)                                                          \
    AVX2_ATTR void NAME(const WT *w, size_t in, const float *x, size_t xs, float *y, size_t ys,           \
                        const float *bias) {                                                              \
        __m256 acc[R][C];                                                                                 \
        for (int i = 0; i < R; i++)                                                                       \
            for (int j = 0; j < C; j++) acc[i][j] = _mm256_setzero_ps();                                  \
        size_t k = 0;                                                                                     \
        for (; k + 8 <= in; k += 8) {                                                                     \
            __m256 wv[R];                                                                                 \
            for (int i = 0; i < R; i++) wv[i] = LOAD(w + i * in + k);                                     \
            for (int j = 0; j < C; j++) {                                                                 \
                __m256 xv = _mm256_loadu_ps(x + j * xs + k);                                              \
                for (int i = 0; i < R; i++) acc[i][j] = _mm256_fmadd_ps(wv[i], xv, acc[i][j]);            \
            }                                                                                             \
        }                                                                                                 \
        for (int i = 0; i < R; i++)                                                                       \
            for (int j = 0; j < C; j++) {                                                                 \
                float s = hsum256(acc[i][j]);                                                             \
                for (size_t t = k; t < in; t++) s += SCALAR(w[i * in + t]) * x[j * xs + t];               \
                y[j * ys + i] = bias ? s + bias[i] : s;                                                   \
            }                                                                                             \
    }

static inline float lin_f32(float v) { return v; }

#define AVX2_TILES(SUF, WT, LOAD, SCALAR)                \
    AVX2_TILE(t2_##SUF##_4x1, WT, LOAD, SCALAR, 4, 1)    \
    AVX2_TILE(t2_##SUF##_4x2, WT, LOAD, SCALAR, 4, 2)    \
    AVX2_TILE(t2_##SUF##_3x4, WT, LOAD, SCALAR, 3, 4)    \
    AVX2_TILE(t2_##SUF##_1x1, WT, LOAD, SCALAR, 1, 1)    \
    AVX2_TILE(t2_##SUF##_1x2, WT, LOAD, SCALAR, 1, 2)    \
    AVX2_TILE(t2_##SUF##_1x4, WT, LOAD, SCALAR, 1, 4)

AVX2_TILES(f16, uint16_t, LD_F16_256, lin_f16)
AVX2_TILES(bf16, uint16_t, LD_BF16_256, lin_bf16)
AVX2_TILES(f32, float, LD_F32_256, lin_f32)

// Driver: for each block of W rows, every group of activation rows (4, then 2, then 1) runs its
// tile shape across the block, then a one-row tile finishes rows the tile height leaves over.
#define LIN_DRIVER(NAME, ATTR, WT, T4x1, T4x2, T3x4, T1x1, T1x2, T1x4)                                   \
    ATTR void NAME(const ck_linear_args *a, size_t o0, size_t o1) {                                      \
        const WT *W = (const WT *)a->w;                                                                  \
        const size_t in = a->in, m = a->m;                                                               \
        for (size_t ob = o0; ob < o1; ob += LIN_OBLK) {                                                  \
            size_t oe = ob + LIN_OBLK < o1 ? ob + LIN_OBLK : o1;                                         \
            size_t r = 0;                                                                                \
            for (; r + 4 <= m; r += 4) {                                                                 \
                size_t o = ob;                                                                           \
                for (; o + 3 <= oe; o += 3)                                                              \
                    T3x4(W + o * in, in, a->x + r * a->xs, a->xs, a->y + r * a->ys + o, a->ys,           \
                         a->bias ? a->bias + o : 0);                                                     \
                for (; o < oe; o++)                                                                      \
                    T1x4(W + o * in, in, a->x + r * a->xs, a->xs, a->y + r * a->ys + o, a->ys,           \
                         a->bias ? a->bias + o : 0);                                                     \
            }                                                                                            \
            for (; r + 2 <= m; r += 2) {                                                                 \
                size_t o = ob;                                                                           \
                for (; o + 4 <= oe; o += 4)                                                              \
                    T4x2(W + o * in, in, a->x + r * a->xs, a->xs, a->y + r * a->ys + o, a->ys,           \
                         a->bias ? a->bias + o : 0);                                                     \
                for (; o < oe; o++)                                                                      \
                    T1x2(W + o * in, in, a->x + r * a->xs, a->xs, a->y + r * a->ys + o, a->ys,           \
                         a->bias ? a->bias + o : 0);                                                     \
            }                                                                                            \
            for (; r < m; r++) {                                                                         \
                size_t o = ob;                                                                           \
                for (; o + 4 <= oe; o += 4)                                                              \
                    T4x1(W + o * in, in, a->x + r * a->xs, a->xs, a->y + r * a->ys + o, a->ys,           \
                         a->bias ? a->bias + o : 0);                                                     \
                for (; o < oe; o++)                                                                      \
                    T1x1(W + o * in, in, a->x + r * a->xs, a->xs, a->y + r * a->ys + o, a->ys,           \
                         a->bias ? a->bias + o : 0);                                                     \
            }                                                                                            \
        }                                                                                                \
    }

#define AVX2_DRIVER_ATTR __attribute__((target("avx2,fma,f16c"))) static
LIN_DRIVER(rows_avx2_f16, AVX2_DRIVER_ATTR, uint16_t, t2_f16_4x1, t2_f16_4x2, t2_f16_3x4, t2_f16_1x1, t2_f16_1x2,
           t2_f16_1x4)
LIN_DRIVER(rows_avx2_bf16, AVX2_DRIVER_ATTR, uint16_t, t2_bf16_4x1, t2_bf16_4x2, t2_bf16_3x4, t2_bf16_1x1,
           t2_bf16_1x2, t2_bf16_1x4)
LIN_DRIVER(rows_avx2_f32, AVX2_DRIVER_ATTR, float, t2_f32_4x1, t2_f32_4x2, t2_f32_3x4, t2_f32_1x1, t2_f32_1x2,
           t2_f32_1x4)

// ---------------------------------------------------------------------------------------------
// AVX-512 path (16 lanes). Not executable on machines without AVX-512; it is only reached when
// ck_linear_path_supported(CK_PATH_AVX512BF16) says so.

#define AVX512_TARGET "avx512f,avx512bf16,avx512vl,avx512bw,f16c,fma"
#define AVX512_ATTR __attribute__((target(AVX512_TARGET), always_inline)) static inline

#define LD_F16_512(p) _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(p)))
#define LD_BF16_512(p) \
    _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(p))), 16))
#define LD_F32_512(p) _mm512_loadu_ps(p)

#define AVX512_TILE(NAME, WT, LOAD, SCALAR, R, C)                                                        \
    AVX512_ATTR void NAME(const WT *w, size_t in, const float *x, size_t xs, float *y, size_t ys,         \
                          const float *bias) {                                                            \
        __m512 acc[R][C];                                                                                 \
        for (int i = 0; i < R; i++)                                                                       \
            for (int j = 0; j < C; j++) acc[i][j] = _mm512_setzero_ps();                                  \
        size_t k = 0;                                                                                     \
        for (; k + 16 <= in; k += 16) {                                                                   \
            __m512 wv[R];                                                                                 \
            for (int i = 0; i < R; i++) wv[i] = LOAD(w + i * in + k);                                     \
            for (int j = 0; j < C; j++) {                                                                 \
                __m512 xv = _mm512_loadu_ps(x + j * xs + k);                                              \
                for (int i = 0; i < R; i++) acc[i][j] = _mm512_fmadd_ps(wv[i], xv, acc[i][j]);            \
            }                                                                                             \
        }                                                                                                 \
        for (int i = 0; i < R; i++)                                                                       \
            for (int j = 0; j < C; j++) {                                                                 \
                float s = _mm512_reduce_add_ps(acc[i][j]);                                                \
                for (size_t t = k; t < in; t++) s += SCALAR(w[i * in + t]) * x[j * xs + t];               \
                y[j * ys + i] = bias ? s + bias[i] : s;                                                   \
            }                                                                                             \
    }

// Same tile shapes as AVX2 so one driver serves both (the wider registers go unused, but the
// shapes are already past the point where W traffic, not registers, limits speed).
#define AVX512_TILES(SUF, WT, LOAD, SCALAR)               \
    AVX512_TILE(t5_##SUF##_4x1, WT, LOAD, SCALAR, 4, 1)   \
    AVX512_TILE(t5_##SUF##_4x2, WT, LOAD, SCALAR, 4, 2)   \
    AVX512_TILE(t5_##SUF##_3x4, WT, LOAD, SCALAR, 3, 4)   \
    AVX512_TILE(t5_##SUF##_1x1, WT, LOAD, SCALAR, 1, 1)   \
    AVX512_TILE(t5_##SUF##_1x2, WT, LOAD, SCALAR, 1, 2)   \
    AVX512_TILE(t5_##SUF##_1x4, WT, LOAD, SCALAR, 1, 4)

AVX512_TILES(f16, uint16_t, LD_F16_512, lin_f16)
AVX512_TILES(bf16, uint16_t, LD_BF16_512, lin_bf16)
AVX512_TILES(f32, float, LD_F32_512, lin_f32)

#define AVX512_DRIVER_ATTR __attribute__((target(AVX512_TARGET))) static
LIN_DRIVER(rows_avx512_f16, AVX512_DRIVER_ATTR, uint16_t, t5_f16_4x1, t5_f16_4x2, t5_f16_3x4, t5_f16_1x1,
           t5_f16_1x2, t5_f16_1x4)
LIN_DRIVER(rows_avx512_bf16, AVX512_DRIVER_ATTR, uint16_t, t5_bf16_4x1, t5_bf16_4x2, t5_bf16_3x4, t5_bf16_1x1,
           t5_bf16_1x2, t5_bf16_1x4)
LIN_DRIVER(rows_avx512_f32, AVX512_DRIVER_ATTR, float, t5_f32_4x1, t5_f32_4x2, t5_f32_3x4, t5_f32_1x1,
           t5_f32_1x2, t5_f32_1x4)

// Reduced precision: bf16 weights times bf16 activations (packed in a->xb), float32 sums, via
// vdpbf16ps (each instruction multiplies 32 bf16 pairs and adds adjacent products into 16 floats).
// Loop tails use exact float32 products of the same bf16 values.
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
                for (size_t t = k; t < in; t++) s += lin_bf16(w[i * in + t]) * lin_bf16(x[j * xs + t]);   \
                y[j * ys + i] = bias ? s + bias[i] : s;                                                   \
            }                                                                                             \
    }

DP_TILE(dp_4x1, 4, 1)
DP_TILE(dp_4x2, 4, 2)
DP_TILE(dp_3x4, 3, 4)
DP_TILE(dp_1x1, 1, 1)
DP_TILE(dp_1x2, 1, 2)
DP_TILE(dp_1x4, 1, 4)

// Same driver shape as LIN_DRIVER but reading the packed bf16 activations.
__attribute__((target(AVX512_TARGET))) static void rows_avx512_dpbf16(const ck_linear_args *a, size_t o0, size_t o1) {
    const uint16_t *W = (const uint16_t *)a->w;
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

#endif // __x86_64__

// ---------------------------------------------------------------------------------------------
// Entry points.

int ck_linear_effective_path(int path) {
    // Never run instructions the CPU lacks, whatever the caller asked for.
    while (path > CK_PATH_PORTABLE && !ck_linear_path_supported(path)) path--;
    return path < CK_PATH_PORTABLE ? CK_PATH_PORTABLE : path;
}

void ck_linear_rows(const ck_linear_args *a, size_t o0, size_t o1) {
    if (o1 > a->out) o1 = a->out;
    if (o0 >= o1 || a->m == 0) return;
    if (a->in == 0) {
        for (size_t r = 0; r < a->m; r++)
            for (size_t o = o0; o < o1; o++) a->y[r * a->ys + o] = a->bias ? a->bias[o] : 0.f;
        return;
    }
    int path = ck_linear_effective_path(a->path);
#if defined(__x86_64__)
    if (path == CK_PATH_AVX512BF16) {
        if (a->xb && a->dtype == CK_DT_BF16) { rows_avx512_dpbf16(a, o0, o1); return; }
        switch (a->dtype) {
        case CK_DT_F16: rows_avx512_f16(a, o0, o1); return;
        case CK_DT_BF16: rows_avx512_bf16(a, o0, o1); return;
        default: rows_avx512_f32(a, o0, o1); return;
        }
    }
    if (path == CK_PATH_AVX2) {
        switch (a->dtype) {
        case CK_DT_F16: rows_avx2_f16(a, o0, o1); return;
        case CK_DT_BF16: rows_avx2_bf16(a, o0, o1); return;
        default: rows_avx2_f32(a, o0, o1); return;
        }
    }
#endif
    rows_portable(a, o0, o1);
}

// Splits the output rows into `threads` contiguous ranges aligned to the driver's block, so
// threads never share a cache line of y more than at range edges and tile shapes stay intact.
static void linear_part(void *ctx, size_t part, size_t parts) {
    const ck_linear_args *a = (const ck_linear_args *)ctx;
    size_t blocks = (a->out + LIN_OBLK - 1) / LIN_OBLK;
    size_t b0 = blocks * part / parts, b1 = blocks * (part + 1) / parts;
    ck_linear_rows(a, b0 * LIN_OBLK, b1 * LIN_OBLK);
}

void ck_linear_part(const ck_linear_args *a, size_t part, size_t parts) {
    if (parts == 0 || part >= parts) return;
    linear_part((void *)a, part, parts);
}

void ck_linear(const ck_linear_args *a, int threads) {
    size_t blocks = (a->out + LIN_OBLK - 1) / LIN_OBLK;
    size_t parts = threads < 1 ? 1 : (size_t)threads;
    if (parts > blocks) parts = blocks ? blocks : 1;
    // Tiny products finish before a worker would wake up.
    if ((a->out * a->in * (a->m ? a->m : 1)) < 32768) parts = 1;
    if (parts == 1) { ck_linear_rows(a, 0, a->out); return; }
    ck_pool_run((int)parts, linear_part, (void *)a);
}

// ---------------------------------------------------------------------------------------------
// Panel widening for the sgemm (prefill) path.

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
