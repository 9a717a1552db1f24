// Prefill GEMM for weights stored in fp16/bf16: C[m × n] = A[m × k] · Wᵀ, W row-major [n × k].
//
// Why not widen W into a float32 panel and call OpenBLAS: with few activation rows (a pruned prompt
// is ~130 rows) the separate widening pass and OpenBLAS's own repacking of that panel cost as much
// as a third of the layer's time. Here the widening happens inside the packing every GEMM does
// anyway: W is read once per K block in its stored precision, converted and transposed into a
// cache-resident block (KC × NC floats), and a 6×16 register-blocked FMA kernel multiplies it.
// Sums run over k in order within each 256-wide K block (as a BLAS microkernel does), so results
// differ from sgemm only by rounding.
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

// Floats per packed W block, one block per thread.
#define BPACK (KC * NC)

static size_t padded_rows(size_t m) { return (m + MR - 1) / MR * MR; }

// Packed A, then 16-float alignment slack, then one packed W block per thread.
size_t ck_packed_gemm_scratch_floats(size_t m, size_t k, int threads) {
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

// W rows [j0, j0 + nl) × columns [p0, p0 + kl), widened, as slivers of NR rows each [kl][NR]
// (rows past nl are zero). Full slivers go 8×8 blocks at a time through a register transpose.
T static void pack_b(int dt, const void *w, size_t k, size_t j0, size_t nl, size_t p0, size_t kl, float *dst) {
    for (size_t s = 0; s < nl; s += NR) {
        float *o = dst + s * kl;
        size_t rows = nl - s < NR ? nl - s : NR;
        size_t kk = 0;
        if (rows == NR) {
            for (; kk + 8 <= kl; kk += 8) {
                for (size_t h = 0; h < 2; h++) {
                    __m256 r[8];
                    for (int i = 0; i < 8; i++) r[i] = load8(dt, w, (j0 + s + h * 8 + i) * k + p0 + kk);
                    transpose8(r);
                    for (int i = 0; i < 8; i++) _mm256_store_ps(o + (kk + i) * NR + h * 8, r[i]);
                }
            }
        }
        for (; kk < kl; kk++)
            for (size_t i = 0; i < NR; i++) o[kk * NR + i] = i < rows ? lin_weight(dt, w, (j0 + s + i) * k + p0 + kk) : 0.0f;
    }
}

// Stores (or adds) one 16-wide row of the 6×16 accumulator tile.
#define STORE_ROW(r, lo, hi)                                                             \
    do {                                                                                 \
        float *row_ = out + (r) * ldo;                                                   \
        __m256 v0_ = (lo), v1_ = (hi);                                                   \
        if (add) {                                                                       \
            v0_ = _mm256_add_ps(_mm256_loadu_ps(row_), v0_);                             \
            v1_ = _mm256_add_ps(_mm256_loadu_ps(row_ + 8), v1_);                         \
        }                                                                                \
        _mm256_storeu_ps(row_, v0_);                                                     \
        _mm256_storeu_ps(row_ + 8, v1_);                                                 \
    } while (0)

// One k step of one accumulator row: a[r] broadcast times the two halves of the B row.
#define FMA_ROW(r, lo, hi)                                      \
    do {                                                        \
        const __m256 ar_ = _mm256_broadcast_ss(a + (r));        \
        lo = _mm256_fmadd_ps(ar_, b0, lo);                      \
        hi = _mm256_fmadd_ps(ar_, b1, hi);                      \
    } while (0)

// Applies OP to each accumulator row: (row, low half, high half).
#define EACH_ROW(OP) OP(0, c00, c01); OP(1, c10, c11); OP(2, c20, c21); OP(3, c30, c31); OP(4, c40, c41); OP(5, c50, c51)

// c[mr × nr] (+)= a-sliver · b-sliver over kl steps; `add` accumulates onto c (later K blocks).
// Twelve named accumulators and six separate broadcasts: written any other way (an accumulator
// array, reused broadcast registers) clang shuffled and spilled registers in the loop and the
// kernel ran at half speed.
T static void kernel_6x16(size_t kl, const float *a, const float *b, float *c, size_t ldc, int add, size_t mr,
                          size_t nr) {
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    for (size_t kk = 0; kk < kl; kk++) {
        const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
        EACH_ROW(FMA_ROW);
        a += MR;
        b += NR;
    }
    float tile[MR * NR] __attribute__((aligned(32)));
    const int full = mr == MR && nr == NR, accumulate = add;
    float *out = full ? c : tile;
    const size_t ldo = full ? ldc : NR;
    if (!full) add = 0;  // the tile is scratch; the edge copy below accumulates
    EACH_ROW(STORE_ROW);
    if (full) return;
    for (size_t r = 0; r < mr; r++)
        // Not 0 + tile on the first block: that turns -0 into +0, and an edge row must keep the bits
        // a full tile gives the same row (row invariance, see LinearKernelChoice).
        for (size_t j = 0; j < nr; j++) c[r * ldc + j] = accumulate ? c[r * ldc + j] + tile[r * NR + j] : tile[r * NR + j];
}

typedef struct {
    int dtype;
    const float *apack;
    float *bpack;  // BPACK floats per part
    size_t m, k, n;
    const void *w;
    float *c;
    size_t ldc;
} gemm_job;

// Output columns [j0, j1): per NC-wide block and KC-deep slice, pack W once, then sweep all rows.
T static void gemm_columns(const gemm_job *g, size_t j0, size_t j1, float *bpack) {
    size_t mpad = padded_rows(g->m);
    for (size_t jc = j0; jc < j1; jc += NC) {
        size_t nl = j1 - jc < NC ? j1 - jc : NC;
        for (size_t p0 = 0; p0 < g->k; p0 += KC) {
            size_t kl = g->k - p0 < KC ? g->k - p0 : KC;
            pack_b(g->dtype, g->w, g->k, jc, nl, p0, kl, bpack);
            const float *ablock = g->apack + p0 * mpad;
            for (size_t ic = 0; ic < g->m; ic += MC) {
                size_t ie = g->m - ic < MC ? g->m : ic + MC;
                for (size_t jr = 0; jr < nl; jr += NR) {
                    size_t nr = nl - jr < NR ? nl - jr : NR;
                    for (size_t ir = ic; ir < ie; ir += MR) {
                        size_t mr = g->m - ir < MR ? g->m - ir : MR;
                        kernel_6x16(kl, ablock + ir * kl, bpack + jr * kl, g->c + ir * g->ldc + jc + jr, g->ldc,
                                    p0 > 0, mr, nr);
                    }
                }
            }
        }
    }
}

// Threads split the output columns in whole slivers; each packs its own W blocks.
static void gemm_part(void *ctx, size_t part, size_t parts) {
    const gemm_job *g = ctx;
    size_t slivers = (g->n + NR - 1) / NR;
    size_t s0 = slivers * part / parts, s1 = slivers * (part + 1) / parts;
    size_t j0 = s0 * NR, j1 = s1 * NR < g->n ? s1 * NR : g->n;
    if (j0 < j1) gemm_columns(g, j0, j1, g->bpack + part * BPACK);
}

void ck_packed_gemm(int dtype, const float *a, size_t lda, size_t m, size_t k, const void *w, size_t n, float *c,
                    size_t ldc, float *scratch, int threads) {
    if (m == 0 || n == 0) return;
    if (k == 0) {
        for (size_t r = 0; r < m; r++) memset(c + r * ldc, 0, n * sizeof(float));
        return;
    }
    pack_a(a, lda, m, k, scratch);
    // Packed W blocks are written with aligned stores.
    uintptr_t end = (uintptr_t)(scratch + padded_rows(m) * k);
    float *bpack = (float *)((end + 63) & ~(uintptr_t)63);
    gemm_job g = {dtype, scratch, bpack, m, k, n, w, c, ldc};
    size_t slivers = (n + NR - 1) / NR;
    size_t parts = threads < 1 ? 1 : (size_t)threads;
    if (parts > slivers) parts = slivers;
    // Below ~1 MFLOP per thread the pool hand-off costs more than it saves.
    if ((double)m * (double)n * (double)k < 1e6 * (double)parts) parts = 1;
    ck_pool_run((int)parts, gemm_part, &g);
}
#else
void ck_packed_gemm(int dtype, const float *a, size_t lda, size_t m, size_t k, const void *w, size_t n, float *c,
                    size_t ldc, float *scratch, int threads) {
    (void)dtype; (void)a; (void)lda; (void)m; (void)k; (void)w; (void)n; (void)c; (void)ldc; (void)scratch; (void)threads;
    __builtin_trap();  // callers check that the CPU runs CK_PATH_AVX2 first
}
#endif
