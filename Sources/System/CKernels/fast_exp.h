#ifndef CK_FAST_EXP_H
#define CK_FAST_EXP_H
#include <string.h>

// exp with range reduction to [-ln2/2, ln2/2] and a degree-6 polynomial (~1 ulp), written so the
// compiler can vectorise loops calling it (libm's expf is not vectorisable here).
static inline float ck_expf(float x) {
    // Below this the result is subnormal; flushing to 0 keeps masked (-inf) scores exactly 0.
    int underflow = x < -87.3365447504f;
    if (x > 88.3762626647949f) x = 88.3762626647949f;
    if (underflow) x = 0.f;
    float n = __builtin_roundf(x * 1.44269504088896341f);
    float r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int e = (int)n + 127;
    unsigned int bits = (unsigned int)e << 23;
    float scale;
    memcpy(&scale, &bits, 4);
    return underflow ? 0.f : p * scale;
}

#endif
