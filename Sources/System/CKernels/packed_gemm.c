// The AVX2 implementation of rule P1 (CKernels.h) for every product of the forward path:
// c[r, o] = chain_k(a[r, k] * B(k, o)) (+ bias[o]), lanes across output columns o.
//
// B (weights in their stored fp16/bf16/f32 form, keys, or values) is widened and packed block by
// block (KC deep, NC wide) into slivers of NR = 16 columns, each [kl][16]; A is packed into slivers
// of MR = 6 rows. A register-blocked kernel runs the chains: per k step one broadcast of a[r, k] and
// one FMA per 8 columns. The accumulators start at +0 in the first K block and are reloaded from c in
// every later one, so each output stays ONE fmaf chain over k in order (the same bits as the portable
// loop in matmul.c), whatever the blocking, the row count or the thread count.
#include "CKernels.h"
#include "weight_elements.h"
#include <stdint.h>
#include <string.h>

#define MR 6
#define NR 16
#define KC 256
#define NC 192
// Rows of A swept per W block: 120 × KC floats (120 KiB) stay in L2 beside the packed W block
// (KC × NC, 192 KiB), so the kernel's A slivers never come from L3.
#define MC 120

// Floats per packed B block, one block per thread.
#define BPACK (KC * NC)

static size_t padded_rows(size_t m) { return (m + MR - 1) / MR * MR; }

// Packed A, then 16-float alignment slack, then one packed B block per thread.
size_t ck_packed_scratch(size_t m, size_t k, int threads) {
    return padded_rows(m) * k + 16 + (size_t)(threads < 1 ? 1 : threads) * BPACK;
}

#if defined(__x86_64__)
#include <immintrin.h>
#define T __attribute__((target("avx2,fma,f16c")))

// A packed per K block p (offset p·mpad): slivers of MR rows, each [kl][MR]; rows past m are zero.
static void pack_a(const float *a, size_t lda, size_t m, size_t k, float *dst) {
    size_t mpad = padded_rows(m);
    for (size_t p0 = 0; p0 < k; p0 += KC) {
        size_t kl = k - p0 < KC ? k - p0 : KC;
        float *block = dst + p0 * mpad;
        for (size_t s = 0; s < mpad; s += MR) {
            float *o = block + s * kl;
            for (size_t r = 0; r < MR; r++) {
                const float *src = s + r < m ? a + (s + r) * lda + p0 : NULL;
                for (size_t kk = 0; kk < kl; kk++) o[kk * MR + r] = src ? src[kk] : 0.0f;
            }
        }
    }
}

T static inline __m256 load8(int dt, const void *w, size_t i) {
    if (dt == CK_DT_F16) return LD_F16_256((const uint16_t *)w + i);
    if (dt == CK_DT_BF16) return LD_BF16_256((const uint16_t *)w + i);
    return LD_F32_256((const float *)w + i);
}

