// RoPE tables (rule E of CKernels.h): pow, sin and cos in our own double-precision code, each result
// rounded once to float32. Double precision leaves ~29 spare bits, so the float32 results are the
// correctly rounded values except in (vanishingly rare) near-ties, and they are the same on every
// machine: only IEEE +, -, *, / on doubles, no libm. Tables are built once per forward call, so
// speed does not matter here.
#include "CKernels.h"
#include <stdint.h>
#include <string.h>

static double bits_double(uint64_t b) { double d; memcpy(&d, &b, 8); return d; }
static uint64_t double_bits(double d) { uint64_t b; memcpy(&b, &d, 8); return b; }

// Nearest integer (ties to even) for |v| < 2^51.
static double round_int(double v) {
    const double magic = 6755399441055744.0; // 1.5 * 2^52
    return (v + magic) - magic;
}

// ln 2 = LN2_HI + LN2_LO, LN2_HI with 32 significant bits (n * LN2_HI is exact for |n| < 2^21).
static const double LN2_HI = 0.6931471806019545, LN2_LO = -4.2009150726810846e-11;

// e^x for |x| < 700: x = n ln2 + r, |r| <= ln2/2, Taylor series of e^r to r^13 (remainder < 1e-17).
double ck_dexp(double x) {
    if (x != x) return x;
    if (x > 709.0) return bits_double(0x7ff0000000000000ull);
    if (x < -708.0) return 0.0;
    double n = round_int(x * 1.4426950408889634);
    double r = (x - n * LN2_HI) - n * LN2_LO;
    double p = 1.0 / 6227020800.0; // 1/13!
    static const double inv_fact[13] = {1.0, 1.0, 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040,
                                        1.0 / 40320, 1.0 / 362880, 1.0 / 3628800, 1.0 / 39916800, 1.0 / 479001600};
    for (int k = 12; k >= 0; k--) p = p * r + inv_fact[k];
    int64_t e = (int64_t)n + 1023;
    return p * bits_double((uint64_t)e << 52);
}

// ln x for finite x > 0 (normal): x = m 2^e with m in [sqrt(1/2), sqrt 2), ln m = 2 atanh(s),
// s = (m - 1)/(m + 1), |s| <= 0.172, series to s^23 (remainder < 1e-19).
double ck_dlog(double x) {
    if (!(x > 0)) return x == 0 ? -bits_double(0x7ff0000000000000ull) : bits_double(0x7ff8000000000000ull);
    uint64_t b = double_bits(x);
    int64_t e = (int64_t)((b >> 52) & 0x7ff) - 1023;
    double m = bits_double((b & 0x000fffffffffffffull) | 0x3ff0000000000000ull);
    if (m > 1.4142135623730951) { m = m * 0.5; e += 1; }
    double s = (m - 1.0) / (m + 1.0), s2 = s * s;
    double p = 1.0 / 23;
    for (int k = 21; k >= 1; k -= 2) p = p * s2 + 1.0 / k;
    double lm = 2.0 * s * p;
    double de = (double)e;
    return de * LN2_HI + (de * LN2_LO + lm);
}

// π/2 = P1 + P2 + P3, P1 and P2 with 30 significant bits (k·P1, k·P2 exact for |k| < 2^23).
static const double P1 = 1.5707963276654482, P2 = -8.705515692000731e-10, P3 = -3.50343439808993e-19;

// x = k π/2 + r, |r| <= π/4 (Cody–Waite, valid for |x| < 2^22); sin r and cos r by Taylor series.
static void sincos_reduced(double x, double *s, double *c) {
    double k = round_int(x * 0.6366197723675814);
    double r = ((x - k * P1) - k * P2) - k * P3;
    double r2 = r * r;
    // sin r = r (1 - r²/3! + ... ) to r^21, cos r = 1 - r²/2! + ... to r^20.
    double ps = 1.0 / 51090942171709440000.0; // 1/21!
    static const double sin_c[10] = {1.0, -1.0 / 6, 1.0 / 120, -1.0 / 5040, 1.0 / 362880, -1.0 / 39916800,
                                     1.0 / 6227020800.0, -1.0 / 1307674368000.0, 1.0 / 355687428096000.0,
                                     -1.0 / 121645100408832000.0};
    for (int i = 9; i >= 0; i--) ps = ps * r2 + sin_c[i];
    double pc = 1.0 / 2432902008176640000.0; // 1/20!
    static const double cos_c[10] = {1.0, -1.0 / 2, 1.0 / 24, -1.0 / 720, 1.0 / 40320, -1.0 / 3628800,
                                     1.0 / 479001600, -1.0 / 87178291200.0, 1.0 / 20922789888000.0,
                                     -1.0 / 6402373705728000.0};
    for (int i = 9; i >= 0; i--) pc = pc * r2 + cos_c[i];
    double sr = r * ps, cr = pc;
    int64_t q = (int64_t)k & 3;
    switch (q) {
    case 0: *s = sr; *c = cr; break;
    case 1: *s = cr; *c = -sr; break;
    case 2: *s = -sr; *c = -cr; break;
    default: *s = -cr; *c = sr; break;
    }
}

double ck_dsin(double x) { double s, c; sincos_reduced(x, &s, &c); return s; }
double ck_dcos(double x) { double s, c; sincos_reduced(x, &s, &c); return c; }

void ck_rope_inv_freq(float theta, size_t d, float *inv_freq) {
    for (size_t i = 0; i < d / 2; i++) {
        // torch: 1.0 / (base ** (torch.arange(0, dim, 2).float() / dim)), all in float32.
        float expo = (float)(2 * i) / (float)d;
        float p = (float)ck_dexp((double)expo * ck_dlog((double)theta));
        inv_freq[i] = 1.0f / p;
    }
}

void ck_rope_tables(const int64_t *positions, size_t rows, const float *inv_freq, size_t half, float *cos_t,
                    float *sin_t) {
    for (size_t r = 0; r < rows; r++) {
        float t = (float)positions[r];
        for (size_t i = 0; i < half; i++) {
            float angle = t * inv_freq[i];
            double s, c;
            sincos_reduced((double)angle, &s, &c);
            cos_t[r * half + i] = (float)c;
            sin_t[r * half + i] = (float)s;
        }
    }
}
