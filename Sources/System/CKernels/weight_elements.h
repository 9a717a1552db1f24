// Converting weight elements stored as fp16, bf16 or fp32 (and rounding to bf16): shared by the streaming Linear
// kernels (linear.c) and the packed prefill GEMM (packed_gemm.c). Private to CKernels.
#ifndef CK_WEIGHT_ELEMENTS_H
#define CK_WEIGHT_ELEMENTS_H
#include "CKernels.h"
#include <stdint.h>
#include <string.h>

// Scalar conversions (portable path and loop tails).

static inline float lin_bits_to_float(uint32_t bits) {
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

// binary16 -> float32, exact. Finite values are placed in a float32 whose exponent is 112 too
// small and rescaled by 2^112, which also renormalises half subnormals without a loop.
static inline float lin_f16(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t em = h & 0x7fffu;
    if (em >= 0x7c00u) return lin_bits_to_float(sign | 0x7f800000u | ((em & 0x3ffu) << 13));
    float mag = lin_bits_to_float(em << 13) * 0x1p112f;
    uint32_t bits;
    memcpy(&bits, &mag, 4);
    return lin_bits_to_float(bits | sign);
}

static inline float lin_bf16(uint16_t h) { return lin_bits_to_float((uint32_t)h << 16); }

static inline uint16_t lin_to_bf16(float f) {
    uint32_t bits;
    memcpy(&bits, &f, 4);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((bits >> 16) | 0x0040u); // quiet NaN
    bits += 0x7fffu + ((bits >> 16) & 1u);
    return (uint16_t)(bits >> 16);
}

static inline float lin_weight(int dtype, const void *w, size_t i) {
    switch (dtype) {
    case CK_DT_F16: return lin_f16(((const uint16_t *)w)[i]);
    case CK_DT_BF16: return lin_bf16(((const uint16_t *)w)[i]);
    default: return ((const float *)w)[i];
    }
}

#if defined(__x86_64__)
#include <immintrin.h>
// Eight consecutive elements widened to float32 (callers compile with target avx2,f16c).
#define LD_F16_256(p) _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p)))
#define LD_BF16_256(p) \
    _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(p))), 16))
#define LD_F32_256(p) _mm256_loadu_ps(p)
#endif
#endif