T static inline void transpose8(__m256 *r) {
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

// B columns [j0, j0 + nl) × k in [p0, p0 + kl), widened, as slivers of NR columns each [kl][NR]
// (columns past nl are zero). CK_B_ROWS (column o is row o of b): full slivers go 8×8 blocks at a
// time through a register transpose. CK_B_COLS (row k of b holds the columns): plain copies.
T static void pack_b(int dt, int layout, const void *w, size_t ldb, size_t j0, size_t nl, size_t p0, size_t kl,
                     float *dst) {
    for (size_t s = 0; s < nl; s += NR) {
        float *o = dst + s * kl;
        size_t cols = nl - s < NR ? nl - s : NR;
        if (layout == CK_B_COLS) {
            const float *b = (const float *)w;
            for (size_t kk = 0; kk < kl; kk++) {
                const float *row = b + (p0 + kk) * ldb + j0 + s;
                if (cols == NR) {
                    _mm256_store_ps(o + kk * NR, _mm256_loadu_ps(row));
                    _mm256_store_ps(o + kk * NR + 8, _mm256_loadu_ps(row + 8));
                } else {
                    for (size_t i = 0; i < NR; i++) o[kk * NR + i] = i < cols ? row[i] : 0.0f;
                }
            }
            continue;
        }
        if (layout == CK_B_PANELS) {
            // Sliver s is panel (j0 + s) / 16 (j0 is a multiple of 16): widen 16 contiguous elements per k.
            size_t base = ((j0 + s) / NR * ldb + p0) * NR;
            for (size_t kk = 0; kk < kl; kk++) {
                _mm256_store_ps(o + kk * NR, load8(dt, w, base + kk * NR));
                _mm256_store_ps(o + kk * NR + 8, load8(dt, w, base + kk * NR + 8));
            }
            continue;
        }
        size_t kk = 0;
        if (cols == NR) {
            for (; kk + 8 <= kl; kk += 8) {
                for (size_t h = 0; h < 2; h++) {
                    __m256 r[8];
                    for (int i = 0; i < 8; i++) r[i] = load8(dt, w, (j0 + s + h * 8 + i) * ldb + p0 + kk);
                    transpose8(r);
                    for (int i = 0; i < 8; i++) _mm256_store_ps(o + (kk + i) * NR + h * 8, r[i]);
                }
            }
        }
        for (; kk < kl; kk++)
            for (size_t i = 0; i < NR; i++)
                o[kk * NR + i] = i < cols ? lin_weight(dt, w, (j0 + s + i) * ldb + p0 + kk) : 0.0f;
    }
}

// ---- Kernels. `first`: the chains start at +0 (first K block); otherwise they continue from c.

#define LOAD_ROW(r, lo, hi)                                                                \
    do {                                                                                   \
        lo = first ? _mm256_setzero_ps() : _mm256_loadu_ps(c + (r) * ldc);                 \
        hi = first ? _mm256_setzero_ps() : _mm256_loadu_ps(c + (r) * ldc + 8);             \
    } while (0)
#define STORE_ROW(r, lo, hi)                        \
    do {                                            \
        _mm256_storeu_ps(c + (r) * ldc, lo);        \
        _mm256_storeu_ps(c + (r) * ldc + 8, hi);    \
    } while (0)
#define FMA_ROW(r, lo, hi)                                      \
    do {                                                        \
        const __m256 ar_ = _mm256_broadcast_ss(a + (r));        \
        lo = _mm256_fmadd_ps(ar_, b0, lo);                      \
        hi = _mm256_fmadd_ps(ar_, b1, hi);                      \
    } while (0)
#define EACH_ROW(OP) OP(0, c00, c01); OP(1, c10, c11); OP(2, c20, c21); OP(3, c30, c31); OP(4, c40, c41); OP(5, c50, c51)

// A full 6×16 tile. Twelve named accumulators and six separate broadcasts: written any other way (an
// accumulator array, reused broadcast registers) clang shuffled and spilled registers in the loop and
// the kernel ran at half speed.
T static void kernel_6x16(size_t kl, const float *a, const float *b, float *c, size_t ldc, int first) {
    __m256 c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
    EACH_ROW(LOAD_ROW);
    for (size_t kk = 0; kk < kl; kk++) {
        const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
        EACH_ROW(FMA_ROW);
        a += MR;
        b += NR;
    }
    EACH_ROW(STORE_ROW);
}

// R < 6 rows × S full slivers (S·16 columns), 2·R·S ≤ 12 accumulators: few rows (decode steps) still
// keep enough independent chains in flight to cover the FMA latency. Sliver s starts bs floats after
// sliver s - 1 in the packed block.
#define SMALL_KERNEL(R, S)                                                                                   \
    T static void kernel_##R##x##S(size_t kl, const float *a, const float *b, size_t bs, float *c, size_t ldc, \
                                   int first) {                                                              \
        __m256 acc[R][S][2];                                                                                 \
        for (int r = 0; r < R; r++)                                                                          \
            for (int s = 0; s < S; s++)                                                                      \
                for (int h = 0; h < 2; h++)                                                                  \
                    acc[r][s][h] = first ? _mm256_setzero_ps() : _mm256_loadu_ps(c + r * ldc + s * NR + h * 8); \
        for (size_t kk = 0; kk < kl; kk++) {                                                                 \
            for (int s = 0; s < S; s++) {                                                                    \
                const __m256 b0 = _mm256_load_ps(b + s * bs + kk * NR), b1 = _mm256_load_ps(b + s * bs + kk * NR + 8); \
                for (int r = 0; r < R; r++) {                                                                \
                    const __m256 ar = _mm256_broadcast_ss(a + kk * MR + r);                                  \
                    acc[r][s][0] = _mm256_fmadd_ps(ar, b0, acc[r][s][0]);                                    \
                    acc[r][s][1] = _mm256_fmadd_ps(ar, b1, acc[r][s][1]);                                    \
                }                                                                                            \
            }                                                                                                \
        }                                                                                                    \
        for (int r = 0; r < R; r++)                                                                          \
            for (int s = 0; s < S; s++)                                                                      \
                for (int h = 0; h < 2; h++) _mm256_storeu_ps(c + r * ldc + s * NR + h * 8, acc[r][s][h]);   \
    }
