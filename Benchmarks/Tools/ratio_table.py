#!/usr/bin/env python3
"""Combines one run-all.sh run into the Markdown ratio table of Benchmarks/README.md.

usage: ratio_table.py RUN_DIR
RUN_DIR holds swift-f32/*.json and swift-bf16/*.json (ordo-one `--format jsonSmallerIsBetter`), torch.json
(peers/torch_peer.py) and machine.txt. Ratios: "vs PyTorch" = PyTorch time / our time (> 1: we are faster);
"of roofline" = our GFLOP/s / the OpenBLAS sgemm GFLOP/s measured in the same run (640x4096x11008).
"""
import glob, json, os, re, sys

# FLOPs per phase, the same formulas as peers/torch_peer.py.
FLOPS = {
    "sgemm 577x1024x3072": 2 * 577 * 1024 * 3072,
    "sgemm 640x4096x11008": 2 * 640 * 4096 * 11008,
    "sgemm 1x4096x11008": 2 * 1 * 4096 * 11008,
    "linear fp16 1x4096x11008 (streaming)": 2 * 1 * 4096 * 11008,
    "clip forward (23 layers, 577 tokens)": 23 * (2 * 577 * 1024 * (4 * 1024 + 2 * 4096) + 4 * 577 * 577 * 1024),
    "llama layer prefill 640 tokens": 2 * 640 * 4096 * (4 * 4096 + 3 * 11008) + 2 * 640 * 640 * 4096,
    "llama layer prefill 128 tokens": 2 * 128 * 4096 * (4 * 4096 + 3 * 11008) + 2 * 128 * 128 * 4096,
    "llama layer decode step (640 cached)": 2 * 4096 * (4 * 4096 + 3 * 11008),
    "projector 576 tokens": 2 * 576 * 4096 * (1024 + 4096),
    "llama-13b layer prefill 640 tokens": 2 * 640 * 5120 * (4 * 5120 + 3 * 13824) + 2 * 640 * 640 * 5120,
    "llama-13b layer decode step (640 cached)": 2 * 5120 * (4 * 5120 + 3 * 13824),
}
# Our rows compared with a peer row of another name (the same product, different implementation).
PEER_NAME = {"linear fp16 1x4096x11008 (streaming)": "sgemm 1x4096x11008"}
UNIT_MS = {"ns": 1e-6, "μs": 1e-3, "us": 1e-3, "ms": 1.0, "s": 1000.0}


def load_swift(folder):
    """{benchmark name: {"ms": p50 wall clock, "peak_mb": resident peak}}"""
    out = {}
    for path in glob.glob(os.path.join(folder, "*.json")):
        for e in json.load(open(path)):
            name, _, metric = e["name"].rpartition(" - ")
            name = re.sub(r" \[bfloat16\]$", "", name)
            entry = out.setdefault(name, {})
            if metric.startswith("Time (wall clock)"):
                entry["ms"] = e["value"] * UNIT_MS[e["unit"]]
            elif metric.startswith("Memory (resident peak)"):
                entry["peak_mb"] = e["value"] * (1024 if e["unit"] == "G" else 1)
            else:
                # Custom metrics come scaled, with the unit naming the factor ("K" = thousands).
                scale = {"#": 1, "K": 1e3, "M": 1e6, "G": 1e9}.get(e.get("unit", "#"), 1)
                entry[metric] = e["value"] * scale
    return out


def fmt(x, digits=2):
    return "–" if x is None else (f"{x:.{digits}f}" if isinstance(x, float) else str(x))


