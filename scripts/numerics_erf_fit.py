#!/usr/bin/env python3
"""Fits the coefficients of ck_erff (Sources/System/CKernels/numerics.h) and measures its error.

Purpose: a build tool, never run by the product. It derives the float32 erf the engine uses for GELU
(numerics n2: no libm in the forward path) and checks the bound the header states.

Method: least-squares polynomial fits in double precision on 4000 Chebyshev nodes per interval, with
mpmath (40 digits) as the reference:
  |x| < 0.875: erf(x) = x + x * R(x^2), R = (erf(x)/x fit of degree 9 in x^2) - 1;
  [0.875, 1.25), [1.25, 1.75), [1.75, 2.35), [2.35, 3.0), [3.0, 3.95): degree 11 in (x - centre);
  |x| >= 3.95: 1.
It then evaluates the float32 algorithm as the C code does (coefficients rounded to float32, Horner
steps as fused multiply-adds, emulated as one double operation rounded to float32) on 300,001 points of
[0, 4] and reports the worst error in ulps of the exact value (0.90 when the coefficients in numerics.h
were made).

Command (the versions used: Python 3.11, numpy 2.4.6, mpmath from /tmp/refenv):
  /tmp/refenv/bin/python scripts/numerics_erf_fit.py
"""
import mpmath
import numpy as np

mpmath.mp.dps = 40


def erf(x):
    return float(mpmath.erf(x))


def fit(f, a, b, deg, var):
    n = 4000
    xs = (a + b) / 2 + (b - a) / 2 * np.cos(np.pi * (np.arange(n) + 0.5) / n)
    ys = np.array([f(x) for x in xs])
    c, *_ = np.linalg.lstsq(np.vander(var(xs), deg + 1, increasing=True), ys, rcond=None)
    return c


f32 = np.float32


def fma32(a, b, c):
    return f32(np.float64(a) * np.float64(b) + np.float64(c))


def horner32(c, t):
    acc = f32(c[-1])
    for k in range(len(c) - 2, -1, -1):
        acc = fma32(acc, t, f32(c[k]))
    return acc


def main():
    small = fit(lambda x: erf(x) / x, 1e-9, 0.875, 9, lambda x: x * x)
    small_r = list(small)
    small_r[0] -= 1.0
    pieces = []
    for a, b in [(0.875, 1.25), (1.25, 1.75), (1.75, 2.35), (2.35, 3.0), (3.0, 3.95)]:
        centre = (a + b) / 2
        pieces.append((b, centre, fit(erf, a, b, 11, lambda x, c=centre: x - c)))

    def erf32(x):
        if x < 0.875:
            return fma32(x, horner32(small_r, f32(x * x)), x)
        if x >= 3.95:
            return f32(1.0)
        for b, centre, c in pieces:
            if x < b:
                return min(horner32(c, f32(x - f32(centre))), f32(1.0))

    rng = np.random.default_rng(0)
    test = np.concatenate([np.linspace(0, 4, 200001, dtype=np.float32), rng.uniform(0, 4, 100000).astype(np.float32)])
    worst, at = 0.0, 0.0
    for x in test:
        want = float(mpmath.erf(mpmath.mpf(float(x))))
        err = abs(float(erf32(f32(x))) - want) / float(np.spacing(f32(want)))
        if err > worst:
            worst, at = err, float(x)
    print(f"worst error {worst:.3f} ulp at x = {at}")
    print("R(t), t = x^2, increasing powers (the constant term is erf(x)/x at 0 minus 1):")
    print(", ".join("%.17g" % v for v in small_r))
    for b, centre, c in pieces:
        print(f"below {b}, centre {centre}:", ", ".join("%.17g" % v for v in c))


if __name__ == "__main__":
    main()
