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
#endif
