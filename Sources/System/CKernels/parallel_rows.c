// Row-parallel versions of the element-wise kernels, split over the persistent pool.
//
// Between two matrix products the engine normalises, activates and soft-maxes whole activation
// matrices; run on one thread, those loops leave the second core idle while OpenBLAS's threads
// spin, which cost CLIP and prefill a tenth of their time. Rows are independent, so each part
// takes a contiguous block of rows and calls the single-threaded kernel on it: results are
// bit-identical to the single-threaded call whatever the thread count.
#include "CKernels.h"

typedef struct {
    int kind;
    const float *x, *w, *b;
    float *y;
    size_t rows, n, xs, ys;
    float eps;
} rows_job;

enum { JOB_RMSNORM, JOB_LAYERNORM, JOB_SOFTMAX, JOB_SILU_MUL, JOB_QUICK_GELU, JOB_GELU_ERF, JOB_ADD };

static void run_part(void *ctx, size_t part, size_t parts) {
    const rows_job *j = (const rows_job *)ctx;
    size_t r0 = j->rows * part / parts, r1 = j->rows * (part + 1) / parts;
    if (r0 >= r1) return;
    size_t count = r1 - r0;
    switch (j->kind) {
    case JOB_RMSNORM:
        ck_rmsnorm(j->x + r0 * j->xs, j->w, j->y + r0 * j->ys, count, j->n, j->xs, j->ys, j->eps);
        break;
    case JOB_LAYERNORM:
        ck_layernorm(j->x + r0 * j->xs, j->w, j->b, j->y + r0 * j->ys, count, j->n, j->xs, j->ys, j->eps);
        break;
    case JOB_SOFTMAX:
        ck_softmax(j->y + r0 * j->ys, count, j->n, j->ys);
        break;
    // The element-wise kinds treat the data as `rows` chunks of n (flat arrays).
    case JOB_SILU_MUL:
        ck_silu_mul(j->y + r0 * j->n, j->x + r0 * j->n, j->y + r0 * j->n, count * j->n);
        break;
    case JOB_QUICK_GELU:
        ck_quick_gelu(j->y + r0 * j->n, count * j->n);
        break;
    case JOB_GELU_ERF:
        ck_gelu_erf(j->y + r0 * j->n, count * j->n);
        break;
    case JOB_ADD:
        ck_add(j->y + r0 * j->n, j->x + r0 * j->n, count * j->n);
        break;
    }
}

// Below this many elements a second thread costs more to wake than it saves.
#define MT_MIN_ELEMENTS 16384

static void run_rows(rows_job *j, int threads) {
    if (threads > (int)j->rows) threads = (int)j->rows;
    if (threads <= 1 || j->rows * j->n < MT_MIN_ELEMENTS) {
        run_part(j, 0, 1);
        return;
    }
    ck_pool_run(threads, run_part, j);
}

void ck_rmsnorm_mt(const float *x, const float *w, float *y, size_t rows, size_t n, size_t xs, size_t ys, float eps,
                   int threads) {
    rows_job j = {JOB_RMSNORM, x, w, NULL, y, rows, n, xs, ys, eps};
    run_rows(&j, threads);
}

void ck_layernorm_mt(const float *x, const float *g, const float *b, float *y, size_t rows, size_t n, size_t xs,
                     size_t ys, float eps, int threads) {
    rows_job j = {JOB_LAYERNORM, x, g, b, y, rows, n, xs, ys, eps};
    run_rows(&j, threads);
}

void ck_softmax_mt(float *x, size_t rows, size_t n, size_t stride, int threads) {
    rows_job j = {JOB_SOFTMAX, NULL, NULL, NULL, x, rows, n, 0, stride, 0.f};
    run_rows(&j, threads);
}

// Flat element-wise kernels: split into chunks of 4096 elements (plus a remainder on the caller).
#define FLAT_CHUNK 4096
static void run_flat(int kind, const float *x, float *y, size_t n, int threads) {
    size_t chunks = n / FLAT_CHUNK;
    if (chunks > 0) {
        rows_job j = {kind, x, NULL, NULL, y, chunks, FLAT_CHUNK, 0, 0, 0.f};
        run_rows(&j, threads);
    }
    size_t done = chunks * FLAT_CHUNK;
    if (done < n) {
        rows_job j = {kind, x ? x + done : NULL, NULL, NULL, y + done, 1, n - done, 0, 0, 0.f};
        run_part(&j, 0, 1);
    }
}

void ck_silu_mul_mt(float *gate, const float *up, size_t n, int threads) { run_flat(JOB_SILU_MUL, up, gate, n, threads); }
void ck_quick_gelu_mt(float *x, size_t n, int threads) { run_flat(JOB_QUICK_GELU, NULL, x, n, threads); }
void ck_gelu_erf_mt(float *x, size_t n, int threads) { run_flat(JOB_GELU_ERF, NULL, x, n, threads); }
void ck_add_mt(float *y, const float *x, size_t n, int threads) { run_flat(JOB_ADD, x, y, n, threads); }
