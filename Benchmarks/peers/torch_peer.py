#!/usr/bin/env python3
"""PyTorch CPU peer for the engine benchmarks: the same shapes as Benchmarks/EngineBenchmarks, timed
in float32 and bfloat16 with the same thread count. Prints one JSON object on stdout:
{"threads": N, "torch": version, "results": {phase: {dtype: {"ms": median, "gflops": ...}}}}

Random weights of the real shapes (LLaVA-1.5-7B: CLIP ViT-L/14-336 + LLaMA-7B layer). Written for this
project from the architecture description; it is a peer to measure against, not part of the product.
"""
import argparse, json, math, statistics, sys, time

import torch
import torch.nn.functional as F


def timed(fn, warmup=1, reps=5):
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t0) * 1000)
    return statistics.median(ts)


class ClipLayer(torch.nn.Module):
    def __init__(self, d=1024, heads=16, mlp=4096):
        super().__init__()
        self.heads = heads
        self.ln1 = torch.nn.LayerNorm(d)
        self.qkv = torch.nn.Linear(d, 3 * d)
        self.out = torch.nn.Linear(d, d)
        self.ln2 = torch.nn.LayerNorm(d)
        self.fc1 = torch.nn.Linear(d, mlp)
        self.fc2 = torch.nn.Linear(mlp, d)

    def forward(self, x):
        n, d = x.shape
        h = self.ln1(x)
        q, k, v = self.qkv(h).split(d, dim=-1)
        q, k, v = (t.view(n, self.heads, -1).transpose(0, 1) for t in (q, k, v))
        a = F.scaled_dot_product_attention(q, k, v).transpose(0, 1).reshape(n, d)
        x = x + self.out(a)
        h = self.fc1(self.ln2(x))
        h = h * torch.sigmoid(1.702 * h)
        return x + self.fc2(h)


