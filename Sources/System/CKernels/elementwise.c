// Row-wise and element-wise kernels for the transformer (norms, activations, softmax, RoPE), rules
// R16 and E of CKernels.h. Each kernel body is compiled twice, once for AVX2+FMA and once for baseline
// x86-64, and the variant follows ck_kernel_path(). Both compile the same C with contraction off and
// explicit fmaf, and the compiler's vectorisation never reassociates, so the two give the same bits.
#include "CKernels.h"
#include "numerics.h"
#include <math.h>
#include <string.h>

#define KERNELS(SUFFIX, ATTR)                                                                      \
ATTR static void rmsnorm_##SUFFIX(const float *x, const float *w, float *y, size_t rows, size_t n,   \
                                  size_t xs, size_t ys, float eps) {                                \
    for (size_t r = 0; r < rows; r++) {                                                            \
        const float *xr = x + r * xs; float *yr = y + r * ys;                                      \
        float ss = ck_rowsum_sq(xr, n, 0.0f);                                                      \
        float inv = 1.0f / __builtin_sqrtf(ss / (float)n + eps);                                   \
        for (size_t i = 0; i < n; i++) yr[i] = w[i] * (xr[i] * inv);                               \
    }                                                                                              \
}                                                                                                  \
ATTR static void layernorm_##SUFFIX(const float *x, const float *g, const float *b, float *y,       \
                                    size_t rows, size_t n, size_t xs, size_t ys, float eps) {       \
    for (size_t r = 0; r < rows; r++) {                                                            \
        const float *xr = x + r * xs; float *yr = y + r * ys;                                      \
        float mean = ck_rowsum(xr, n) / (float)n;                                                  \
        float var = ck_rowsum_sq(xr, n, mean) / (float)n;                                          \
        float inv = 1.0f / __builtin_sqrtf(var + eps);                                             \
        for (size_t i = 0; i < n; i++) yr[i] = (xr[i] - mean) * inv * g[i] + b[i];                 \
    }                                                                                              \
}                                                                                                  \
ATTR static void silu_mul_##SUFFIX(const float *gate, const float *up, float *out, size_t n) {     \
    for (size_t i = 0; i < n; i++) {                                                               \
        float g = gate[i];                                                                         \
        out[i] = g / (1.0f + ck_expf(-g)) * up[i];                                                 \
    }                                                                                              \
}                                                                                                  \
ATTR static void quick_gelu_##SUFFIX(float *x, size_t n) {                                          \
    for (size_t i = 0; i < n; i++) { float v = x[i]; x[i] = v / (1.0f + ck_expf(-1.702f * v)); }   \
}                                                                                                  \
ATTR static void gelu_erf_##SUFFIX(float *x, size_t n) {                                            \
    for (size_t i = 0; i < n; i++) {                                                               \
        float v = x[i];                                                                            \
        x[i] = v * 0.5f * (1.0f + ck_erff(v * 0.70710678118654752f));                             \
    }                                                                                              \
}                                                                                                  \
ATTR static void softmax_##SUFFIX(float *x, size_t rows, size_t n, size_t stride) {                \
    for (size_t r = 0; r < rows; r++) {                                                            \
        float *xr = x + r * stride;                                                                \
        float m = -INFINITY;                                                                       \
        for (size_t i = 0; i < n; i++) m = xr[i] > m ? xr[i] : m;                                  \
        for (size_t i = 0; i < n; i++) xr[i] = ck_expf(xr[i] - m);                                 \
        float inv = 1.0f / ck_rowsum(xr, n);                                                       \
        for (size_t i = 0; i < n; i++) xr[i] = xr[i] * inv;                                        \
    }                                                                                              \
}                                                                                                  \
ATTR static void add_##SUFFIX(float *y, const float *x, size_t n) {                                 \
    for (size_t i = 0; i < n; i++) y[i] = y[i] + x[i];                                             \
}

#if defined(__x86_64__)
KERNELS(avx2, __attribute__((target("avx2,fma"))))
#endif
KERNELS(base, )

#if defined(__x86_64__)
#define DISPATCH(name, ...) \
    do { if (ck_kernel_path() >= CK_PATH_AVX2) name##_avx2(__VA_ARGS__); else name##_base(__VA_ARGS__); } while (0)
#else
#define DISPATCH(name, ...) name##_base(__VA_ARGS__)
#endif

void ck_rmsnorm(const float *x, const float *w, float *y, size_t rows, size_t n, size_t xs, size_t ys, float eps) {
    DISPATCH(rmsnorm, x, w, y, rows, n, xs, ys, eps);
}
void ck_layernorm(const float *x, const float *g, const float *b, float *y, size_t rows, size_t n, size_t xs,
                  size_t ys, float eps) {
    DISPATCH(layernorm, x, g, b, y, rows, n, xs, ys, eps);
}
void ck_silu_mul(const float *gate, const float *up, float *out, size_t n) { DISPATCH(silu_mul, gate, up, out, n); }
void ck_quick_gelu(float *x, size_t n) { DISPATCH(quick_gelu, x, n); }
void ck_gelu_erf(float *x, size_t n) { DISPATCH(gelu_erf, x, n); }
void ck_softmax(float *x, size_t rows, size_t n, size_t stride) { DISPATCH(softmax, x, rows, n, stride); }
void ck_add(float *y, const float *x, size_t n) { DISPATCH(add, y, x, n); }

float ck_exp(float x) { return ck_expf(x); }
float ck_erf(float x) { return ck_erff(x); }

// Rotary embedding, HF "rotate_half" convention: for each head, pairs (i, i + d/2).
// cos/sin tables are [positions, d/2]; rows of x are tokens with `heads` heads of size d each.
void ck_rope(float *x, size_t rows, size_t heads, size_t d, size_t row_stride, const float *cos_t,
             const float *sin_t) {
    size_t half = d / 2;
    for (size_t r = 0; r < rows; r++) {
        const float *c = cos_t + r * half, *s = sin_t + r * half;
        for (size_t h = 0; h < heads; h++) {
            float *v = x + r * row_stride + h * d;
            for (size_t i = 0; i < half; i++) {
                float a = v[i], b = v[i + half];
                v[i] = a * c[i] - b * s[i];
                v[i + half] = b * c[i] + a * s[i];
            }
        }
    }
}