def main():
    run = sys.argv[1]
    f32 = load_swift(os.path.join(run, "swift-f32"))
    bf16 = load_swift(os.path.join(run, "swift-bf16"))
    peer = json.load(open(os.path.join(run, "torch.json")))
    torch_res = dict(peer["results"])
    pruning_path = os.path.join(run, "pruning_torch.json")
    if os.path.exists(pruning_path):
        pp = json.load(open(pruning_path))
        for r in pp["results"]:
            name = f"vispruner N={pp['N']} D={pp['D']} T={r['tokens']} r={r['ratio']}"
            torch_res[name] = {"float32": {"ms": r["median_ms"]}}
    roof_ms = f32.get("sgemm 640x4096x11008", {}).get("ms")
    roof = FLOPS["sgemm 640x4096x11008"] / roof_ms / 1e6 if roof_ms else None
    lines = []
    if os.path.exists(os.path.join(run, "machine.txt")):
        lines.append(open(os.path.join(run, "machine.txt")).read().strip())
        lines.append("")
    lines.append(f"PyTorch {peer['torch']}, {peer['threads']} threads; roofline = OpenBLAS sgemm 640x4096x11008 "
                 f"in this run: {fmt(roof, 1)} GFLOP/s.")
    lines.append("")
    lines.append("| phase | ours f32 (ms) | GFLOP/s | of roofline | PyTorch f32 (ms) | vs PyTorch f32 | ours bf16 (ms) "
                 "| PyTorch bf16 (ms) | vs PyTorch bf16 | peak RSS (MB) |")
    lines.append("|---|---|---|---|---|---|---|---|---|---|")
    def order(n):
        m = re.search(r"T=(\d+)", n)
        return (n not in FLOPS, list(FLOPS).index(n) if n in FLOPS else 0, re.sub(r"T=\d+", "", n), int(m.group(1)) if m else 0)
    names = sorted((n for n in set(f32) | set(bf16) if not any(k.startswith("ttft") for k in f32.get(n, {}))), key=order)
    for name in names:
        ours = f32.get(name, {}).get("ms")
        ours_b = bf16.get(name, {}).get("ms")
        flops = FLOPS.get(name)
        gf = flops / ours / 1e6 if flops and ours else None
        t = torch_res.get(PEER_NAME.get(name, name), {})
        t32 = t.get("float32", {}).get("ms")
        tb = t.get("bfloat16", {}).get("ms")
        lines.append("| " + " | ".join([
            name, fmt(ours, 1), fmt(gf, 1),
            f"{gf / roof:.0%}" if gf and roof and name.startswith(("clip", "llama layer prefill", "llama-13b layer prefill", "projector", "sgemm 577", "sgemm 640")) else "–",
            fmt(t32, 1), f"{t32 / ours:.2f}×" if t32 and ours else "–",
            fmt(ours_b, 1), fmt(tb, 1), f"{tb / ours_b:.2f}×" if tb and ours_b else "–",
            fmt(f32.get(name, {}).get("peak_mb") or bf16.get(name, {}).get("peak_mb")),
        ]) + " |")
    extra = [(n, e) for n, e in f32.items() if any(k.startswith("ttft") for k in e)]
    if extra:
        lines.append("")
        lines.append("| full generate (7B, 8 new tokens) | wall (s) | time to first token (s) | vision (s) | prefill (s) "
                     "| decode (s/token) | peak RSS (MB) |")
        lines.append("|---|---|---|---|---|---|---|")
        def key(item):
            m = re.search(r"(\d+) visual tokens", item[0])
            return -int(m.group(1)) if m else 0
        for name, e in sorted(extra, key=key):
            g = lambda k: next((v for kk, v in e.items() if kk.startswith(k)), None)
            lines.append(f"| {name} | {fmt(e.get('ms', 0) / 1000)} | {fmt(g('ttft') / 1000 if g('ttft') else None)} "
                         f"| {fmt(g('vision') / 1000 if g('vision') else None)} | {fmt(g('prefill') / 1000 if g('prefill') else None)} "
                         f"| {fmt(g('decode') / 1000 if g('decode') else None)} | {fmt(e.get('peak_mb'))} |")
        base = next((e for n, e in extra if "576 visual" in n), None)
        for n, e in extra:
            if "64 visual" in n and base:
                b, p = (next(v for k, v in x.items() if k.startswith("ttft")) for x in (base, e))
                lines.append("")
                lines.append(f"Time to first token, 576 → 64 visual tokens: {b / p:.1f}× shorter.")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
