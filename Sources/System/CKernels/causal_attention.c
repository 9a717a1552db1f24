// Causal attention of the language model, one query row at a time, over keys and values that may
// live in several segments (a shared prompt prefix, an image prefix, the question's own positions).
//
// Every row is computed the same way (CKernels.h rules P1, R16, E): score_j = (q·k_j as one fmaf chain
// over the head dimension) * scale; softmax over exactly the visible keys in position order; each
// output element one fmaf chain over the keys in position order. So a row's result never depends on
// the other rows of the call, on how the keys are split into segments, or on the kernel path: a
// question answered on top of a reused prefix gets bit for bit the logits it gets alone.
//
// The AVX2 variant runs the score chains with lanes across keys, so it first transposes the visible
// keys into a [hd][V] block of the scratch (8×8 register transposes); the value chains run with
// lanes across the head dimension, reading value rows as stored.
#include "CKernels.h"
#include "numerics.h"
#include <math.h>
#include <string.h>

static size_t keys_padded(size_t visible) { return (visible + 31) / 32 * 32; }

size_t ck_causal_attention_scratch(size_t rows, size_t pos0, size_t hd) {
    return (hd + 1) * keys_padded(pos0 + rows);
}

// Softmax of the first `visible` scores in place (max, exp, R16 sum, one multiply by 1/sum).
static inline void softmax_scores(float *sc, size_t visible) {
    float m = -INFINITY;
    for (size_t i = 0; i < visible; i++) m = sc[i] > m ? sc[i] : m;
    for (size_t i = 0; i < visible; i++) sc[i] = ck_expf(sc[i] - m);
    float inv = 1.0f / ck_rowsum(sc, visible);
    for (size_t i = 0; i < visible; i++) sc[i] = sc[i] * inv;
}

static void attention_portable(const float *q, size_t qs, size_t rows, size_t pos0, const ck_kv_segment *segs,
                               size_t nseg, size_t kvs, size_t hd, float scale, float *scratch, float *out,
                               size_t os) {
    float *sc = scratch;
    for (size_t r = 0; r < rows; r++) {
        const size_t visible = pos0 + r + 1;
        const float *qr = q + r * qs;
        size_t j = 0;
        for (size_t g = 0; g < nseg && j < visible; g++) {
            size_t take = segs[g].len < visible - j ? segs[g].len : visible - j;
            for (size_t t = 0; t < take; t++) {
                const float *k = segs[g].k + t * kvs;
                float acc = 0.0f;
                for (size_t d = 0; d < hd; d++) acc = __builtin_fmaf(qr[d], k[d], acc);
                sc[j++] = acc * scale;
            }
        }
        softmax_scores(sc, visible);
        float *o = out + r * os;
        for (size_t d = 0; d < hd; d++) {
            float acc = 0.0f;
            j = 0;
            for (size_t g = 0; g < nseg && j < visible; g++) {
                size_t take = segs[g].len < visible - j ? segs[g].len : visible - j;
                for (size_t t = 0; t < take; t++) acc = __builtin_fmaf(sc[j++], segs[g].v[t * kvs + d], acc);
            }
            o[d] = acc;
        }
    }
}

#if defined(__x86_64__)
#include <immintrin.h>
#define T __attribute__((target("avx2,fma")))