SMALL_KERNEL(1, 6)
SMALL_KERNEL(2, 3)
SMALL_KERNEL(3, 2)
SMALL_KERNEL(4, 1)
SMALL_KERNEL(5, 1)

// Slivers each small kernel takes at once.
static const size_t small_slivers[MR] = {0, 6, 3, 2, 1, 1};

// Any mr ≤ 6 rows × nr ≤ 16 columns (tile edges), through a 6×16 buffer.
T static void kernel_edge(size_t kl, const float *a, const float *b, float *c, size_t ldc, int first, size_t mr,
                          size_t nr) {
    float tile[MR * NR] __attribute__((aligned(32)));
    for (size_t r = 0; r < MR; r++)
        for (size_t j = 0; j < NR; j++) tile[r * NR + j] = !first && r < mr && j < nr ? c[r * ldc + j] : 0.0f;
    for (size_t kk = 0; kk < kl; kk++) {
        const __m256 b0 = _mm256_load_ps(b + kk * NR), b1 = _mm256_load_ps(b + kk * NR + 8);
        for (size_t r = 0; r < mr; r++) {
            const __m256 ar = _mm256_broadcast_ss(a + kk * MR + r);
            _mm256_store_ps(tile + r * NR, _mm256_fmadd_ps(ar, b0, _mm256_load_ps(tile + r * NR)));
            _mm256_store_ps(tile + r * NR + 8, _mm256_fmadd_ps(ar, b1, _mm256_load_ps(tile + r * NR + 8)));
        }
    }
    for (size_t r = 0; r < mr; r++)
        for (size_t j = 0; j < nr; j++) c[r * ldc + j] = tile[r * NR + j];
}

// Rows [ir, ir + mr) (mr < 6) × all nl columns of the packed block.
T static void small_rows(size_t kl, const float *a, const float *bpack, size_t nl, float *c, size_t ldc, int first,
                         size_t mr) {
    size_t S = small_slivers[mr], jr = 0;
    for (; jr + S * NR <= nl; jr += S * NR) {
        const float *b = bpack + jr * kl;
        float *cc = c + jr;
        switch (mr) {
        case 1: kernel_1x6(kl, a, b, NR * kl, cc, ldc, first); break;
        case 2: kernel_2x3(kl, a, b, NR * kl, cc, ldc, first); break;
        case 3: kernel_3x2(kl, a, b, NR * kl, cc, ldc, first); break;
        case 4: kernel_4x1(kl, a, b, NR * kl, cc, ldc, first); break;
        default: kernel_5x1(kl, a, b, NR * kl, cc, ldc, first); break;
        }
    }
    for (; jr < nl; jr += NR) {
        size_t nr = nl - jr < NR ? nl - jr : NR;
        kernel_edge(kl, a, bpack + jr * kl, c + jr, ldc, first, mr, nr);
    }
}

typedef struct {
    const ck_matmul_args *g;
    const float *apack;
    float *bpack;  // BPACK floats per part
} gemm_job;

