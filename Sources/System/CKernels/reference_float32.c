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
// Same arithmetic, vectorised across columns: lane l of a vector carries the chain for column j+l
// (FMA is exact per lane, so vector and scalar chains round identically). Two rows × 32 columns are in
// flight at once (8 independent chains) to hide FMA latency. fma(a,b,c) = fma(b,a,c), so G is exactly
// symmetric: only blocks on or right of the diagonal are computed, then mirrored.
__attribute__((target("avx2,fma")))
static void gram_avx2(const float *x, size_t m, size_t d, float *g, float *xt) {
    // xt: x transposed and zero-padded to mp columns (a multiple of 32), so every column goes through
    // the vector path (a scalar FMA chain per column would be latency-bound).
    size_t mp = (m + 31) / 32 * 32;
    for (size_t k = 0; k < d; k++)
        for (size_t i = m; i < mp; i++) xt[k * mp + i] = 0.f;
    for (size_t i0 = 0; i0 < m; i0 += 32)
        for (size_t k0 = 0; k0 < d; k0 += 32) {
            size_t i1 = i0 + 32 < m ? i0 + 32 : m, k1 = k0 + 32 < d ? k0 + 32 : d;
            for (size_t i = i0; i < i1; i++)
                for (size_t k = k0; k < k1; k++) xt[k * mp + i] = x[i * d + k];
        }
    float tmp[2][32];
    // Column blocks outermost: one block of xt (d × 32 floats, 128 KB at d = 1024) stays in L2 while every
    // row pair above or on the diagonal streams past it.
    for (size_t j = 0; j < mp; j += 32) {
        size_t iend = j + 32 < m ? j + 32 : m;
        for (size_t i = 0; i < iend; i += 3) {
            // Three rows × 32 columns: 12 independent FMA chains, enough to cover FMA latency.
            size_t nr = iend - i < 3 ? iend - i : 3;
            const float *a0 = x + i * d, *a1 = x + (nr > 1 ? i + 1 : i) * d, *a2 = x + (nr > 2 ? i + 2 : i) * d;
            __m256 c[3][4];
            for (int r = 0; r < 3; r++) for (int v = 0; v < 4; v++) c[r][v] = _mm256_setzero_ps();
            for (size_t k0 = 0; k0 < d; k0 += REF_KC) {
                size_t k1 = k0 + REF_KC < d ? k0 + REF_KC : d;
                __m256 p0[4], p1[4], p2[4];
                for (int v = 0; v < 4; v++) { p0[v] = _mm256_setzero_ps(); p1[v] = _mm256_setzero_ps(); p2[v] = _mm256_setzero_ps(); }
                for (size_t k = k0; k < k1; k++) {
                    const float *row = xt + k * mp + j;
                    __m256 s0 = _mm256_set1_ps(a0[k]), s1 = _mm256_set1_ps(a1[k]), s2 = _mm256_set1_ps(a2[k]);
                    for (int v = 0; v < 4; v++) {
                        __m256 b = _mm256_loadu_ps(row + 8 * v);
                        p0[v] = _mm256_fmadd_ps(s0, b, p0[v]);
                        p1[v] = _mm256_fmadd_ps(s1, b, p1[v]);
                        p2[v] = _mm256_fmadd_ps(s2, b, p2[v]);
                    }
                }
                for (int v = 0; v < 4; v++) {
                    c[0][v] = _mm256_add_ps(c[0][v], p0[v]);
                    c[1][v] = _mm256_add_ps(c[1][v], p1[v]);
                    c[2][v] = _mm256_add_ps(c[2][v], p2[v]);
                }
            }
            size_t width = j + 32 <= m ? 32 : m - j;
            for (size_t r = 0; r < nr; r++) {
                if (width == 32) {
                    for (int v = 0; v < 4; v++) _mm256_storeu_ps(g + (i + r) * m + j + 8 * v, c[r][v]);
                } else {
                    for (int v = 0; v < 4; v++) _mm256_storeu_ps(tmp[0] + 8 * v, c[r][v]);
                    for (size_t col = 0; col < width; col++) g[(i + r) * m + j + col] = tmp[0][col];
                }
            }
        }
    }
    // Mirror the upper triangle into the lower one, tile by tile.
    for (size_t i0 = 0; i0 < m; i0 += 32)
        for (size_t j0 = 0; j0 <= i0; j0 += 32) {
            size_t i1 = i0 + 32 < m ? i0 + 32 : m, j1 = j0 + 32 < m ? j0 + 32 : m;
            for (size_t i = i0; i < i1; i++)
                for (size_t j = j0; j < j1 && j < i; j++) g[i * m + j] = g[j * m + i];
        }
}
#endif

void ck_ref_gram(const float *x, size_t m, size_t d, float *g, float *scratch) {
#if defined(__x86_64__)
    if (ck_kernel_path() >= CK_PATH_AVX2 && scratch) {
        gram_avx2(x, m, d, g, scratch);
        return;
    }
#endif
    gram_portable(x, m, d, g);
}
