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

// VisPruner's similarity arithmetic in the reference's float32 rounding order (see reference_float32.c).
float ck_ref_norm(const float *x, size_t d);
// g [m × m] = x · xᵀ for x [m × d]; scratch must hold d × ceil(m/32)·32 floats (or be NULL: portable path).
void ck_ref_gram(const float *x, size_t m, size_t d, float *g, float *scratch);
#endif