// ---- Few rows (decode steps) with panel-packed weights: the kernels read the panels directly (16
// outputs side by side per k, widened in registers) with no B packing; all K blocks of A run in one
// call, so the chains stay in registers from k = 0 to the end. Rows go in chunks that stay inside one
// 6-row sliver of packed A; columns in groups of S panels (the last panel's padding columns are zero
// and never stored).
#define DIRECT_KERNEL(DT, ET, LOAD, R, S)                                                                     \
    T static void direct_##DT##_##R##x##S(const gemm_job *job, size_t ir, size_t jr, size_t ncols) {          \
        const ck_matmul_args *g = job->g;                                                                     \
        const size_t k = g->k, ldb = g->ldb, mpad = padded_rows(g->m);                                        \
        const size_t s0 = ir / MR * MR, r0 = ir - s0;                                                         \
        __m256 acc[R][S][2];                                                                                  \
        for (int r = 0; r < R; r++)                                                                           \
            for (int s = 0; s < S; s++) acc[r][s][0] = acc[r][s][1] = _mm256_setzero_ps();                    \
        for (size_t p0 = 0; p0 < k; p0 += KC) {                                                               \
            const size_t kl = k - p0 < KC ? k - p0 : KC;                                                      \
            const float *a = job->apack + p0 * mpad + s0 * kl + r0;                                           \
            const ET *b = (const ET *)g->b + (jr / NR * ldb + p0) * NR;                                       \
            for (size_t kk = 0; kk < kl; kk++) {                                                              \
                for (int s = 0; s < S; s++) {                                                                 \
                    const ET *bp = b + s * ldb * NR + kk * NR;                                                \
                    const __m256 b0 = LOAD(bp), b1 = LOAD(bp + 8);                                            \
                    for (int r = 0; r < R; r++) {                                                             \
                        const __m256 ar = _mm256_broadcast_ss(a + kk * MR + r);                               \
                        acc[r][s][0] = _mm256_fmadd_ps(ar, b0, acc[r][s][0]);                                 \
                        acc[r][s][1] = _mm256_fmadd_ps(ar, b1, acc[r][s][1]);                                 \
                    }                                                                                         \
                }                                                                                             \
            }                                                                                                 \
        }                                                                                                     \
        for (int r = 0; r < R; r++) {                                                                         \
            float *c = g->c + (ir + r) * g->ldc + jr;                                                         \
            for (int s = 0; s < S; s++) {                                                                     \
                if ((size_t)(s + 1) * NR <= ncols) {                                                          \
                    _mm256_storeu_ps(c + s * NR, acc[r][s][0]);                                               \
                    _mm256_storeu_ps(c + s * NR + 8, acc[r][s][1]);                                           \
                } else if ((size_t)s * NR < ncols) {                                                          \
                    float tile[NR] __attribute__((aligned(32)));                                              \
                    _mm256_store_ps(tile, acc[r][s][0]);                                                      \
                    _mm256_store_ps(tile + 8, acc[r][s][1]);                                                  \
                    for (size_t j = 0; j < ncols - s * NR; j++) c[s * NR + j] = tile[j];                      \
                }                                                                                             \
            }                                                                                                 \
        }                                                                                                     \
    }
#define DIRECT_KERNELS(DT, ET, LOAD)                                                            \
    DIRECT_KERNEL(DT, ET, LOAD, 1, 6) DIRECT_KERNEL(DT, ET, LOAD, 2, 3) DIRECT_KERNEL(DT, ET, LOAD, 3, 2) \
    DIRECT_KERNEL(DT, ET, LOAD, 1, 1) DIRECT_KERNEL(DT, ET, LOAD, 2, 1) DIRECT_KERNEL(DT, ET, LOAD, 3, 1) \
    DIRECT_KERNEL(DT, ET, LOAD, 4, 1) DIRECT_KERNEL(DT, ET, LOAD, 5, 1) DIRECT_KERNEL(DT, ET, LOAD, 6, 1) \
    T static void direct_##DT(const gemm_job *job, size_t j0, size_t j1) {                       \
        const size_t m = job->g->m;                                                              \
        for (size_t ir = 0; ir < m;) {                                                           \
            size_t R = m - ir < MR ? m - ir : MR;                                                \
            if (R > MR - ir % MR) R = MR - ir % MR;                                              \
            size_t S = R == 1 ? 6 : R == 2 ? 3 : R == 3 ? 2 : 1;                                 \
            size_t jr = j0;                                                                      \
            for (; S > 1 && jr + S * NR <= j1; jr += S * NR) {                                   \
                if (R == 1) direct_##DT##_1x6(job, ir, jr, S * NR);                              \
                else if (R == 2) direct_##DT##_2x3(job, ir, jr, S * NR);                         \
                else direct_##DT##_3x2(job, ir, jr, S * NR);                                     \
            }                                                                                    \
            for (; jr < j1; jr += NR) {                                                          \
                size_t nc = j1 - jr < NR ? j1 - jr : NR;                                         \
                switch (R) {                                                                     \
                case 1: direct_##DT##_1x1(job, ir, jr, nc); break;                               \
                case 2: direct_##DT##_2x1(job, ir, jr, nc); break;                               \
                case 3: direct_##DT##_3x1(job, ir, jr, nc); break;                               \
                case 4: direct_##DT##_4x1(job, ir, jr, nc); break;                               \
                case 5: direct_##DT##_5x1(job, ir, jr, nc); break;                               \
                default: direct_##DT##_6x1(job, ir, jr, nc); break;                              \
                }                                                                                \
            }                                                                                    \
            ir += R;                                                                             \
        }                                                                                        \
    }
#define LOAD_F16(p) LD_F16_256(p)
#define LOAD_BF16(p) LD_BF16_256(p)
#define LOAD_F32(p) _mm256_loadu_ps(p)
DIRECT_KERNELS(f16, uint16_t, LOAD_F16)
DIRECT_KERNELS(bf16, uint16_t, LOAD_BF16)
DIRECT_KERNELS(f32, float, LOAD_F32)

