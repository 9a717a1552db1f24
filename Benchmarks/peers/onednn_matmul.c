// oneDNN (Debian's libdnnl-dev 2.6) matmul against OpenBLAS sgemm at a LLaMA-7B MLP shape, float32 and
// bfloat16: the measurement behind choosing OpenBLAS + our own small C kernels over oneDNN (Benchmarks/README.md).
// Not part of the product. Build and run (after `apt-get install libdnnl-dev`):
//   cc -O2 Benchmarks/peers/onednn_matmul.c -o /tmp/onednn_matmul -ldnnl -lopenblas && /tmp/onednn_matmul [M]
#include <dnnl.h>
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#define CK(x) do { dnnl_status_t s = (x); if (s != dnnl_success) { printf("dnnl error %d at %s\n", s, #x); exit(1); } } while (0)
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
static void run(int M, int K, int N, dnnl_data_type_t wt, const char *label) {
    dnnl_engine_t eng; CK(dnnl_engine_create(&eng, dnnl_cpu, 0));
    dnnl_stream_t st; CK(dnnl_stream_create(&st, eng, dnnl_stream_default_flags));
    dnnl_memory_desc_t a, b, c;
    dnnl_dims_t ad = {M, K}, bd = {K, N}, cd = {M, N};
    CK(dnnl_memory_desc_init_by_tag(&a, 2, ad, wt, dnnl_ab));
    CK(dnnl_memory_desc_init_by_tag(&b, 2, bd, wt, dnnl_ba)); // weights [N,K] row-major = K x N "ba"
    CK(dnnl_memory_desc_init_by_tag(&c, 2, cd, dnnl_f32, dnnl_ab));
    dnnl_primitive_desc_t pd;
    dnnl_matmul_desc_t md; CK(dnnl_matmul_desc_init(&md, &a, &b, NULL, &c));
    dnnl_status_t s = dnnl_primitive_desc_create(&pd, &md, NULL, eng, NULL);
    if (s != dnnl_success) { printf("%s: matmul not supported here (%d)\n", label, s); return; }
    const char *impl; dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
    dnnl_primitive_t p; CK(dnnl_primitive_create(&p, pd));
    dnnl_memory_t am, bm, cm;
    CK(dnnl_memory_create(&am, &a, eng, DNNL_MEMORY_ALLOCATE)); CK(dnnl_memory_create(&bm, &b, eng, DNNL_MEMORY_ALLOCATE));
    CK(dnnl_memory_create(&cm, &c, eng, DNNL_MEMORY_ALLOCATE));
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, cm}};
    double best = 1e9;
    for (int r = 0; r < 4; r++) { double t = now(); CK(dnnl_primitive_execute(p, st, 3, args)); CK(dnnl_stream_wait(st)); t = now() - t; if (r && t < best) best = t; }
    printf("oneDNN %s %dx%dx%d [%s]: %.1f ms, %.1f GFLOP/s\n", label, M, K, N, impl, best * 1e3, 2.0 * M * K * N / best / 1e9);
}
int main(int argc, char **argv) {
    int M = argc > 1 ? atoi(argv[1]) : 640, K = 4096, N = 11008;
    run(M, K, N, dnnl_f32, "f32");
    run(M, K, N, dnnl_bf16, "bf16");
    float *x = calloc((size_t)M * K, 4), *w = calloc((size_t)N * K, 4), *y = calloc((size_t)M * N, 4);
    double best = 1e9;
    for (int r = 0; r < 4; r++) { double t = now(); cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1, x, K, w, K, 0, y, N); t = now() - t; if (r && t < best) best = t; }
    printf("OpenBLAS sgemm %dx%dx%d: %.1f ms, %.1f GFLOP/s\n", M, K, N, best * 1e3, 2.0 * M * K * N / best / 1e9);
}
