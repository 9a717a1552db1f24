#!/usr/bin/env python3
"""PyTorch CPU peer for PruningBenchmarks: VisPruner token selection timed on the same inputs.

Written from the algorithm as the reference describes it (batched-tensor style, as a PyTorch
implementation would run it): rank by head-averaged [CLS] attention, keep floor(T*ratio), then
repeatedly split the rest into even/odd positions, score the even ones by their best cosine
similarity to the odd ones and drop up to 8 of the highest scores until T - floor(T*ratio) remain.

Usage: python3 pruning_peer.py [--threads 1] [--repeats 20]
Prints one JSON object with median/min milliseconds per budget.
"""
import argparse
import json
import os
import platform
import statistics
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "fixtures", "pruning"))


def load_inputs():
    f = os.path.join(FIXTURES, "pub-s1-d1024-features.npy")
    a = os.path.join(FIXTURES, "pub-s1-d1024-attention.npy")
    if os.path.exists(f) and os.path.exists(a):
        return torch.from_numpy(np.load(f)), torch.from_numpy(np.load(a))
    g = torch.Generator().manual_seed(42)
    return torch.rand(576, 1024, generator=g) - 0.5, torch.rand(16, 576, generator=g)


@torch.no_grad()
def vispruner_select(features, attention, tokens, ratio):
    """features [N, D], attention [H, N] -> sorted kept indices (LongTensor)."""
    n_important = int(tokens * ratio)
    n_diverse = tokens - n_important
    ranking = attention.mean(dim=0).argsort(descending=True)
    important = ranking[:n_important]
    residual = ranking[n_important:]
    unit = features / features.norm(dim=-1, keepdim=True)
    while n_diverse > 0:
        count = residual.shape[0]
        drop = min(8, count - n_diverse)
        if drop <= 0:
            break
        evens, odds = residual[0::2], residual[1::2]
        best = (unit[evens] @ unit[odds].T).max(dim=-1).values
        survivors = best.argsort(descending=True)[drop:]
        residual = torch.cat([evens[survivors], odds])
    kept = torch.cat([important, residual]) if n_diverse > 0 else important
    return kept.sort().values


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=int(os.environ.get("PRUNING_THREADS", "1")))
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--ratio", type=float, default=0.5)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    features, attention = load_inputs()
    results = []
    for tokens in (32, 64, 128, 192):
        vispruner_select(features, attention, tokens, args.ratio)  # warm-up
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            vispruner_select(features, attention, tokens, args.ratio)
            times.append((time.perf_counter() - t0) * 1000)
        results.append({"tokens": tokens, "ratio": args.ratio, "median_ms": round(statistics.median(times), 3),
                        "min_ms": round(min(times), 3)})
    print(json.dumps({
        "peer": "pytorch", "torch": torch.__version__, "threads": args.threads,
        "machine": platform.processor() or platform.machine(), "N": int(features.shape[0]),
        "D": int(features.shape[1]), "results": results,
    }))


if __name__ == "__main__":
    main()
