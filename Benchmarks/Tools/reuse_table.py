#!/usr/bin/env python3
"""Markdown tables from a ReuseBenchmarks run: set totals with and without reuse, the id checks,
batched decode, and the 32-layer estimates (Benchmarks/README.md, "Sweep throughput").

    python3 Benchmarks/Tools/reuse_table.py [OUT_DIR]     # default /tmp/vispruner-reuse-bench

What is measured: everything on the 1-layer (and, for decode, 2-layer) checkpoint. What is estimated:
the 32-layer figures, from these rules: preprocessing, the tower, selection and the projector do not
depend on decoder depth; prefill scales with the number of layers except the LM head on each
sequence's last row; a decode step is 32 x (one layer's step) + the head's step, both taken from the
1- and 2-layer decode benchmarks at the same batch size.
"""
import json
import os
import sys

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.environ.get("TMPDIR", "/tmp"), "vispruner-reuse-bench")
records = {}
with open(os.path.join(out, "results.jsonl")) as f:
    for line in f:
        r = json.loads(line)
        records[r["name"]] = r  # the last run of a name wins
checks = {}
for name in os.listdir(os.path.join(out, "checks")):
    with open(os.path.join(out, "checks", name)) as f:
        checks[name] = json.load(f)

LAYERS = 32


def rec(name):
    return records.get(name)


def check(set_, variant):
    c = checks.get(f"{set_}-reuse-{variant}.json")
    if not c:
        return "not compared"
    if not c["different"] and not c["missing"]:
        return f"{c['identical']}/{c['compared']} identical"
    return f"{len(c['different'])} DIFFERENT of {c['compared']}"


# Decode: per-step times at 1 and 2 layers → one layer's step and the head's step, per batch.
decode = {}
for r in records.values():
    if r["set"] == "decode":
        decode[(r["batch"], r["layers"])] = r
layer_step, head_step = {}, {}
for b in (1, 4, 8):
    if (b, 1) in decode and (b, 2) in decode:
        one, two = decode[(b, 1)]["ms_per_step"], decode[(b, 2)]["ms_per_step"]
        layer_step[b] = max(0.0, two - one)
        head_step[b] = one - layer_step[b]


def batch_for(questions):
    return max(b for b in (1, 4, 8) if b <= max(1, min(8, questions)))


def scaled_item(stages, items, batch):
    """Seconds per item at 32 layers from one layer's summed stage times (ms) over `items` items."""
    fixed = sum(stages[k] for k in ("preprocess", "vision", "prune", "projector")) / items
    prefill, dec = stages["prefill"] / items, stages["decode"] / items
    if batch in layer_step:
        l, h = layer_step[batch], head_step[batch]
        head_in_prefill = h / batch  # each sequence's last prompt row goes through the head once
        prefill = LAYERS * max(0.0, prefill - head_in_prefill) + head_in_prefill
        dec = dec * (LAYERS * l + h) / (l + h) if l + h > 0 else dec
    else:
        prefill, dec = LAYERS * prefill, LAYERS * dec
    return (fixed + prefill + dec) / 1000, fixed / 1000, prefill / 1000, dec / 1000


print("| set | setting(s) | images × questions | items | no-reuse (s) | reuse (s) | speed-up | ids reuse vs no-reuse |")
print("|---|---|---|---|---|---|---|---|")
rows = []
gqa_plain = next((r for r in records.values() if r["set"] == "gqa" and r["mode"] == "noreuse"), None)
gqa_grid = next((r for r in records.values() if r["set"] == "gqa" and r["mode"] == "reuse" and r["variant"] == "grid"), None)
if gqa_plain and gqa_grid:
    rows.append(("GQA-shaped", "grid (3)", gqa_plain, gqa_plain["wall_ms"], gqa_grid, "grid"))
for label in ("unpruned", "vispruner128", "vispruner64"):
    alone = next((r for r in records.values() if r["set"] == "gqa" and r["mode"] == "reuse" and r["variant"] == label), None)
    if gqa_plain and alone:
        rows.append(("GQA-shaped", label, gqa_plain, gqa_plain["per_setting"][label]["wall_ms"], alone, label))