// Up to this many rows, panel-packed weights take the direct kernels.
#define DIRECT_MAX_ROWS 16

// Output columns [j0, j1): per NC-wide block and KC-deep slice, pack B once, then sweep all rows;
// the bias is added once every chain of the block is complete.
T static void gemm_columns(const gemm_job *job, size_t j0, size_t j1, float *bpack) {
    const ck_matmul_args *g = job->g;
    const size_t m = g->m, k = g->k, ldc = g->ldc, mpad = padded_rows(m);
    for (size_t jc = j0; jc < j1; jc += NC) {
        size_t nl = j1 - jc < NC ? j1 - jc : NC;
        for (size_t p0 = 0; p0 < k; p0 += KC) {
            size_t kl = k - p0 < KC ? k - p0 : KC;
            int first = p0 == 0;
            pack_b(g->dtype, g->b_layout, g->b, g->ldb, jc, nl, p0, kl, bpack);
            const float *ablock = job->apack + p0 * mpad;
            for (size_t ic = 0; ic < m; ic += MC) {
                size_t ie = m - ic < MC ? m : ic + MC;
                size_t ie6 = ic + (ie - ic) / MR * MR;
                for (size_t jr = 0; jr < nl; jr += NR) {
                    size_t nr = nl - jr < NR ? nl - jr : NR;
                    for (size_t ir = ic; ir < ie6; ir += MR) {
                        float *cc = g->c + ir * ldc + jc + jr;
                        if (nr == NR) kernel_6x16(kl, ablock + ir * kl, bpack + jr * kl, cc, ldc, first);
                        else kernel_edge(kl, ablock + ir * kl, bpack + jr * kl, cc, ldc, first, MR, nr);
                    }
                }
                if (ie6 < ie) small_rows(kl, ablock + ie6 * kl, bpack, nl, g->c + ie6 * ldc + jc, ldc, first, ie - ie6);
            }
        }
        if (g->bias)
            for (size_t r = 0; r < m; r++) {
                float *row = g->c + r * ldc + jc;
                for (size_t j = 0; j < nl; j++) row[j] = row[j] + g->bias[jc + j];
            }
    }
}

// Threads split the output columns in whole slivers; each packs its own B blocks.
static void gemm_part(void *ctx, size_t part, size_t parts) {
    const gemm_job *job = ctx;
    size_t n = job->g->n;
    size_t slivers = (n + NR - 1) / NR;
    size_t s0 = slivers * part / parts, s1 = slivers * (part + 1) / parts;
    size_t j0 = s0 * NR, j1 = s1 * NR < n ? s1 * NR : n;
    if (j0 >= j1) return;
    const ck_matmul_args *g = job->g;
    if (g->b_layout == CK_B_PANELS && g->m <= DIRECT_MAX_ROWS) {
        if (g->dtype == CK_DT_F16) direct_f16(job, j0, j1);
        else if (g->dtype == CK_DT_BF16) direct_bf16(job, j0, j1);
        else direct_f32(job, j0, j1);
        if (g->bias)
            for (size_t r = 0; r < g->m; r++) {
                float *row = g->c + r * g->ldc;
                for (size_t j = j0; j < j1; j++) row[j] = row[j] + g->bias[j];
            }
        return;
    }
    gemm_columns(job, j0, j1, job->bpack + part * BPACK);
}

void ck_matmul_avx2(const ck_matmul_args *g, int threads) {
    if (g->m == 0 || g->n == 0 || g->k == 0) { ck_matmul(g, threads); return; }
    float *scratch = g->scratch;
    pack_a(g->a, g->lda, g->m, g->k, scratch);
    // Packed B blocks are written with aligned stores.
    uintptr_t end = (uintptr_t)(scratch + padded_rows(g->m) * g->k);
    float *bpack = (float *)((end + 63) & ~(uintptr_t)63);
    gemm_job job = {g, scratch, bpack};
    size_t slivers = (g->n + NR - 1) / NR;
    size_t parts = threads < 1 ? 1 : (size_t)threads;
    if (parts > slivers) parts = slivers;
    // Below ~1 MFLOP per thread the pool hand-off costs more than it saves.
    if ((double)g->m * (double)g->n * (double)g->k < 1e6 * (double)parts) parts = 1;
    ck_pool_run((int)parts, gemm_part, &job);
}
#else
void ck_matmul_avx2(const ck_matmul_args *g, int threads) {
    (void)g; (void)threads;
    __builtin_trap();  // callers check that the CPU runs CK_PATH_AVX2 first
}
#endif