T static inline void transpose8x8(__m256 *r) {
    __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    r[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
    r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
    r[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
    r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
    r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
    r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
    r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
    r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

// out[d] (+)= chain over the visible keys of p_j · v_j[d], for NV vectors of 8 columns from d0.
#define PV_BLOCK(NV)                                                                                     \
    T static void pv_##NV(const float *p, size_t visible, const ck_kv_segment *segs, size_t nseg,        \
                          size_t kvs, size_t d0, float *o) {                                             \
        __m256 acc[NV];                                                                                  \
        for (int c = 0; c < NV; c++) acc[c] = _mm256_setzero_ps();                                       \
        size_t j = 0;                                                                                    \
        for (size_t g = 0; g < nseg && j < visible; g++) {                                               \
            size_t take = segs[g].len < visible - j ? segs[g].len : visible - j;                         \
            const float *v = segs[g].v + d0;                                                             \
            for (size_t t = 0; t < take; t++) {                                                          \
                const __m256 pj = _mm256_broadcast_ss(p + j++);                                          \
                for (int c = 0; c < NV; c++)                                                             \
                    acc[c] = _mm256_fmadd_ps(pj, _mm256_loadu_ps(v + t * kvs + 8 * c), acc[c]);          \
            }                                                                                            \
        }                                                                                                \
        for (int c = 0; c < NV; c++) _mm256_storeu_ps(o + d0 + 8 * c, acc[c]);                           \
    }
PV_BLOCK(8)
PV_BLOCK(4)
PV_BLOCK(2)
PV_BLOCK(1)

T static void attention_avx2(const float *q, size_t qs, size_t rows, size_t pos0, const ck_kv_segment *segs,
                             size_t nseg, size_t kvs, size_t hd, float scale, float *scratch, float *out, size_t os) {
    const size_t V = pos0 + rows, Vp = keys_padded(V);
    float *kt = scratch, *sc = scratch + hd * Vp;
    // Keys 0..V-1 transposed into kt[d * Vp + j]; columns V..Vp-1 zero.
    size_t j0 = 0;
    for (size_t g = 0; g < nseg && j0 < V; g++) {
        size_t take = segs[g].len < V - j0 ? segs[g].len : V - j0;
        const float *k = segs[g].k;
        size_t t = 0;
        for (; t + 8 <= take; t += 8) {
            size_t d = 0;
            for (; d + 8 <= hd; d += 8) {
                __m256 r[8];
                for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(k + (t + i) * kvs + d);
                transpose8x8(r);
                for (int i = 0; i < 8; i++) _mm256_storeu_ps(kt + (d + i) * Vp + j0 + t, r[i]);
            }
            for (; d < hd; d++)
                for (int i = 0; i < 8; i++) kt[d * Vp + j0 + t + i] = k[(t + i) * kvs + d];
        }
        for (; t < take; t++)
            for (size_t d = 0; d < hd; d++) kt[d * Vp + j0 + t] = k[t * kvs + d];
        j0 += take;
    }
    for (size_t d = 0; d < hd; d++)
        for (size_t j = V; j < Vp; j++) kt[d * Vp + j] = 0.0f;

    const __m256 vscale = _mm256_set1_ps(scale);
    for (size_t r = 0; r < rows; r++) {
        const size_t visible = pos0 + r + 1;
        const float *qr = q + r * qs;
        size_t jb = 0;
        for (; jb + 16 < visible; jb += 32) {
            __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
            const float *col = kt + jb;
            for (size_t d = 0; d < hd; d++, col += Vp) {
                const __m256 qd = _mm256_broadcast_ss(qr + d);
                a0 = _mm256_fmadd_ps(qd, _mm256_loadu_ps(col), a0);
                a1 = _mm256_fmadd_ps(qd, _mm256_loadu_ps(col + 8), a1);
                a2 = _mm256_fmadd_ps(qd, _mm256_loadu_ps(col + 16), a2);
                a3 = _mm256_fmadd_ps(qd, _mm256_loadu_ps(col + 24), a3);
            }
            _mm256_storeu_ps(sc + jb, _mm256_mul_ps(a0, vscale));
            _mm256_storeu_ps(sc + jb + 8, _mm256_mul_ps(a1, vscale));
            _mm256_storeu_ps(sc + jb + 16, _mm256_mul_ps(a2, vscale));
            _mm256_storeu_ps(sc + jb + 24, _mm256_mul_ps(a3, vscale));
        }
        for (; jb < visible; jb += 8) {
            __m256 a0 = _mm256_setzero_ps();
            const float *col = kt + jb;
            for (size_t d = 0; d < hd; d++, col += Vp) a0 = _mm256_fmadd_ps(_mm256_broadcast_ss(qr + d), _mm256_loadu_ps(col), a0);
            _mm256_storeu_ps(sc + jb, _mm256_mul_ps(a0, vscale));
        }
        softmax_scores(sc, visible);
        float *o = out + r * os;
        size_t d0 = 0;
        for (; d0 + 64 <= hd; d0 += 64) pv_8(sc, visible, segs, nseg, kvs, d0, o);
        for (; d0 + 32 <= hd; d0 += 32) pv_4(sc, visible, segs, nseg, kvs, d0, o);
        for (; d0 + 16 <= hd; d0 += 16) pv_2(sc, visible, segs, nseg, kvs, d0, o);
        for (; d0 + 8 <= hd; d0 += 8) pv_1(sc, visible, segs, nseg, kvs, d0, o);
        for (; d0 < hd; d0++) {
            float acc = 0.0f;
            size_t j = 0;
            for (size_t g = 0; g < nseg && j < visible; g++) {
                size_t take = segs[g].len < visible - j ? segs[g].len : visible - j;
                for (size_t t = 0; t < take; t++) acc = __builtin_fmaf(sc[j++], segs[g].v[t * kvs + d0], acc);
            }
            o[d0] = acc;
        }
    }
}
#endif

void ck_causal_attention(const float *q, size_t qs, size_t rows, size_t pos0, const ck_kv_segment *segs, size_t nseg,
                         size_t kvs, size_t hd, float scale, float *scratch, float *out, size_t os) {
#if defined(__x86_64__)
    if (ck_kernel_path() >= CK_PATH_AVX2) {
        attention_avx2(q, qs, rows, pos0, segs, nseg, kvs, hd, scale, scratch, out, os);
        return;
    }
#endif
    attention_portable(q, qs, rows, pos0, segs, nseg, kvs, hd, scale, scratch, out, os);
}
