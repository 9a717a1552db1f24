// Causal attention of the language model, one query row at a time, over keys and values that may
// live in several segments (a shared prompt prefix, an image prefix, the question's own positions).
//
// Why not two sgemm calls per block of rows: the result for a query row must not depend on which
// other rows are in the call or on how the keys are split into segments, so that a question
// answered on top of a reused prefix gets bit for bit the logits it gets alone. BLAS gives no such
// promise (its K blocking follows the matrix sizes). Here every row is computed the same way: dot
// products in a fixed order over the head dimension, softmax over exactly the visible keys in
// position order, and the weighted sum of values accumulated key by key in position order.
#include "CKernels.h"
#include <math.h>
#include <string.h>
#include "fast_exp.h"


#define ATTENTION(SUFFIX, ATTR)                                                                        \
ATTR static float dot_##SUFFIX(const float *a, const float *b, size_t n) {                             \
    float p[8] = {0, 0, 0, 0, 0, 0, 0, 0};                                                             \
    size_t i = 0;                                                                                      \
    for (; i + 8 <= n; i += 8)                                                                         \
        for (int l = 0; l < 8; l++) p[l] += a[i + l] * b[i + l];                                       \
    float s = ((p[0] + p[1]) + (p[2] + p[3])) + ((p[4] + p[5]) + (p[6] + p[7]));                        \
    for (; i < n; i++) s += a[i] * b[i];                                                               \
    return s;                                                                                          \
}                                                                                                      \
ATTR static void attention_##SUFFIX(const float *q, size_t qs, size_t rows, size_t pos0,                \
                                    const ck_kv_segment *segs, size_t nseg, size_t kvs, size_t hd,      \
                                    float scale, float *scores, float *out, size_t os) {                \
    for (size_t r = 0; r < rows; r++) {                                                                \
        const size_t visible = pos0 + r + 1;                                                           \
        const float *qr = q + r * qs;                                                                  \
        size_t j = 0;                                                                                  \
        for (size_t g = 0; g < nseg && j < visible; g++) {                                             \
            size_t take = segs[g].len < visible - j ? segs[g].len : visible - j;                       \
            for (size_t t = 0; t < take; t++) scores[j++] = dot_##SUFFIX(qr, segs[g].k + t * kvs, hd) * scale; \
        }                                                                                              \
        float m = -INFINITY;                                                                           \
        for (size_t i = 0; i < j; i++) m = scores[i] > m ? scores[i] : m;                              \
        float sum = 0.f;                                                                               \
        for (size_t i = 0; i < j; i++) { float e = ck_expf(scores[i] - m); scores[i] = e; sum += e; } \
        const float inv = 1.0f / sum;                                                                  \
        float *o = out + r * os;                                                                       \
        for (size_t d = 0; d < hd; d++) o[d] = 0.f;                                                    \
        j = 0;                                                                                         \
        for (size_t g = 0; g < nseg && j < visible; g++) {                                             \
            size_t take = segs[g].len < visible - j ? segs[g].len : visible - j;                       \
            for (size_t t = 0; t < take; t++) {                                                        \
                const float p = scores[j++] * inv;                                                     \
                const float *v = segs[g].v + t * kvs;                                                  \
                for (size_t d = 0; d < hd; d++) o[d] += p * v[d];                                      \
            }                                                                                          \
        }                                                                                              \
    }                                                                                                  \
}

#if defined(__x86_64__)
ATTENTION(avx2, __attribute__((target("avx2,fma"))))
#endif
ATTENTION(base, )

void ck_causal_attention(const float *q, size_t qs, size_t rows, size_t pos0, const ck_kv_segment *segs, size_t nseg,
                         size_t kvs, size_t hd, float scale, float *scores, float *out, size_t os) {
#if defined(__x86_64__)
    static int avx2 = -1;
    if (avx2 < 0) avx2 = ck_has_avx2() && __builtin_cpu_supports("fma");
    if (avx2) { attention_avx2(q, qs, rows, pos0, segs, nseg, kvs, hd, scale, scores, out, os); return; }
#endif
    attention_base(q, qs, rows, pos0, segs, nseg, kvs, hd, scale, scores, out, os);
}
