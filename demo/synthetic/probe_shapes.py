#!/usr/bin/env python3
"""Diagnostics: can a model tell the shape under one patch from its 3 x 3-patch neighbourhood (42 x 42 px of the
336 view)? Stage 1 of train.py leaves the tower's shape accuracy near the prior; this isolates the task.

  python3 probe_shapes.py --train /tmp/synth-train --val /tmp/synth-val --model vit [--random-pos] [--full-every 4]

--model cnn: a three-conv network (the task's reference point); mlp: two layers on the pixels; vit: train.py's own
CLIPTower (same width, depth and init) on the window, read at the centre token through a linear head.
--random-pos gives each window its real-looking position embeddings at a random grid spot (default: fixed);
--full-every N makes every Nth step a batch of 16 whole training pictures with the same head on every shape patch,
as train.py's stage 1 interleaves them. Prints held-out accuracy every 300 steps.
"""
import argparse
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import train as T


def windows(path, limit, tok):
    """Every non-sliver shape patch: its 42 x 42 neighbourhood (zero-padded at the border) and its shape index."""
    items, labels, pix = T.load_split(path, tok, limit)
    pad = np.pad(pix, ((0, 0), (14, 14), (14, 14), (0, 0)))
    xs, ys = [], []
    for b, it in enumerate(items):
        lab = labels[it["image"]]
        for i, j in enumerate(lab["patches"]):
            if j >= 0 and lab["cover"][i] >= T.SLIVER and lab["objs"][j]["kind"] == "shape":
                r, c = divmod(i, 24)
                xs.append(pad[b, r * 14:r * 14 + 42, c * 14:c * 14 + 42])
                ys.append(T.SHAPES.index(lab["objs"][j]["shape"]))
    return T.normalise(np.stack(xs)), torch.tensor(ys), (labels, [it["image"] for it in items], pix)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train", required=True)
    ap.add_argument("--val", required=True)
    ap.add_argument("--model", choices=["cnn", "mlp", "vit"], default="vit")
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--limit", type=int, default=2000)
    ap.add_argument("--random-pos", action="store_true")
    ap.add_argument("--full-every", type=int, default=0)
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(2)
    tok = T.Tok(os.path.join(T.FIXTURE_LLAVA, "tokenizer.model"))
    X, Y, (labels, names, pix) = windows(args.train, args.limit, tok)
    Xv, Yv, _ = windows(args.val, 150, tok)
    print("%d training windows, %d held out; classes %s" % (len(X), len(Xv), torch.bincount(Y).tolist()))
    if args.model == "cnn":
        net = nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), nn.GELU(), nn.MaxPool2d(2),
                            nn.Conv2d(32, 64, 3, padding=1), nn.GELU(), nn.MaxPool2d(2),
                            nn.Conv2d(64, 64, 3, padding=1), nn.GELU(), nn.AdaptiveMaxPool2d(1), nn.Flatten(),
                            nn.Linear(64, 5))
        fwd = net
    elif args.model == "mlp":
        net = nn.Sequential(nn.Flatten(), nn.Linear(3 * 42 * 42, 256), nn.GELU(), nn.Linear(256, 5))
        fwd = net
    else:
        tower, head = T.CLIPTower(T.VIS), nn.Linear(T.VIS["hidden"], 5)
        for m in tower.modules():
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)
        net = nn.ModuleList([tower, head])

        def fwd(x):
            if args.random_pos:
                r0, c0 = torch.randint(0, 22, (2, len(x)))
            else:
                r0, c0 = 5, 5
            return head(tower.select_crop(x, r0, c0, 3)[:, 1 + 4])
        every = T.tower_targets(labels, names)[1]
    params = list(net.parameters())
    opt = torch.optim.AdamW(params, 2e-3, weight_decay=0.01)
    for step in range(args.steps):
        if args.model == "vit" and args.full_every and step % args.full_every == args.full_every - 1:
            bi = torch.randint(0, len(names), (16,))
            x, _ = tower.select(T.normalise(pix[bi.numpy()]))
            ps = every[bi].masked_fill(every[bi] >= 5, -100)  # shapes only; signs and background carry no target
            loss = F.cross_entropy(head(x[:, 1:]).reshape(-1, 5), ps.reshape(-1), ignore_index=-100)
        else:
            idx = torch.randint(0, len(X), (128,))
            loss = F.cross_entropy(fwd(X[idx]), Y[idx])
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        if step % 300 == 299:
            with torch.no_grad():
                pred = torch.cat([fwd(Xv[i:i + 512]).argmax(-1) for i in range(0, len(Xv), 512)])
            print("%s step %d loss %.3f held-out accuracy %.2f" % (args.model, step + 1, loss.item(),
                                                                   (pred == Yv).float().mean().item()), flush=True)


if __name__ == "__main__":
    main()