for set_, title in (("pope", "POPE-shaped"), ("sqa", "ScienceQA-shaped")):
    p, g = rec(f"{set_} noreuse all"), rec(f"{set_} reuse vispruner64")
    if p and g:
        rows.append((title, "vispruner64", p, p["wall_ms"], g, "vispruner64"))
for title, setting, plain, plain_ms, reuse, variant in rows:
    n = reuse["items"]
    print(f"| {title} | {setting} | {reuse['images']} × {reuse['questions_per_image']} | {n} | {plain_ms / 1000:.1f} | "
          f"{reuse['wall_ms'] / 1000:.1f} | **{plain_ms / reuse['wall_ms']:.2f}×** | {check(reuse['set'], variant)} |")

print()
print("Per item, seconds (1 layer measured → 32 layers estimated; reuse: shared stages amortised over the items sharing them):")
print()
print("| set | setting | path | vision+prep (s) | prefill 1L (s) | decode 1L (s) | item 1L (s) | item 32L est. (s) | speed-up 32L |")
print("|---|---|---|---|---|---|---|---|---|")
for set_, plain_name, reuse_names in (
        ("gqa", gqa_plain and gqa_plain["name"], {l: f"gqa reuse {l}" for l in ("unpruned", "vispruner128", "vispruner64")}),
        ("pope", "pope noreuse all", {"vispruner64": "pope reuse vispruner64"}),
        ("sqa", "sqa noreuse all", {"vispruner64": "sqa reuse vispruner64"})):
    plain = rec(plain_name) if plain_name else None
    if not plain:
        continue
    for label, reuse_name in reuse_names.items():
        reuse = rec(reuse_name)
        if not reuse:
            continue
        per = []
        for path, r, batch in (("no-reuse", plain, 1), ("reuse", reuse, batch_for(reuse["questions_per_image"]))):
            e = r["per_setting"][label]
            s, n = e["stages_ms"], e["items"]
            est = scaled_item(s, n, batch)
            per.append(est[0])
            item1 = sum(s[k] for k in ("preprocess", "vision", "prune", "projector", "prefill", "decode")) / n / 1000
            print(f"| {set_} | {label} | {path} | {(s['preprocess'] + s['vision']) / n / 1000:.2f} | {s['prefill'] / n / 1000:.2f} | "
                  f"{s['decode'] / n / 1000:.3f} | {item1:.2f} | {est[0]:.2f} |" + (f" {per[0] / per[1]:.2f}× |" if path == "reuse" else " |"))

print()
print("| batched decode (VisPruner 64, 16 tokens, ~125 cached positions) | ms/step 1 layer | tokens/s 1 layer | vs B=1 | ms/step 2 layers | tokens/s 2 layers | vs B=1 | one layer's step (ms) | head step (ms) | 32 layers est. tokens/s | vs B=1 |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for b in (1, 4, 8):
    cells = [f"B = {b}"]
    for layers in (1, 2):
        r, base = decode.get((b, layers)), decode.get((1, layers))
        if r and base:
            cells += [f"{r['ms_per_step']:.1f}", f"{r['tokens_per_s']:.1f}", f"{r['tokens_per_s'] / base['tokens_per_s']:.2f}×"]
        else:
            cells += ["–"] * 3
    if b in layer_step and 1 in layer_step:
        t32 = b / ((LAYERS * layer_step[b] + head_step[b]) / 1000)
        t32_1 = 1 / ((LAYERS * layer_step[1] + head_step[1]) / 1000)
        cells += [f"{layer_step[b]:.1f}", f"{head_step[b]:.1f}", f"{t32:.2f}", f"{t32 / t32_1:.2f}×"]
    else:
        cells += ["–"] * 4
    print("| " + " | ".join(cells) + " |")
full = [r for r in records.values() if r["set"] == "decode" and not r["all_full_length"]]
print()
print("Every decode sequence ran its full length." if not full else f"Sequences stopped early (EOS): {[r['name'] for r in full]}")
