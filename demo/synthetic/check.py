#!/usr/bin/env python3
"""Cross-check a saved checkpoint against the Swift engine's `generate --json`.

Loads the safetensors files written by train.py back into the PyTorch modules (fp16 weights
upcast to fp32, as the reference fixtures were recorded), runs LLaVA-1.5 greedy decoding on one
image + prompt without pruning, and prints input_ids, generated ids/text and the 16 patches with
the highest select-layer [CLS] attention, so they can be diffed with the engine's output:

  python3 check.py --model ../models/llava15-synth --image IMG --prompt "What color is the star?
  Answer the question using a single word or phrase." [--swift ../../.build/release/vispruner]
"""
import argparse
import json
import os
import subprocess

import torch
from safetensors.torch import load_file

import train as T


def load(model_dir):
    cfg = json.load(open(os.path.join(model_dir, "config.json")))
    tdir = os.path.normpath(os.path.join(model_dir, cfg["mm_vision_tower"]))
    vcfg = json.load(open(os.path.join(tdir, "config.json")))
    vis = dict(hidden=vcfg["hidden_size"], inter=vcfg["intermediate_size"], heads=vcfg["num_attention_heads"],
               layers=vcfg["num_hidden_layers"])
    llm = dict(hidden=cfg["hidden_size"], inter=cfg["intermediate_size"], heads=cfg["num_attention_heads"],
               layers=cfg["num_hidden_layers"])
    tower = T.CLIPTower(vis)
    tower.load_state_dict({k: v.float() for k, v in load_file(os.path.join(tdir, "model.safetensors")).items()})
    model = T.Llava(llm, vis["hidden"])
    idx = json.load(open(os.path.join(model_dir, "model.safetensors.index.json")))
    sd = {}
    for f in sorted(set(idx["weight_map"].values())):
        sd.update({k: v.float() for k, v in load_file(os.path.join(model_dir, f)).items()})
    model.load_state_dict(sd)
    return tower.eval(), model.eval()


@torch.no_grad()
def generate(tower, model, tok, image, prompt, max_new=16):
    ids = tok.prompt_ids("<image>\n" + prompt)
    k = ids.index(T.IMAGE_TOKEN)
    x, cls = tower.select(T.normalise(T.preprocess(image)[None]))
    vis = model.model.mm_projector(x[0, 1:])
    emb = model.model.embed_tokens
    seq = torch.cat([emb(torch.tensor(ids[:k])), vis, emb(torch.tensor(ids[k + 1:]))])
    out = []
    for _ in range(max_new):
        h = model.hidden(seq[None])
        nxt = int(model.lm_head(h[0, -1]).argmax())
        if nxt == 2:
            break
        out.append(nxt)
        seq = torch.cat([seq, emb(torch.tensor([nxt]))])
    att = cls[0].mean(0)
    return ids, out, tok.sp.decode(out).strip(), sorted(torch.topk(att, 16).indices.tolist())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--image", required=True)
    ap.add_argument("--prompt", required=True)
    ap.add_argument("--swift", default=None, help="vispruner binary to compare with")
    a = ap.parse_args()
    tok = T.Tok(os.path.join(a.model, "tokenizer.model"))
    tower, model = load(a.model)
    ids, out, text, top = generate(tower, model, tok, a.image, a.prompt)
    print(json.dumps({"python": {"input_ids": ids, "generated_ids": out, "text": text, "top16_cls": top}}))
    if a.swift:
        r = subprocess.run([a.swift, "generate", "--model", a.model, "--image", a.image, "--prompt", a.prompt,
                            "--json", "--max-new-tokens", "16"], capture_output=True, text=True)
        j = json.loads(r.stdout)
        print(json.dumps({"swift": {k: j.get(k) for k in ("input_ids", "generated_ids", "text")}}))
        print("input_ids equal:", j.get("input_ids") == ids, "| text equal:", j.get("text") == text)


if __name__ == "__main__":
    main()
