// A small persistent thread pool for the Linear kernels.
//
// Decode calls a Linear kernel ~200 times per token, each taking tens to hundreds of
// microseconds, so waking threads through the kernel for every call would cost a noticeable
// share. Workers therefore spin briefly on a generation counter after each job (catching the
// next call while it is still imminent) and only then sleep on a condition variable. The caller
// runs part 0 itself, so a pool of N threads has N-1 workers.
#include "CKernels.h"
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <immintrin.h>
#define CK_PAUSE() _mm_pause()
#else
#define CK_PAUSE() ((void)0)
#endif

#define POOL_MAX_WORKERS 63
// Roughly 30-60 µs of pause instructions: longer than the gap between two Linear calls of one
// decode step, far shorter than the gap between steps that do other work.
#define POOL_SPIN 4000

static struct {
    pthread_mutex_t mu;        // guards sleeping, the cond vars and worker creation
    pthread_cond_t work_cv;
    pthread_cond_t done_cv;
    pthread_mutex_t run_mu;    // one job at a time
    int nworkers;
    int sleeping_workers;
    int caller_sleeping;
    // (generation << 8) | parts, published in one store so a worker never pairs one job's part
    // count with another job's generation.
    atomic_ulong job;
    atomic_long pending;
    unsigned long created_at;  // job word when the newest workers were started (guarded by mu)
    ck_task_fn fn;
    void *ctx;
} pool = {
    .mu = PTHREAD_MUTEX_INITIALIZER,
    .work_cv = PTHREAD_COND_INITIALIZER,
    .done_cv = PTHREAD_COND_INITIALIZER,
    .run_mu = PTHREAD_MUTEX_INITIALIZER,
};

static void *worker_main(void *arg) {
    size_t index = (size_t)arg; // 1-based: part 0 belongs to the caller
    // The job word as it was when this worker was created (before the job that needed it was
    // published), so a slow-starting thread cannot mistake that job for an old one and skip it.
    unsigned long seen = pool.created_at;
    for (;;) {
        unsigned long g;
        int spins = 0;
        while ((g = atomic_load_explicit(&pool.job, memory_order_acquire)) == seen && spins < POOL_SPIN) {
            CK_PAUSE();
            spins++;
        }
        if (g == seen) {
            pthread_mutex_lock(&pool.mu);
            while ((g = atomic_load_explicit(&pool.job, memory_order_acquire)) == seen) {
                pool.sleeping_workers++;
                pthread_cond_wait(&pool.work_cv, &pool.mu);
                pool.sleeping_workers--;
            }
            pthread_mutex_unlock(&pool.mu);
        }
        seen = g;
        size_t parts = (size_t)(g & 0xff);
        // A job needing fewer threads leaves this worker out. Otherwise the caller waits for this
        // worker, so fn and ctx (written before the job word) stay valid until pending drops.
        if (index >= parts) continue;
        pool.fn(pool.ctx, index, parts);
        if (atomic_fetch_sub_explicit(&pool.pending, 1, memory_order_acq_rel) == 1) {
            pthread_mutex_lock(&pool.mu);
            if (pool.caller_sleeping) pthread_cond_signal(&pool.done_cv);
            pthread_mutex_unlock(&pool.mu);
        }
    }
    return NULL;
}

// Starts workers until there are `want`; returns how many exist (thread creation may fail).
static int ensure_workers(int want) {
    if (want > POOL_MAX_WORKERS) want = POOL_MAX_WORKERS;
    pthread_mutex_lock(&pool.mu);
    pool.created_at = atomic_load_explicit(&pool.job, memory_order_relaxed);
    while (pool.nworkers < want) {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        int rc = pthread_create(&t, &attr, worker_main, (void *)(size_t)(pool.nworkers + 1));
        pthread_attr_destroy(&attr);
        if (rc != 0) break;
        pool.nworkers++;
    }
    int n = pool.nworkers;
    pthread_mutex_unlock(&pool.mu);
    return n;
}

int ck_pool_run(int threads, ck_task_fn fn, void *ctx) {
    if (threads < 1) threads = 1;
    // A job started from inside a job (or from a second thread at the same time) runs inline
    // rather than waiting on a pool that is busy, which could deadlock.
    if (threads == 1 || pthread_mutex_trylock(&pool.run_mu) != 0) {
        for (int i = 0; i < threads; i++) fn(ctx, (size_t)i, (size_t)threads);
        return 1;
    }
    int workers = ensure_workers(threads - 1);
    if (workers < threads - 1) threads = workers + 1;
    pool.fn = fn;
    pool.ctx = ctx;
    atomic_store_explicit(&pool.pending, threads - 1, memory_order_relaxed);
    pthread_mutex_lock(&pool.mu);
    unsigned long gen = (atomic_load_explicit(&pool.job, memory_order_relaxed) >> 8) + 1;
    atomic_store_explicit(&pool.job, (gen << 8) | (unsigned long)threads, memory_order_release);
    if (pool.sleeping_workers) pthread_cond_broadcast(&pool.work_cv);
    pthread_mutex_unlock(&pool.mu);

    fn(ctx, 0, (size_t)threads);

    int spins = 0;
    while (atomic_load_explicit(&pool.pending, memory_order_acquire) != 0 && spins < POOL_SPIN) {
        CK_PAUSE();
        spins++;
    }
    if (atomic_load_explicit(&pool.pending, memory_order_acquire) != 0) {
        pthread_mutex_lock(&pool.mu);
        pool.caller_sleeping = 1;
        while (atomic_load_explicit(&pool.pending, memory_order_acquire) != 0)
            pthread_cond_wait(&pool.done_cv, &pool.mu);
        pool.caller_sleeping = 0;
        pthread_mutex_unlock(&pool.mu);
    }
    pthread_mutex_unlock(&pool.run_mu);
    return threads;
}

int ck_available_cores(void) {
#if defined(__linux__) && defined(CPU_COUNT)
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0) return n;
    }
#endif
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}