class LlamaLayer(torch.nn.Module):
    def __init__(self, d=4096, heads=32, mlp=11008):
        super().__init__()
        self.heads = heads
        self.n1 = torch.nn.RMSNorm(d, eps=1e-5)
        self.qkv = torch.nn.Linear(d, 3 * d, bias=False)
        self.o = torch.nn.Linear(d, d, bias=False)
        self.n2 = torch.nn.RMSNorm(d, eps=1e-5)
        self.gate_up = torch.nn.Linear(d, 2 * mlp, bias=False)
        self.down = torch.nn.Linear(mlp, d, bias=False)

    def forward(self, x, past=None):
        n, d = x.shape
        q, k, v = self.qkv(self.n1(x)).split(d, dim=-1)
        q, k, v = (t.view(n, self.heads, -1).transpose(0, 1) for t in (q, k, v))
        if past is not None:
            k = torch.cat([past[0], k], dim=1)
            v = torch.cat([past[1], v], dim=1)
        a = F.scaled_dot_product_attention(q, k, v, is_causal=past is None).transpose(0, 1).reshape(n, d)
        x = x + self.o(a)
        g, u = self.gate_up(self.n2(x)).chunk(2, dim=-1)
        return x + self.down(F.silu(g) * u)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--phases", default="sgemm,clip,prefill640,prefill128,decode,projector,prefill640_13b,decode_13b")
    ap.add_argument("--dtypes", default="auto",
                    help="float32,bfloat16; 'auto' measures every phase in float32, and in bfloat16 the decode steps and "
                         "the 128-token prefill always and the other phases only where the CPU has AVX512_BF16 "
                         "(without it PyTorch emulates bf16 matmul several times slower than float32)")
    args = ap.parse_args()
    flags = open("/proc/cpuinfo").read() if sys.platform.startswith("linux") else ""
    has_bf16 = "avx512_bf16" in flags
    if args.dtypes == "auto":
        wanted = ["float32", "bfloat16"]
        # Without AVX512_BF16 the bf16 prefill is emulated and slow; one small shape shows by how much.
        bf16_phases = None if has_bf16 else {"decode", "decode_13b", "prefill128"}
    else:
        wanted = args.dtypes.split(",")
        bf16_phases = None
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    all_phases = args.phases.split(",")
    results = {}
    with torch.inference_mode():
        for dtype_name, dtype in (("float32", torch.float32), ("bfloat16", torch.bfloat16)):
            if dtype_name not in wanted:
                continue
            phases = [p for p in all_phases if dtype_name == "float32" or bf16_phases is None or p in bf16_phases]
            def put(phase, ms, flops):
                results.setdefault(phase, {})[dtype_name] = {"ms": ms, "gflops": flops / ms / 1e6}

            if "sgemm" in phases:
                for m, k, n in ((577, 1024, 3072), (640, 4096, 11008), (1, 4096, 11008)):
                    a = torch.randn(m, k, dtype=dtype); b = torch.randn(k, n, dtype=dtype)
                    put(f"sgemm {m}x{k}x{n}", timed(lambda: a @ b, reps=args.reps), 2 * m * k * n)
            if "clip" in phases:
                layers = torch.nn.ModuleList(ClipLayer() for _ in range(23)).to(dtype)  # select layer -2: 23 of 24
                x = torch.randn(577, 1024, dtype=dtype)
                def clip():
                    h = x
                    for l in layers:
                        h = l(h)
                    return h
                fl = 23 * (2 * 577 * 1024 * (4 * 1024 + 2 * 4096) + 4 * 577 * 577 * 1024)
                put("clip forward (23 layers, 577 tokens)", timed(clip, reps=args.reps), fl)
                del layers
            if any(p in phases for p in ("prefill640", "prefill128", "decode")):
                layer = LlamaLayer().to(dtype)
                for tag, n in (("prefill640", 640), ("prefill128", 128)):
                    if tag in phases:
                        x = torch.randn(n, 4096, dtype=dtype)
                        fl = 2 * n * 4096 * (4 * 4096 + 3 * 11008) + 2 * n * n * 4096
                        put(f"llama layer prefill {n} tokens", timed(lambda: layer(x), reps=args.reps), fl)
                if "decode" in phases:
                    past = (torch.randn(32, 640, 128, dtype=dtype), torch.randn(32, 640, 128, dtype=dtype))
                    x = torch.randn(1, 4096, dtype=dtype)
                    fl = 2 * 4096 * (4 * 4096 + 3 * 11008)
                    put("llama layer decode step (640 cached)", timed(lambda: layer(x, past), reps=args.reps * 3), fl)
            if any(p in phases for p in ("prefill640_13b", "decode_13b")):
                layer = LlamaLayer(d=5120, heads=40, mlp=13824).to(dtype)
                if "prefill640_13b" in phases:
                    x = torch.randn(640, 5120, dtype=dtype)
                    fl = 2 * 640 * 5120 * (4 * 5120 + 3 * 13824) + 2 * 640 * 640 * 5120
                    put("llama-13b layer prefill 640 tokens", timed(lambda: layer(x), reps=args.reps), fl)
                if "decode_13b" in phases:
                    past = (torch.randn(40, 640, 128, dtype=dtype), torch.randn(40, 640, 128, dtype=dtype))
                    x = torch.randn(1, 5120, dtype=dtype)
                    put("llama-13b layer decode step (640 cached)", timed(lambda: layer(x, past), reps=args.reps * 3),
                        2 * 5120 * (4 * 5120 + 3 * 13824))
                del layer
            if "projector" in phases:
                p1 = torch.nn.Linear(1024, 4096).to(dtype); p2 = torch.nn.Linear(4096, 4096).to(dtype)
                f = torch.randn(576, 1024, dtype=dtype)
                put("projector 576 tokens", timed(lambda: p2(F.gelu(p1(f))), reps=args.reps), 2 * 576 * 4096 * (1024 + 4096))
    print(json.dumps({"threads": args.threads, "torch": torch.__version__, "dtypes": wanted, "avx512_bf16": has_bf16,
                      "results": results}, indent=1))


if __name__ == "__main__":
    main()
