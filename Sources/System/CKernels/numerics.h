// The building blocks of the engine's arithmetic (numerics version "n2", defined in CKernels.h):
// exp, erf and the row-sum tree, written once and used by every kernel path. Private to CKernels.
//
// Everything here is plain float32 C. The whole target compiles with -ffp-contract=off, so each
// `+`, `*`, `/` is one IEEE operation and the only fused operations are the explicit fmaf calls.
// The same source compiled for baseline x86-64 and for AVX2 (or vectorised by the compiler across
// elements) therefore gives the same bits: vectorising an element-wise loop changes no rounding.
#ifndef CK_NUMERICS_H
#define CK_NUMERICS_H
#include <stdint.h>
#include <string.h>

static inline float ck_bits_float(uint32_t b) { float f; memcpy(&f, &b, 4); return f; }
static inline uint32_t ck_float_bits(float f) { uint32_t b; memcpy(&b, &f, 4); return b; }

// Round to the nearest integer (ties to even) for |v| < 2^22, with two IEEE additions: the same bits
// on every path (libm's roundf has its own tie rule and is not vectorised the same way everywhere).
static inline float ck_round_int(float v) {
    const float magic = 12582912.0f; // 1.5 * 2^23
    return (v + magic) - magic;
}

// exp(x), float32, ~1 ulp: x = n·ln2 + r with |r| <= ln2/2 (ln2 split in two parts), a degree-6
// polynomial for e^r, then scaling by 2^n through the exponent bits. Results that would be
// subnormal flush to +0 (so masked scores of -inf give exactly 0); overflow saturates at 2^128 = inf.
static inline float ck_expf(float x) {
    int underflow = x < -87.3365447504f;
    if (x > 88.3762626647949f) x = 88.3762626647949f;
    if (underflow) x = 0.f;
    float n = ck_round_int(x * 1.44269504088896341f);
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
    float scale = ck_bits_float((uint32_t)e << 23);
    return underflow ? 0.f : p * scale;
}

// erf(x), float32, within 0.91 ulp of the exact value over all floats (scripts/numerics_erf_fit.py fits
// the coefficients and measures that bound). Odd; |x| < 0.875: x + x·R(x²); then four polynomials in
// (|x| - centre) on [0.875, 1.25), [1.25, 1.75), [1.75, 2.35), [2.35, 3), [3, 3.95); 1 beyond (erf
// rounds to 1 in float32 from 3.92 on). Horner steps are explicit fmaf.
static inline float ck_erff(float x) {
    float a = x < 0 ? -x : x, y;
    if (a < 0.875f) {
        float t = x * x;
        float r = -1.1658722225312002e-07f;
        r = __builtin_fmaf(r, t, 1.5751108521679102e-06f);
        r = __builtin_fmaf(r, t, -1.4864500559080146e-05f);
        r = __builtin_fmaf(r, t, 0.00012052126540695873f);
        r = __builtin_fmaf(r, t, -0.00085482228562647894f);
        r = __builtin_fmaf(r, t, 0.0052239755744731831f);
        r = __builtin_fmaf(r, t, -0.026866170415800347f);
        r = __builtin_fmaf(r, t, 0.11283791669685067f);
        r = __builtin_fmaf(r, t, -0.37612638903158258f);
        r = __builtin_fmaf(r, t, 0.1283791670955121f); // 1.1283791670955121 - 1
        return __builtin_fmaf(x, r, x);
    }
    if (a >= 3.95f) {
        y = 1.0f;
    } else {
        static const float c[5][12] = {
            {0.86705826943495279f, 0.36490289117800423f, -0.38770932187696933f, 0.1529931392699502f,
             0.04795883550005435f, -0.066280446830055254f, 0.010685288647464548f, 0.012537307872655015f,
             -0.0056191914108817825f, -0.0011109895870941805f, 0.0012165323788713668f, -5.3526868177167475e-05f},
            {0.96610514647530799f, 0.11893028922362595f, -0.17839543383293649f, 0.13875200409571475f,
             -0.044598858928026119f, -0.014866286343413292f, 0.019326204110024538f, -0.0047430426870524473f,
             -0.0023636723498796112f, 0.001709537317240252f, -7.8660815646095135e-05f, -0.0002508137412117954f},
            {0.99625809604445703f, 0.016878447574762635f, -0.03460081752887572f, 0.041661634756667898f,
             -0.03116956970351421f, 0.013060557418095291f, -0.00061283272174957818f, -0.0027507375043484676f,
             0.0015411542220897499f, -0.00016674250869101872f, -0.00020640639281870857f, 0.00010005428829058818f},
            {0.99984506383710936f, 0.00088065662639076527f, -0.0023557564776818035f, 0.0039075468435886881f,
             -0.0044410915139341438f, 0.0035797037929810437f, -0.0020076207656482162f, 0.00068208870836309796f,
             -2.5772922753624809e-05f, -0.00011737022449160087f, 6.5949703359885486e-05f, -1.232897424974794e-05f},
            {0.99999910941653114f, 6.4280280872640143e-06f, -2.2337384563566707e-05f, 4.9605609957478179e-05f,
             -7.8744624955080149e-05f, 9.4573058140339918e-05f, -8.8535866457005691e-05f, 6.5388918248601388e-05f,
             -3.7942978497196264e-05f, 1.6573883771874614e-05f, -4.347175847860238e-06f, 5.1019765414082807e-08f},
        };
        static const float centre[5] = {1.0625f, 1.5f, 2.05f, 2.675f, 3.475f};
        int i = a < 1.25f ? 0 : a < 1.75f ? 1 : a < 2.35f ? 2 : a < 3.0f ? 3 : 4;
        float h = a - centre[i];
        y = c[i][11];
        for (int k = 10; k >= 0; k--) y = __builtin_fmaf(y, h, c[i][k]);
        if (y > 1.0f) y = 1.0f;
    }
    return x < 0 ? -y : y;
}

// The row-sum order ("R16"): element i of a row goes to partial i mod 16; each partial is a
// sequential chain in i order starting from +0; then the tree p[l] + p[l+8] (l < 8), + p[l+4] (l < 4),
// + p[l+2] (l < 2), p[0] + p[1]. 8-wide code keeps the partials in two vectors (lanes 0-7, 8-15) and
// its horizontal sum is exactly this tree; 16-wide code keeps one vector; 4-wide code four.
static inline float ck_tree16(float *p) {
    for (int l = 0; l < 8; l++) p[l] = p[l] + p[l + 8];
    for (int l = 0; l < 4; l++) p[l] = p[l] + p[l + 4];
    for (int l = 0; l < 2; l++) p[l] = p[l] + p[l + 2];
    return p[0] + p[1];
}

// Σ x[i] in the R16 order.
static inline float ck_rowsum(const float *x, size_t n) {
    float p[16] = {0};
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int l = 0; l < 16; l++) p[l] = p[l] + x[i + l];
    for (; i < n; i++) p[i & 15] = p[i & 15] + x[i];
    return ck_tree16(p);
}

// Σ (x[i] - c)² in the R16 order, each partial an fmaf chain (c = 0 for RMSNorm's sum of squares).
static inline float ck_rowsum_sq(const float *x, size_t n, float c) {
    float p[16] = {0};
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int l = 0; l < 16; l++) {
            float d = x[i + l] - c;
            p[l] = __builtin_fmaf(d, d, p[l]);
        }
    for (; i < n; i++) {
        float d = x[i] - c;
        p[i & 15] = __builtin_fmaf(d, d, p[i & 15]);
    }
    return ck_tree16(p);
}

#endif
