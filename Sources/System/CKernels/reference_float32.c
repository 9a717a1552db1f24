// Float32 arithmetic in the exact order the reference PyTorch CPU build uses for VisPruner's
// similarity ranking. The ranking compares many near-equal cosine similarities (and breaks exact
// ties by position), so a different summation order changes which tokens survive; these kernels
// reproduce the recorded results bit for bit, independently of this machine's SIMD width.
#include "CKernels.h"
#include <math.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#pragma clang fp contract(off)

// ||x||₂ as torch's vectorised reduction computes it: 8 lanes (lane = k mod 8) of separately
// rounded products and sums, lanes then added in order, then sqrt. A tail (d mod 8) is added last.
float ck_ref_norm(const float *x, size_t d) {
    float lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t body = d - d % 8;
    for (size_t k = 0; k < body; k += 8)
        for (int l = 0; l < 8; l++) {
            float p = x[k + l] * x[k + l];
            lane[l] = lane[l] + p;
        }
    float s = lane[0];
    for (int l = 1; l < 8; l++) s = s + lane[l];
    for (size_t k = body; k < d; k++) {
        float p = x[k] * x[k];
        s = s + p;
    }
    return sqrtf(s);
}

// Block partial of a·b over k in [k0, k1): fused multiply-adds in order, starting from 0.
static inline float dot_block(const float *a, const float *b, size_t k0, size_t k1) {
    float acc = 0.f;
    for (size_t k = k0; k < k1; k++) acc = fmaf(a[k], b[k], acc);
    return acc;
}

#define REF_KC 192

// G[i][j] = rows[i]·rows[j] for unit rows [m × d], as the reference's sgemm rounds it: the
// inner dimension in blocks of 192, each block an ordered FMA chain from zero, blocks summed in
// order. Every G[i][j] is computed on its own, so the result is independent of m.
static void gram_portable(const float *x, size_t m, size_t d, float *g) {
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < m; j++) {
            float c = 0.f;
            for (size_t k0 = 0; k0 < d; k0 += REF_KC) {
                size_t k1 = k0 + REF_KC < d ? k0 + REF_KC : d;
                float part = dot_block(x + i * d, x + j * d, k0, k1);
                c = c + part;
            }
            g[i * m + j] = c;
        }
}

#if defined(__x86_64__)
// Same arithmetic, 8 columns j at a time: lane l carries the chain for column j+l (FMA is exact
// per lane, so vector and scalar chains round identically).
__attribute__((target("avx2,fma")))
static void gram_avx2(const float *x, size_t m, size_t d, float *g, float *xt) {
    // xt: x transposed [d × m], so column blocks load contiguously.
    for (size_t i = 0; i < m; i++)
        for (size_t k = 0; k < d; k++) xt[k * m + i] = x[i * d + k];
    size_t j8 = m - m % 8;
    for (size_t i = 0; i < m; i++) {
        const float *a = x + i * d;
        for (size_t j = 0; j < j8; j += 8) {
            __m256 c = _mm256_setzero_ps();
            for (size_t k0 = 0; k0 < d; k0 += REF_KC) {
                size_t k1 = k0 + REF_KC < d ? k0 + REF_KC : d;
                __m256 acc = _mm256_setzero_ps();
                for (size_t k = k0; k < k1; k++)
                    acc = _mm256_fmadd_ps(_mm256_set1_ps(a[k]), _mm256_loadu_ps(xt + k * m + j), acc);
                c = _mm256_add_ps(c, acc);
            }
            _mm256_storeu_ps(g + i * m + j, c);
        }
        for (size_t j = j8; j < m; j++) {
            float c = 0.f;
            for (size_t k0 = 0; k0 < d; k0 += REF_KC) {
                size_t k1 = k0 + REF_KC < d ? k0 + REF_KC : d;
                float part = dot_block(a, x + j * d, k0, k1);
                c = c + part;
            }
            g[i * m + j] = c;
        }
    }
}
#endif

void ck_ref_gram(const float *x, size_t m, size_t d, float *g, float *scratch) {
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && scratch) {
        gram_avx2(x, m, d, g, scratch);
        return;
    }
#endif
    gram_portable(x, m, d, g);
}
