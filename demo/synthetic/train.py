#!/usr/bin/env python3
"""Train a tiny LLaVA-1.5 on the synthetic shapes data and save it in the real on-disk layout.

Build tool only (the product never runs Python). The recorded run, with versions, wall time and accuracies, and the
exact command that made the committed weights are in README.md in this folder.

Two stages, because 2 CPU cores cannot train the tower end to end through 576-token LLM sequences:
  1. The CLIP tower alone (`train_tower`), in three phases:
     A. shape only, on 3 x 3-patch windows centred on shape patches that are not slivers (the tower learns what
        shape a patch belongs to from its neighbourhood: on whole pictures, or mixed with the other losses from the
        start, it stayed at the prior);
     B. every per-patch target (colour, shape, sign word, counts, the patch's row/column), on windows plus random
        "context" patches of the same picture at their real positions, so what was learnt carries over to whole
        pictures;
     C. whole pictures, with the per-patch targets and a multi-label + count objective on the select layer's
        [CLS], which is what makes its [CLS]->patch attention (VisPruner's importance score) land on objects.
  2. Tower frozen (features cached exactly), projector + LLaMA decoder trained on multi-turn conversations with
     LLaVA's exact vicuna_v1 prompt, tokenizer_image_token and "pad" preprocessing, loss on answer tokens. Batches
     see all 576 tokens, the object patches plus random background, or a pruned subset, so the model copes with
     pruned inputs the way the Swift engine feeds them. Grounding is supervised: heads of the last supervised layer
     are told where to look (the asked-about patches, both objects of a relation, the right option of a multiple
     choice, the answer's OCR token) and what they bring back must name the answer (see the --*-sup / --*-readout
     options and the `batch_forward` comments).
"""
import argparse
import json
import math
import os
import random
import re
import shutil
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import sentencepiece as spm
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
# the bundled random-weight demo models (copies of the reference fixtures): the real tokenizer and the config
# files the trained checkpoint's are derived from
FIXTURE_LLAVA = os.path.join(HERE, "..", "models", "llava15-tiny")
FIXTURE_CLIP = os.path.join(HERE, "..", "models", "clip-tiny")
MEAN = (0.48145466, 0.4578275, 0.40821073)
STD = (0.26862954, 0.26130258, 0.27577711)
SYSTEM = ("A chat between a curious user and an artificial intelligence assistant. "
          "The assistant gives helpful, detailed, and polite answers to the user's questions.")
IMAGE_TOKEN = -200
COLORS = ["red", "green", "blue", "yellow", "purple", "orange"]
SHAPES = ["circle", "square", "triangle", "star", "cross"]
WORDS = ["CAT", "SUN", "STOP", "BOOK", "MILK", "FISH", "TREE", "DOOR",
         "BIKE", "RAIN", "GOLD", "OPEN", "42", "17", "305", "88"]

# ----------------------------------------------------------------------------- sizes
# 32000 x hidden embeddings + lm_head dominate the file size; 128 keeps everything ~19 MB fp16.
VIS = dict(hidden=96, inter=384, heads=4, layers=4)   # the last layer exists (real layout) but LLaVA never uses it
LLM = dict(hidden=128, inter=256, heads=4, layers=3)


# ----------------------------------------------------------------------------- preprocessing

def preprocess(path):
    """LLaVA-1.5 'pad': expand2square with the mean colour, CLIPImageProcessor (shortest side 336,
    bicubic, centre crop 336). Returned as uint8 HWC so the cache stays small; normalised later."""
    img = Image.open(path).convert("RGB")
    w, h = img.size
    bg = tuple(int(m * 255) for m in MEAN)
    if w != h:
        side = max(w, h)
        sq = Image.new("RGB", (side, side), bg)
        sq.paste(img, ((side - w) // 2, (side - h) // 2))
        img = sq
    # square now: shortest-edge resize to 336 is a plain resize; centre crop is the identity
    img = img.resize((336, 336), Image.BICUBIC)
    return np.asarray(img, dtype=np.uint8)


def normalise(u8):
    x = torch.from_numpy(u8).float().div_(255.0).permute(0, 3, 1, 2)
    m = torch.tensor(MEAN).view(1, 3, 1, 1)
    s = torch.tensor(STD).view(1, 3, 1, 1)
    return (x - m) / s


# ----------------------------------------------------------------------------- tokenisation

class Tok:
    """LLaVA's tokenizer_image_token on the slow LlamaTokenizer (legacy=False). For text without
    special tokens that equals sentencepiece with its dummy prefix, checked against the fixtures."""

    def __init__(self, path):
        self.sp = spm.SentencePieceProcessor(model_file=path)
        self._ans = {}

    def prompt_ids(self, first_turn):
        text = "%s USER: %s ASSISTANT:" % (SYSTEM, first_turn)
        chunks = text.split("<image>")
        ids = [1] + self.sp.encode(chunks[0])
        for c in chunks[1:]:
            ids += [IMAGE_TOKEN] + self.sp.encode(c)
        return ids

    def answer_ids(self, ans):
        # the answer's tokens as they come out of tokenising "... ASSISTANT: ans</s>" in one piece
        if ans not in self._ans:
            head = self.sp.encode("ASSISTANT:")
            full = self.sp.encode("ASSISTANT: " + ans)
            assert full[:len(head)] == head, ans
            self._ans[ans] = full[len(head):] + [2]
        return self._ans[ans]

    def turn_ids(self, q):
        return self.sp.encode("USER: %s ASSISTANT:" % q)


# ----------------------------------------------------------------------------- models
# Module trees mirror the Hugging Face classes so state_dict() keys are the checkpoint's tensor names.

class CLIPAttn(nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.h = h
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = (nn.Linear(d, d) for _ in range(4))

    def forward(self, x, want_cls=False):
        B, N, D = x.shape
        hd = D // self.h
        q = self.q_proj(x).view(B, N, self.h, hd).transpose(1, 2)
        k = self.k_proj(x).view(B, N, self.h, hd).transpose(1, 2)
        v = self.v_proj(x).view(B, N, self.h, hd).transpose(1, 2)
        o = F.scaled_dot_product_attention(q, k, v)
        cls = None
        if want_cls:  # the [CLS] row of the softmax, which VisPruner reads from this layer
            cls = torch.softmax((q[:, :, :1] @ k.transpose(-1, -2)) * hd ** -0.5, -1)[:, :, 0]
        return self.out_proj(o.transpose(1, 2).reshape(B, N, D)), cls


class CLIPMLP(nn.Module):
    def __init__(self, d, i):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(d, i), nn.Linear(i, d)

    def forward(self, x):
        x = self.fc1(x)
        return self.fc2(x * torch.sigmoid(1.702 * x))  # quick_gelu


class CLIPLayer(nn.Module):
    def __init__(self, d, i, h):
        super().__init__()
        self.self_attn, self.mlp = CLIPAttn(d, h), CLIPMLP(d, i)
        self.layer_norm1, self.layer_norm2 = nn.LayerNorm(d, eps=1e-5), nn.LayerNorm(d, eps=1e-5)

    def forward(self, x, want_cls=False):
        a, cls = self.self_attn(self.layer_norm1(x), want_cls)
        x = x + a
        return x + self.mlp(self.layer_norm2(x)), cls


def sincos_2d(d, grid=24):
    q = d // 4
    om = 1.0 / 100.0 ** (torch.arange(q).float() / q)
    ys, xs = torch.meshgrid(torch.arange(grid).float(), torch.arange(grid).float(), indexing="ij")
    fx, fy = xs.reshape(-1, 1) * om, ys.reshape(-1, 1) * om
    pe = torch.cat([fx.sin(), fx.cos(), fy.sin(), fy.cos()], 1) * 0.5
    return torch.cat([torch.zeros(1, d), pe], 0)


class CLIPEmbeddings(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.class_embedding = nn.Parameter(torch.randn(d) * 0.02)
        self.patch_embedding = nn.Conv2d(3, d, 14, 14, bias=False)
        self.position_embedding = nn.Embedding(577, d)
        with torch.no_grad():  # 2D sin-cos start for the (still learned) table: locality from step 0
            self.position_embedding.weight.copy_(sincos_2d(d))

    def forward(self, px):
        p = self.patch_embedding(px).flatten(2).transpose(1, 2)
        c = self.class_embedding.view(1, 1, -1).expand(p.shape[0], 1, -1)
        return torch.cat([c, p], 1) + self.position_embedding.weight


class CLIPEncoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layers = nn.ModuleList(CLIPLayer(c["hidden"], c["inter"], c["heads"]) for _ in range(c["layers"]))


class VisionModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        d = c["hidden"]
        self.embeddings = CLIPEmbeddings(d)
        self.pre_layrnorm = nn.LayerNorm(d, eps=1e-5)
        self.encoder = CLIPEncoder(c)
        self.post_layernorm = nn.LayerNorm(d, eps=1e-5)


class CLIPTower(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.vision_model = VisionModel(c)

    def select(self, px):
        """hidden_states[-2] (all 577 tokens) and that layer's [CLS]->patch attention [B, heads, 576].
        The last layer is skipped: LLaVA never uses its output."""
        vm = self.vision_model
        x = vm.pre_layrnorm(vm.embeddings(px))
        layers = vm.encoder.layers
        cls = None
        for i, layer in enumerate(layers[:-1]):
            x, cls = layer(x, want_cls=(i == len(layers) - 2))
        return x, cls[:, :, 1:]

    def select_tokens(self, u8p, pidx):
        """select() on a subset of a picture's patches, each at its own position: u8p [N, T, 3, 14, 14] uint8 patch
        pixels, pidx [N, T] their indices on the 24 x 24 grid. Returns the select-layer states [N, 1 + T, d].
        Stage 1 trains on such subsets (a small window plus scattered patches of the same picture) because a
        shape's label needs only its neighbourhood, and a subset of 57 tokens costs a tenth of 577."""
        vm = self.vision_model
        e = vm.embeddings
        N, Tn = pidx.shape
        m = torch.tensor(MEAN).view(1, 3, 1, 1)
        s = torch.tensor(STD).view(1, 3, 1, 1)
        px = (u8p.reshape(N * Tn, 3, 14, 14).float() / 255.0 - m) / s
        p = e.patch_embedding(px).reshape(N, Tn, -1)
        pos = e.position_embedding.weight
        c = (e.class_embedding + pos[0]).view(1, 1, -1).expand(N, 1, -1)
        x = vm.pre_layrnorm(torch.cat([c, p + pos[1 + pidx]], 1))
        for layer in vm.encoder.layers[:-1]:
            x, _ = layer(x)
        return x


def picture_patches(pix):
    """[B, 336, 336, 3] uint8 pictures as [B, 576, 3, 14, 14] uint8 patches (row-major, as the tower's grid)."""
    t = torch.from_numpy(pix)
    return t.view(len(pix), 24, 14, 24, 14, 3).permute(0, 1, 3, 5, 2, 4).reshape(len(pix), 576, 3, 14, 14)


def window_index(r0, c0, g):
    """Patch indices of g x g windows at (r0, c0): ints give [g*g], per-image tensors [B] give [B, g*g]."""
    if torch.is_tensor(r0):
        a = torch.arange(g)
        return ((r0.view(-1, 1, 1) + a.view(1, -1, 1)) * 24 + (c0.view(-1, 1, 1) + a.view(1, 1, -1))).flatten(1)
    return ((r0 + torch.arange(g)).view(-1, 1) * 24 + (c0 + torch.arange(g)).view(1, -1)).reshape(-1)


class RMSNorm(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5))


def rope(L, hd, theta=10000.0):
    inv = 1.0 / theta ** (torch.arange(0, hd, 2).float() / hd)
    f = torch.outer(torch.arange(L).float(), inv)
    e = torch.cat([f, f], -1)
    return e.cos(), e.sin()


def rot_half(x):
    a, b = x.chunk(2, -1)
    return torch.cat([-b, a], -1)


class LlamaAttn(nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.h = h
        self.q_proj, self.k_proj, self.v_proj, self.o_proj = (nn.Linear(d, d, bias=False) for _ in range(4))

    def forward(self, x, cos, sin):
        B, L, D = x.shape
        hd = D // self.h
        q, k, v = (p(x).view(B, L, self.h, hd).transpose(1, 2) for p in (self.q_proj, self.k_proj, self.v_proj))
        q = q * cos + rot_half(q) * sin
        k = k * cos + rot_half(k) * sin
        # right padding + causal mask: real tokens never see the padding behind them
        o = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.o_proj(o.transpose(1, 2).reshape(B, L, D))


class LlamaMLP(nn.Module):
    def __init__(self, d, i):
        super().__init__()
        self.gate_proj, self.up_proj = nn.Linear(d, i, bias=False), nn.Linear(d, i, bias=False)
        self.down_proj = nn.Linear(i, d, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class LlamaLayer(nn.Module):
    def __init__(self, d, i, h):
        super().__init__()
        self.self_attn, self.mlp = LlamaAttn(d, h), LlamaMLP(d, i)
        self.input_layernorm, self.post_attention_layernorm = RMSNorm(d), RMSNorm(d)

    def forward(self, x, cos, sin):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin)
        return x + self.mlp(self.post_attention_layernorm(x))


class LlavaInner(nn.Module):
    def __init__(self, c, mm_hidden):
        super().__init__()
        d = c["hidden"]
        self.embed_tokens = nn.Embedding(32000, d)
        self.layers = nn.ModuleList(LlamaLayer(d, c["inter"], c["heads"]) for _ in range(c["layers"]))
        self.norm = RMSNorm(d)
        # mlp2x_gelu: Linear, GELU (erf), Linear -- indices 0 and 2 as in nn.Sequential
        self.mm_projector = nn.Sequential(nn.Linear(mm_hidden, d), nn.GELU(), nn.Linear(d, d))


class Llava(nn.Module):
    def __init__(self, c, mm_hidden):
        super().__init__()
        self.model = LlavaInner(c, mm_hidden)
        self.lm_head = nn.Linear(c["hidden"], 32000, bias=False)
        for m in self.modules():  # LLaMA's initializer_range-style init
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
        nn.init.normal_(self.model.embed_tokens.weight, std=0.02)
        self.heads = c["heads"]

    def hidden(self, embeds, keep_inputs=False):
        L = embeds.shape[1]
        cos, sin = rope(L, embeds.shape[-1] // self.heads)
        x = embeds
        inputs = []
        for layer in self.model.layers:
            if keep_inputs:
                inputs.append(layer.input_layernorm(x))
            x = layer(x, cos, sin)
        if keep_inputs:
            return self.model.norm(x), inputs, (cos, sin)
        return self.model.norm(x)

    def head_output(self, layer, xn, head, A, rows):
        """What one head adds to the residual stream at the rows whose attention rows are A: [n, hidden]."""
        att = self.model.layers[layer].self_attn
        hd = xn.shape[-1] // self.heads
        sl = slice(head * hd, (head + 1) * hd)
        v = xn @ att.v_proj.weight[sl].T                                   # [B, L, hd]
        return (A.unsqueeze(1) @ v[rows]).squeeze(1) @ att.o_proj.weight[:, sl].T

    def head_attention(self, layer, xn, cs, head, rows, pos):
        """Softmax row of one head at sequence positions pos (batch rows rows) over all earlier positions:
        [n, L], zero beyond each position (causal)."""
        cos, sin = cs
        att = self.model.layers[layer].self_attn
        hd = xn.shape[-1] // self.heads
        sl = slice(head * hd, (head + 1) * hd)
        k = xn @ att.k_proj.weight[sl].T                       # [B, L, hd]
        k = k * cos + rot_half(k) * sin
        q = xn[rows, pos] @ att.q_proj.weight[sl].T            # [n, hd]
        q = q * cos[pos] + rot_half(q) * sin[pos]
        sc = (k[rows] @ q.unsqueeze(-1)).squeeze(-1) * hd ** -0.5   # [n, L]
        L = xn.shape[1]
        sc = sc.masked_fill(torch.arange(L).view(1, L) > pos.view(-1, 1), float("-inf"))
        return torch.softmax(sc, -1)


# ----------------------------------------------------------------------------- stage 1: tower

SLIVER = 3  # patches whose object covers fewer of the 9 sample points get no tower target


def tower_targets(labels, names):
    """Dense per-patch targets and [CLS] targets from generate.py's labels.json. Built per picture with numpy
    (one lookup per object, then one gather over its 576 patches): element-wise tensor writes took 40 s for 12000."""
    B = len(names)
    pc = np.full((B, 576), -100, dtype=np.int64)   # colour: 0..5, 6 = none
    ps = np.full((B, 576), -100, dtype=np.int64)   # shape: 0..4, 5 = word sign, 6 = background; slivers -100
    pw = np.full((B, 576), -100, dtype=np.int64)   # word id on sign patches
    pn = np.full((B, 576), -100, dtype=np.int64)   # on a shape's patches: how many shapes of its kind (1..5)
    pt = np.full((B, 576), -100, dtype=np.int64)   # on a shape's patches: how many shapes in all (1..5)
    multi = np.zeros((B, 30 + 16), dtype=np.float32)  # colour x shape present, word present
    counts = np.zeros((B, 5), dtype=np.int64)      # per-shape count 0..5
    mask = np.ones((B, 46), dtype=np.float32)
    for b, n in enumerate(names):
        lab = labels[n]
        objs = lab["objs"]
        gray = lab["gray"]
        if gray:
            mask[b, :30] = 0  # colours unknowable in a gray picture
        for o in objs:
            if o["kind"] == "word":
                multi[b, 30 + WORDS.index(o["word"])] = 1
            else:
                counts[b, SHAPES.index(o["shape"])] += 1
                if not gray:
                    multi[b, COLORS.index(o["color"]) * 5 + SHAPES.index(o["shape"])] = 1
        total = int(counts[b].sum())
        # per object: its label for each target (-100 where a target does not apply), indexed by the patch map
        word = [o["kind"] == "word" for o in objs]
        o_shape = np.array([5 if w else SHAPES.index(o["shape"]) for o, w in zip(objs, word)], dtype=np.int64)
        o_col = np.array([COLORS.index(o["color"]) for o in objs], dtype=np.int64)
        o_word = np.array([WORDS.index(o["word"]) if w else -100 for o, w in zip(objs, word)], dtype=np.int64)
        o_n = np.array([-100 if w else min(5, int(counts[b, SHAPES.index(o["shape"])])) - 1
                        for o, w in zip(objs, word)], dtype=np.int64)
        o_t = np.array([-100 if w else min(5, total) - 1 for w in word], dtype=np.int64)
        j = np.array(lab["patches"], dtype=np.int64)
        bg = j < 0
        on = ~bg
        cover = lab.get("cover")
        if cover is not None:
            on &= np.array(cover) >= SLIVER  # a sliver: too few object pixels to decide any label; no target at all
        jo = j[on]
        ps[b, bg], pc[b, bg] = 6, 6
        ps[b, on] = o_shape[jo]
        if not gray:
            pc[b, on] = o_col[jo]
        pw[b, on], pn[b, on], pt[b, on] = o_word[jo], o_n[jo], o_t[jo]
    t = torch.from_numpy
    return t(pc), t(ps), t(pw), t(pn), t(pt), t(multi), t(mask), t(counts).clamp(max=5)


def tower_heads():
    d = VIS["hidden"]
    return nn.ModuleDict({
        "cls_ln": nn.LayerNorm(d), "cls_multi": nn.Linear(d, 46), "cls_count": nn.Linear(d, 5 * 6),
        "p_ln": nn.LayerNorm(d), "p_col": nn.Linear(d, 7), "p_shape": nn.Linear(d, 7), "p_word": nn.Linear(d, 16),
        "p_n": nn.Linear(d, 5), "p_tot": nn.Linear(d, 5), "p_pos": nn.Linear(d, 2)})


def tower_losses(tower, heads, px, tg, code=None):
    """Stage-1 losses and accuracies on whole pictures px (normalised)."""
    pc, ps, pw, pn, pt, multi, mmask, counts = tg
    B = px.shape[0]
    x, _ = tower.select(px)
    # The probes read the raw select-layer states, with no LayerNorm in between, because that is what the
    # projector gets: with a LayerNorm in the probe the attributes were decodable only after normalisation, and
    # the decoder (from raw features through mlp2x_gelu) could not use them.
    c = x[:, 0] if RAW_HEADS else heads["cls_ln"](x[:, 0])
    p = x[:, 1:] if RAW_HEADS else heads["p_ln"](x[:, 1:])
    L = {"multi": (F.binary_cross_entropy_with_logits(heads["cls_multi"](c), multi, reduction="none") * mmask).mean(),
         "cnt": F.cross_entropy(heads["cls_count"](c).view(B * 5, 6), counts.view(-1)),
         **patch_losses(heads, p, pc, ps, pw, torch.arange(576).expand(B, -1)),
         "pn": masked_ce(heads["p_n"](p), pn), "ptot": masked_ce(heads["p_tot"](p), pt)}
    if code is not None:
        # distillation: the select layer's patch states themselves become the clean code the decoder recipe
        # learns from quickly (oracle_features); slivers, whose object cannot be decided, are left out
        keep = (ps != -100).unsqueeze(-1).float()
        L["distil"] = (((x[:, 1:] - code.float()) ** 2) * keep).sum() / (keep.sum() * x.shape[-1])
    # accuracies on object patches only (background dominates the plain losses)
    with torch.no_grad():
        obj = (ps >= 0) & (ps < 6)
        shp = (ps >= 0) & (ps < 5)  # shapes only: sign patches (class 5) are easy and inflate shape@obj
        acc = {"shape@obj": (heads["p_shape"](p).argmax(-1) == ps)[obj].float().mean().item(),
               "shape@shape": (heads["p_shape"](p).argmax(-1) == ps)[shp].float().mean().item(),
               "col@obj": (heads["p_col"](p).argmax(-1) == pc)[obj & (pc >= 0)].float().mean().item(),
               "word@sign": (heads["p_word"](p).argmax(-1) == pw)[pw >= 0].float().mean().item() if (pw >= 0).any() else 0,
               "n@obj": (heads["p_n"](p).argmax(-1) == pn)[pn >= 0].float().mean().item()}
    return L, acc


def grid_coords(idx):
    """Row and column of patch indices on the 24 x 24 grid, scaled to -1..1: [..., 2]."""
    return torch.stack([idx // 24, idx % 24], -1).float() / 11.5 - 1


def masked_ce(logits, y):
    """Cross-entropy over the targets that are not -100 (zero, with a gradient path, when there are none)."""
    if not (y >= 0).any():
        return logits.sum() * 0
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), ignore_index=-100)


def patch_losses(heads, p, pc, ps, pw, idx):
    """Per-patch colour / shape / word losses. Object and background patches weigh about the same: background is
    ~90% of a picture's patches, and left to itself it teaches the probe to answer 'background' everywhere.
    'pos': the patch's row and column (idx on the 24 x 24 grid, scaled to -1..1), linear in its state, so that the
    decoder can compare where two objects are (relation questions stayed at chance without it)."""
    rc = grid_coords(idx)
    return {"col": masked_ce(heads["p_col"](p), pc.masked_fill(ps == 6, -100))
            + 0.3 * masked_ce(heads["p_col"](p), pc.masked_fill(ps < 6, -100)),
            "shape": masked_ce(heads["p_shape"](p), ps.masked_fill(ps == 6, -100))
            + 0.3 * masked_ce(heads["p_shape"](p), ps.masked_fill(ps < 6, -100)),
            "word": masked_ce(heads["p_word"](p), pw),
            "pos": F.mse_loss(heads["p_pos"](p), rc)}


RAW_HEADS = True  # see tower_losses; --tower-ln-heads restores the LayerNorm probes of earlier runs
TOWER_W = {"multi": 2.0, "cnt": 1.0, "col": 1.0, "shape": 1.0, "word": 1.0, "pn": 0.5, "ptot": 0.5, "distil": 0.0,
           "pos": 1.0}


def subset_batch(patches, tg, pool, n, ctx, g, obj_frac=1.0):
    """n training subsets for stage 1: the 3 x 3 window around a patch drawn from pool (rows of (picture, patch)),
    plus ctx patches drawn at random from the same picture, each at its real position. Only the drawn patch gets
    targets: its whole neighbourhood is in view. Returns pixels [n, 9 + ctx, 3, 14, 14], patch indices and the
    drawn (picture, patch)."""
    k = int(n * obj_frac)
    pick = pool[torch.randint(0, len(pool), (k,), generator=g)]
    if k < n:  # some centres anywhere: background too must stay background
        rnd = torch.stack([torch.randint(0, len(patches), (n - k,), generator=g),
                           torch.randint(0, 576, (n - k,), generator=g)], 1)
        pick = torch.cat([pick, rnd])
    b, i = pick[:, 0], pick[:, 1]
    r0, c0 = (i // 24 - 1).clamp(0, 21), (i % 24 - 1).clamp(0, 21)
    pidx = torch.cat([window_index(r0, c0, 3), torch.randint(0, 576, (n, ctx), generator=g)], 1)
    return patches[b.view(-1, 1), pidx], pidx, b, i


def train_tower(tower, pix, names, labels, args, log, val=None):
    """Stage 1 in three phases (--tower-steps A,B,C). Trained on whole pictures from the start, the tower learns
    colour and background within a few hundred steps and then stays at the shape prior for thousands (every run of
    the sessions before 6 Dec 2026), while the same tower learns shapes quickly on the 3 x 3 neighbourhoods of
    shape patches (the probe of that session, README.md). So:
      A  shape only, on the 3 x 3 windows of shape patches (9 tokens each: 128 windows cost 2 pictures);
      B  all per-patch labels, each window now among --tower-context random patches of its picture: a tower that
         saw only windows attends by content and blurs a shape with far objects of the same colour once it sees a
         whole picture; scattered context teaches it to look near;
      C  whole pictures with every loss, [CLS] ones included (its attention is VisPruner's importance score)."""
    heads = tower_heads()
    params = [p for n, p in tower.named_parameters() if "layers.%d." % (VIS["layers"] - 1) not in n
              and "post_layernorm" not in n] + list(heads.parameters())
    opt = torch.optim.AdamW(params, lr=args.tower_lr, weight_decay=0.01)
    g = torch.Generator().manual_seed(args.seed + 1)
    every = tower_targets(labels, names)  # once: building targets per step is slow
    pc, ps, pw = every[0], every[1], every[2]
    patches = picture_patches(pix)
    shape_pool = ((ps >= 0) & (ps < 5)).nonzero()   # non-sliver shape patches: (picture, patch)
    object_pool = ((ps >= 0) & (ps < 6)).nonzero()  # ... and sign patches
    phases = [int(v) for v in args.tower_steps.split(",")]
    t0 = time.time()
    for phase, steps in zip("ABC", phases):
        for step in range(steps):
            # per phase: 30 warm-up steps, then cosine decay to a tenth
            lr = args.tower_lr * min(1.0, (step + 1) / 30) * (0.1 + 0.45 * (1 + math.cos(math.pi * step / steps)))
            for pg in opt.param_groups:
                pg["lr"] = lr
            if phase == "C":
                idx = torch.randint(0, len(names), (args.tower_batch,), generator=g)
                code = oracle_features(labels, [names[i] for i in idx.tolist()]) if TOWER_W["distil"] > 0 else None
                L, acc = tower_losses(tower, heads, normalise(pix[idx.numpy()]), tuple(t[idx] for t in every), code)
            else:
                ctx = 0 if phase == "A" else args.tower_context
                u8p, pidx, b, i = subset_batch(patches, every, shape_pool if phase == "A" else object_pool,
                                               args.tower_windows, ctx, g, 1.0 if phase == "A" else 0.8)
                # the drawn patch: the window's centre, or off-centre at the picture's border (where the window
                # still holds all of its neighbourhood that exists)
                at = (i // 24 - (i // 24 - 1).clamp(0, 21)) * 3 + (i % 24 - (i % 24 - 1).clamp(0, 21))
                p = tower.select_tokens(u8p, pidx)[torch.arange(len(at)), 1 + at]
                y = [t[b, i] for t in (pc, ps, pw)]
                if phase == "A":
                    L = {"shape": masked_ce(heads["p_shape"](p), y[1])}
                else:
                    L = patch_losses(heads, p, *y, i)
                with torch.no_grad():
                    shp = (y[1] >= 0) & (y[1] < 5)
                    acc = {"shape@shape": (heads["p_shape"](p).argmax(-1) == y[1])[shp].float().mean().item()}
            loss = sum(TOWER_W[k] * v for k, v in L.items())
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            if step % 100 == 0 or step == steps - 1:
                log("tower %s %4d/%d loss %.3f %s %.0fs" % (phase, step, steps, loss.item(), tower_stats(L, acc),
                                                            time.time() - t0))
            if val is not None and ((step + 1) % 1000 == 0 or step == steps - 1):
                tower_val(tower, heads, val, log, "tower val %s@%d" % (phase, step + 1))


@torch.no_grad()
def tower_val(tower, heads, val, log, tag):
    """Held-out tower accuracies (first 64 validation images)."""
    v_pix, v_names, v_labels = val
    code = oracle_features(v_labels, v_names[:64]) if TOWER_W["distil"] > 0 else None
    L, acc = tower_losses(tower, heads, normalise(v_pix[:64]), tower_targets(v_labels, v_names[:64]), code)
    log("%s: %s" % (tag, tower_stats(L, acc)))


def tower_stats(L, acc):
    return "(%s) [%s]" % (" ".join("%s %.3f" % (k, v.item()) for k, v in L.items()),
                          " ".join("%s %.2f" % kv for kv in acc.items()))


def oracle_features(labels, names, scale=4.0):
    """Diagnostics only (--oracle): the ideal select-layer code per patch instead of the tower's output --
    one-hot colour (7), shape (7), sign word (16), how many of its kind (5) and in all (5), plus the patch's
    row and column -- to measure what the decoder recipe can reach with a perfect tower."""
    out = torch.zeros(len(names), 576, VIS["hidden"])
    r = torch.arange(576) // 24
    c = torch.arange(576) % 24
    for b, n in enumerate(names):
        lab = labels[n]
        objs = lab["objs"]
        counts = [sum(1 for o in objs if o["kind"] == "shape" and o["shape"] == x) for x in SHAPES]
        total = sum(counts)
        for i, j in enumerate(lab["patches"]):
            if j < 0:
                out[b, i, 6] = out[b, i, 13] = 1
                continue
            o = objs[j]
            if not lab["gray"]:
                out[b, i, COLORS.index(o["color"])] = 1
            if o["kind"] == "word":
                out[b, i, 12] = 1
                out[b, i, 14 + WORDS.index(o["word"])] = 1
            else:
                out[b, i, 7 + SHAPES.index(o["shape"])] = 1
                out[b, i, 30 + min(5, counts[SHAPES.index(o["shape"])]) - 1] = 1
                out[b, i, 35 + min(5, total) - 1] = 1
        for k in range(4):
            f = math.pi * (k + 1) / 24
            out[b, :, 40 + 4 * k] = torch.sin(r * f)
            out[b, :, 41 + 4 * k] = torch.cos(r * f)
            out[b, :, 42 + 4 * k] = torch.sin(c * f)
            out[b, :, 43 + 4 * k] = torch.cos(c * f)
    return (out * scale).half()


@torch.no_grad()
def encode_all(tower, pix, bs=32):
    feats, atts = [], []
    for i in range(0, len(pix), bs):
        x, cls = tower.select(normalise(pix[i:i + bs]))
        feats.append(x[:, 1:].half())
        atts.append(cls.mean(1))  # head-averaged [CLS] attention, VisPruner's importance score
    return torch.cat(feats), torch.cat(atts)


@torch.no_grad()
def fit_feature_map(feats, kind, target=None, eps=1e-2, ridge=1e-1, chunk=256):
    """A linear map z = (x - mu) @ A + o of the select-layer states for stage 2. One direction carries two thirds
    of the tower's feature variance (the attribute directions ~1%), so the decoder's first hop, a dot product of a
    word's query with the projected patches, learns slowly on raw states. 'whiten' rescales every principal
    direction to unit variance; 'oracle' is the least-squares map to oracle_features (the code the decoder recipe
    learns from quickly). Either way the map is linear, so fold_feature_map puts it into mm_projector.0 exactly and
    the saved checkpoint reads raw states, as LLaVA feeds them."""
    d = feats.shape[-1]
    n, s1, xx = 0, torch.zeros(d, dtype=torch.float64), torch.zeros(d, d, dtype=torch.float64)
    xo, so = torch.zeros(d, d, dtype=torch.float64), torch.zeros(d, dtype=torch.float64)
    for i in range(0, len(feats), chunk):
        x = feats[i:i + chunk].reshape(-1, d).double()
        n, s1, xx = n + len(x), s1 + x.sum(0), xx + x.T @ x
        if kind == "oracle":
            o = target[i:i + chunk].reshape(-1, d).double()
            xo, so = xo + x.T @ o, so + o.sum(0)
    mu = s1 / n
    cov = xx / n - torch.outer(mu, mu)
    if kind == "whiten":
        e, V = torch.linalg.eigh(cov)
        A = V @ torch.diag(1.0 / torch.sqrt(e.clamp(min=0) + eps)) @ V.T
        o = torch.zeros(d, dtype=torch.float64)
    else:
        ob = so / n
        cxo = xo / n - torch.outer(mu, ob)
        A = torch.linalg.solve(cov + ridge * torch.eye(d, dtype=torch.float64), cxo)
        o = ob
    return mu.float(), A.float(), o.float()


@torch.no_grad()
def apply_feature_map(feats, fm, chunk=256):
    mu, A, o = fm
    return torch.cat([((feats[i:i + chunk].float() - mu) @ A + o).half() for i in range(0, len(feats), chunk)])


@torch.no_grad()
def fold_feature_map(model, fm):
    """Projector(map(x)) == projector'(x): W' = W A^T, b' = b + W o - W' mu."""
    mu, A, o = fm
    lin = model.model.mm_projector[0]
    W, b = lin.weight.clone(), lin.bias.clone()
    lin.weight.copy_(W @ A.T)
    lin.bias.copy_(b + W @ o - lin.weight @ mu)


# ----------------------------------------------------------------------------- stage 2: LLM

def build_sample(tok, item):
    """Token segments of one conversation: (prefix ids before <image>, text ids after it, target mask)."""
    conv = item["conversations"]
    first = tok.prompt_ids(conv[0]["value"])
    k = first.index(IMAGE_TOKEN)
    pre, post = first[:k], first[k + 1:]
    targets = [0] * len(post)
    for t in range(0, len(conv), 2):
        if t > 0:
            q = tok.turn_ids(conv[t]["value"])
            post += q
            targets += [0] * len(q)
        a = tok.answer_ids(conv[t + 1]["value"])
        post += a
        targets += [1] * len(a)
    return pre, post, targets


def vispruner_keep(feat, att, T, ratio=0.5):
    """VisPruner's selection (as Sources/Pruning/VisPrunerSelector.swift): the floor(T*ratio) patches with the
    highest [CLS] attention, then iterative de-duplication of the rest (alternate halves A/B, drop the <= 8 A
    tokens most similar to some B token) until the budget is filled. Returns sorted patch indices."""
    order = np.argsort(-att.float().numpy(), kind="stable")
    k = min(576, int(T * ratio))
    imp, res = order[:k], order[k:]
    target = T - k
    if target <= 0:
        return torch.from_numpy(np.sort(imp))
    f = F.normalize(feat.float(), dim=-1).numpy()
    G = f @ f.T  # similarities never change between rounds: one Gram matrix
    while len(res) > target:
        remove = min(8, len(res) - target)
        a, b = res[0::2], res[1::2]
        sc = G[np.ix_(a, b)].max(1)
        ranked = np.argsort(-sc, kind="stable")
        res = np.concatenate([a[ranked[min(remove, len(a)):]], b])
    return torch.from_numpy(np.sort(np.concatenate([imp, res])))


KIND_PATTERNS = [("sqa", r"option's letter"), ("textvqa", r"Reference OCR"), ("ocr", r"written|sign say|word in the image"),
                 ("count", r"[Hh]ow many|Are there (one|two|three|four|five)|only one"),
                 ("relation", r"left|right|above|below"), ("color", r"What color|Is the \w+ (red|green|blue|yellow|purple|orange)\?"),
                 ("shape", r"shape"), ("exist", r"Is there")]


def question_kind(q):
    """Question type of a training / validation turn, for the per-type accuracies."""
    import re
    for k, pat in KIND_PATTERNS:
        if re.search(pat, q):
            return k
    return "other"


def referents(q, lab):
    """Patch indices an answer to question q must look at, from generate.py's per-patch object labels: the
    objects that carry every colour and shape the question names (falling back to its shapes, then its colours,
    e.g. for an absent "purple square": look at the squares); sign words for reading questions; every object
    when it names none ("How many shapes are there?"). Empty when nothing fits."""
    import re
    q = q.replace("Answer the question using a single word or phrase.", "")
    words = set(re.findall(r"[a-z]+", q.lower()))
    cols = {c for c in COLORS if c in words}
    shps = {x for x in SHAPES if x in words or x + "s" in words or x + "es" in words}
    objs = lab["objs"]
    reading = bool(words & {"written", "sign", "word", "say", "ocr"})
    kind_ok = [(o["kind"] == "word") == reading for o in objs]
    col_of = lambda o: None if lab["gray"] else o.get("color")
    pick = None
    for need_c, need_s in ((True, True), (False, True), (True, False)):
        if (need_c and not cols) or (need_s and not shps) or reading and need_s:
            continue
        sel = {j for j, o in enumerate(objs) if kind_ok[j]
               and (not need_c or col_of(o) in cols) and (not need_s or o.get("shape") in shps)}
        if sel:
            pick = sel
            break
    if pick is None:
        if cols or (shps and not reading):
            return []
        pick = {j for j in range(len(objs)) if kind_ok[j]}
    return [i for i, j in enumerate(lab["patches"]) if j in pick]


RELATION = None  # compiled in pair_referents


def pair_referents(q, lab):
    """For a relation question ("Is the star to the left of the red circle?"), the patches of its first and of
    its second object, for two heads that must look at one each: an average over both objects cannot say which
    is where. None for other questions or when either object has no patch."""
    global RELATION
    import re
    if RELATION is None:
        RELATION = re.compile(r"Is (the (?:[a-z]+ )?[a-z]+) (?:to the left or to the right of|above or below|"
                              r"to the left of|to the right of|above|below|on the left of|on the right of) "
                              r"(the (?:[a-z]+ )?[a-z]+)\?")
    m = RELATION.search(q)
    if not m:
        return None
    a, b = referents(m.group(1), lab), referents(m.group(2), lab)
    return (a, b) if a and b else None


VERIFY = re.compile(r"Is there only one [a-z]+ in the image\?|Are there [a-z]+ [a-z]+ in the image\?|"
                    r"Is the [a-z]+ (?P<colour>%s)\?|Is the word in the image \"(?:(?P<word>[a-z]+)\"\?)?"
                    % "|".join(COLORS))


def verification(q):
    """MME's count, colour and OCR questions ("Are there three circles in the image?", "Is the star red?",
    'Is the word in the image "cat"?') are yes/no checks of something the image shows against a value the question
    names, like yes/no relation questions (--yn-verify-weight). Returns (whether q is one, the value it names):
    the value ("cat", "red") only for sign words and colours (--verify-sup); numbers have none, since their
    answers all start with the same token and no readout can name them by it."""
    m = VERIFY.search(q)
    return (False, None) if m is None else (True, m.group("colour") or m.group("word"))


def counts_all(q):
    """"How many shapes are there?": its referents are every shape, whose per-kind counts differ, so what one
    head brings back from them cannot name the total by itself; no readout loss for these."""
    return "How many shapes" in q


SQA_SUP = False     # --sqa-sup
REL_READOUT = 0.0   # --rel-readout
COPY_SUP = 0.0      # --copy-sup
POS_AUX = 0.0       # --pos-aux
POS_PROBES = None   # linear probes (row, column) on the values of heads 0 and 1 of the last supervised layer
REL_IDEAL = False   # --rel-ideal
ASK_SUP = 0.0       # --ask-sup
YN_REL_WEIGHT = 1.0  # --yn-rel-weight
YN_VERIFY_WEIGHT = 1.0  # --yn-verify-weight
VERIFY_SUP = 0.0    # --verify-sup
CHECK_HEAD = 2      # its head in layer 1: sharing head 1 with --ask-sup cost relation answers (v10: MME position 136 -> 88)
VERIFY_IDS = {}     # verified value -> (its ids in the question, its answer's first token, the first tokens of its kind)
COPY_WORDS = {}     # answer ids of each sign word (no </s>) -> the word's ids as an OCR token ("▁CAT") (filled in main)
SHARED_FIRST = set()  # first answer tokens that several answers share (filled in main)
RELATION_IDS = set()  # first tokens of the answers left / right / above / below (filled in main)
AXIS_OF = {}  # relation token -> (the x or y pair it belongs to, in the order left/right or above/below)
YES_NO = {}  # first token of "yes" / "no" -> True / False
LETTER_ANSWERS = {}  # first answer token of "A".."E" -> option index (filled in main)
PIECES = {}  # "<0x0A>", ".", "▁" -> token id, and LETTER_PIECES: "A".."E" after a newline -> index (filled in main)
LETTER_PIECES = {}


def find_run(ids, run, start, end):
    """First position p in [start, end) with ids[p:p+len(run)] == run, or None."""
    for p in range(start, end - len(run) + 1):
        if ids[p:p + len(run)] == run:
            return p
    return None


def choice_tokens(post, start, end):
    """Options of a multiple-choice prompt ("\nA. red\nB. blue") within post[start:end]: (position of the
    option's first informative token, position of its letter), in order; [] when there are none."""
    out = []
    for j in range(start, end - 3):
        if post[j] == PIECES["<0x0A>"] and LETTER_PIECES.get(post[j + 1]) == len(out) and post[j + 2] == PIECES["."]:
            v = j + 3
            if post[v] == PIECES["▁"] and v + 1 < end:  # numbers come as "▁" + digit
                v += 1
            out.append((v, j + 1))
    return out


TOKEN_ATTR = {}  # first token of each colour / shape word -> ("color" | "shape", name); filled in main


def attribute_tokens(tok):
    table = {}
    for c in COLORS:
        table[tok.sp.encode(c)[0]] = ("color", c)
    for x in SHAPES:
        for form in (x, x + "s", x + "es"):
            table[tok.sp.encode(form)[0]] = ("shape", x)
    return table


def attribute_patches(attr, lab):
    """Patches of the objects that have a colour or shape (colour: never in a gray picture)."""
    kind, name = attr
    if kind == "color" and lab["gray"]:
        return []
    objs = lab["objs"]
    pick = {j for j, o in enumerate(objs) if o["kind"] == "shape" and o.get(kind) == name}
    return [i for i, j in enumerate(lab["patches"]) if j in pick]


def readout_tokens(tok):
    """First tokens of colour, shape, count and sign-word answers."""
    answers = COLORS + SHAPES + [w.lower() for w in WORDS] + [str(n) for n in range(1, 6)]
    return {tok.answer_ids(a)[0] for a in answers}


def choose_visual(rng, att, mode, objp=None, feat=None):
    """Indices of the visual tokens to feed (sorted, as the pruning methods keep them), or None for all 576.
    'objects': every object patch (up to T) plus random background -- a cheap sequence that still holds
    the whole answer, so most steps cost a fraction of a full one; 'prune': what pruning methods keep."""
    if mode == "full":
        return None
    if mode.startswith("vispruner"):
        return vispruner_keep(feat, att, int(mode[9:]))
    g = torch.Generator().manual_seed(rng.randrange(1 << 30))
    if mode == "objects":
        T = rng.choice([48, 64, 96, 128, 160])
        obj = torch.tensor(objp, dtype=torch.long)
        obj = obj[torch.randperm(len(obj), generator=g)][:T]
        isobj = torch.zeros(576, dtype=torch.bool)
        isobj[obj] = True
        rest = torch.nonzero(~isobj).view(-1)
        idx = torch.cat([obj, rest[torch.randperm(len(rest), generator=g)][:T - len(obj)]])
        return torch.sort(idx).values
    T = rng.choice([16, 32, 64, 128])
    how = rng.random()
    if how < 0.4:   # FasterVLM-like: top [CLS] attention
        idx = torch.topk(att, T).indices
    elif how < 0.7:  # random
        idx = torch.randperm(576, generator=g)[:T]
    else:            # VisPruner-like mix: important half + spread-out rest
        top = torch.topk(att, T // 2).indices
        taken = torch.zeros(576, dtype=torch.bool)
        taken[top] = True
        rest = torch.nonzero(~taken).view(-1)
        idx = torch.cat([top, rest[torch.randperm(len(rest), generator=g)][:T - T // 2]])
    return torch.sort(idx).values


def aux_targets(tok, labels, names):
    """Per visual token, the answer word of its colour / shape / sign word (index into AUX groups, -100 = none).
    Used by the auxiliary loss: the LLM's last hidden state at a visual token predicts, through lm_head
    restricted to each group's answer tokens, the words an answer about that patch would use."""
    groups = [[tok.answer_ids(c)[0] for c in COLORS], [tok.answer_ids(x)[0] for x in SHAPES],
              [tok.answer_ids(w.lower())[0] for w in WORDS]]
    pc, ps, pw, *_ = tower_targets(labels, names)
    out = []
    for b in range(len(names)):
        t = torch.full((3, 576), -100, dtype=torch.long)
        t[0] = torch.where((pc[b] >= 0) & (pc[b] < 6), pc[b], -100)
        t[1] = torch.where((ps[b] >= 0) & (ps[b] < 5), ps[b], -100)
        t[2] = pw[b]
        out.append(t)
    return groups, out


STATS = {}  # last batch's attention mass on the referents, per supervised layer (for the log)
READOUT_IDS = set()  # first tokens of answers a look at the referents can give (filled in main)


def readout_ok(token_id):
    return token_id in READOUT_IDS


def axis_ce(model, o, words):
    """Readout of head outputs o over the two words of each target word's axis (left/right or above/below):
    cross-entropy and accuracy."""
    lg2 = model.lm_head(model.model.norm(o)).gather(1, torch.tensor([AXIS_OF[w] for w in words]))
    want = torch.tensor([AXIS_OF[w].index(w) for w in words])
    return F.cross_entropy(lg2, want), (lg2.argmax(-1) == want).float().mean().item()


def ideal_look(cols, L):
    """Attention rows spread evenly over the target positions cols[n]."""
    A = torch.zeros(len(cols), L)
    for n, c in enumerate(cols):
        A[n, c] = 1.0 / len(c)
    return A


def look(model, inputs, cs, layer, head, rows, pos, cols, L):
    """One head's softmax rows at (rows, pos) and the mass each puts on its target positions cols[n]; the loss
    -log(mass) is what teaches that head where to look."""
    want = torch.zeros(len(cols), L, dtype=torch.bool)
    for n, c in enumerate(cols):
        want[n, c] = True
    A = model.head_attention(layer, inputs[layer], cs, head, torch.as_tensor(rows), torch.as_tensor(pos))
    return A, (A * want).sum(-1)


def batch_forward(model, batch, feats, atts, rng, mode, per_answer=False, objps=None, aux=None, sup=None):
    """Splice projected visual tokens where <image> was, pad right, return loss and answer-level accuracy.
    sup = (weight, layers, head): attention supervision. At the position that predicts each answer's first
    token, that head of those layers is trained to put its mass on the patches the question is about
    (`referents`), which is what grounding means; without it the tiny decoder, trained from scratch on a few
    thousand steps, settles on the answer prior and never looks at the image."""
    emb = model.model.embed_tokens
    seqs, tgt_pos, tgt_ids, turn_of = [], [], [], []
    tgt_w = []  # per target token: --yn-rel-weight / --yn-verify-weight on the yes/no of those questions, else 1
    aux_pos, aux_t = [], []
    sup_rows, sup_pos, sup_cols, no_read = [], [], [], []
    pair_rows, pair_pos, pair_cols = [], [], []  # head 1: the second object of relation questions
    pair_first = []  # and the first object's positions, for the relation readout
    letters, picks = [], []  # head 1 of multiple-choice prompts: option value -> its letter; answer -> right option
    copies = []  # head 2 of the last supervised layer: a reading answer -> its token in the OCR list
    asked = {}  # (row, answer position) -> the one relation word of a yes/no relation question
    vis_at = []  # (row, sequence position, patch index) of visual tokens, for --pos-aux
    asks = []  # head 1 of layer 1: a yes/no relation answer -> the question's relation word (--ask-sup)
    checks = []  # head CHECK_HEAD of layer 1: a yes/no verification answer -> the value the question names
    tasks = {0: [], 1: []}  # layer -> [(row, position, target positions)] of the two-hop circuit
    for b, (img_i, (pre, post, tmask), *rest) in enumerate(batch):
        v = feats[img_i].float()
        sel = choose_visual(rng, atts[img_i], mode, objps[img_i] if objps is not None else None, feats[img_i])
        if sel is not None:
            v = v[sel]
        vis = model.model.mm_projector(v)
        x = torch.cat([emb(torch.tensor(pre)), vis, emb(torch.tensor(post))])
        off = len(pre) + vis.shape[0]
        if POS_AUX > 0 and sup is not None:
            pidx = sel.tolist() if sel is not None else range(vis.shape[0])
            vis_at += [(b, len(pre) + j, int(q)) for j, q in enumerate(pidx)]
        if aux is not None:
            t = aux[1][img_i] if sel is None else aux[1][img_i][:, sel]
            aux_pos += [(b, len(pre) + j) for j in range(vis.shape[0])]
            aux_t.append(t)
        if sup is not None and len(rest) > 1:
            lab = rest[1]
            q_start, turn = 0, 0
            for i, (t, tid) in enumerate(zip(tmask, post)):
                if t:
                    if not tmask[i - 1]:  # the answer's first token: look back at the question's attribute words
                        value = rest[4][turn][1] if VERIFY_SUP > 0 and len(rest) > 4 else None
                        turn += 1
                        if value is not None and tid in YES_NO:
                            qform, first, kind = VERIFY_IDS[value]
                            at = find_run(post, qform, q_start, i)
                            if at is not None:
                                checks.append((b, off + i - 1, [off + j for j in range(at, at + len(qform))], first, kind))
                        choices = choice_tokens(post, q_start, i) if SQA_SUP else []
                        end = choices[0][0] - 2 if choices else i  # not the options' words
                        words = [j for j in range(q_start, end) if post[j] in TOKEN_ATTR]
                        if words:
                            tasks[1].append((b, off + i - 1, [off + j for j in words]))
                        k = i
                        while k < len(post) and post[k] != 2:
                            k += 1
                        word = COPY_WORDS.get(tuple(post[i:k]))
                        if word is not None:  # a reading answer: look at its OCR token in the prompt, if listed
                            at = find_run(post, word, q_start, i)
                            if at is not None:
                                copies.append((b, off + i - 1, [off + j for j in range(at, at + len(word))], tid))
                        rel = [post[j] for j in range(q_start, i) if post[j] in RELATION_IDS]
                        if len(rel) == 1:
                            asked[(b, off + i - 1)] = rel[0]
                            if ASK_SUP > 0 and tid in YES_NO:
                                at = max(j for j in range(q_start, i) if post[j] == rel[0])
                                asks.append((b, off + i - 1, [off + at], rel[0]))
                        letter = LETTER_ANSWERS.get(tid)
                        if choices and letter is not None and letter < len(choices):
                            for v, lp in choices:  # each option's value token looks at its own letter
                                letters.append((b, off + v, [off + lp]))
                            picks.append((b, off + i - 1, [off + choices[letter][0]], tid))
                    q_start = i + 1
                    continue
                attr = TOKEN_ATTR.get(tid)
                if attr is not None:  # an attribute word looks at the patches that have it
                    r = torch.tensor(attribute_patches(attr, lab), dtype=torch.long)
                    if sel is not None and len(r):
                        r = torch.nonzero(torch.isin(sel, r)).view(-1)
                    if len(r):
                        tasks[0].append((b, off + i, (len(pre) + r).tolist()))
        turn = 0
        for i, (t, tid) in enumerate(zip(tmask, post)):
            if t:
                if sup is not None and rest and (i == 0 or not tmask[i - 1]):
                    pair = rest[2][turn] if len(rest) > 2 else None
                    targets = [(0, rest[0][turn])] if pair is None else [(0, pair[0]), (1, pair[1])]
                    first_cols = None
                    for head, refs in targets:
                        r = torch.tensor(refs, dtype=torch.long)
                        if sel is not None and len(r):
                            r = torch.nonzero(torch.isin(sel, r)).view(-1)
                        if not len(r):
                            continue
                        if head == 0:
                            sup_rows.append(b)
                            sup_pos.append(off + i - 1)
                            sup_cols.append(len(pre) + r)
                            no_read.append(len(rest) > 3 and rest[3][turn])
                            first_cols = len(pre) + r
                        else:
                            pair_rows.append(b)
                            pair_pos.append(off + i - 1)
                            pair_cols.append(len(pre) + r)
                            pair_first.append(first_cols)  # None when the first object was pruned away
                tgt_pos.append((b, off + i - 1))  # logits at the previous position predict this token
                tgt_ids.append(tid)
                yn = tid in YES_NO
                tgt_w.append(YN_REL_WEIGHT if yn and (b, off + i - 1) in asked else
                             YN_VERIFY_WEIGHT if yn and len(rest) > 4 and rest[4][turn][0] else 1.0)
                turn_of.append((b, turn))
                if tid == 2:
                    turn += 1
        seqs.append(x)
    L = max(s.shape[0] for s in seqs)
    X = torch.stack([F.pad(s, (0, 0, 0, L - s.shape[0])) for s in seqs])
    if sup is not None and (sup_rows or pair_rows or letters or tasks[0] or tasks[1] or vis_at or asks):
        H, inputs, cs = model.hidden(X, keep_inputs=True)
    else:
        H = model.hidden(X)
    bi = torch.tensor([p[0] for p in tgt_pos])
    pi = torch.tensor([p[1] for p in tgt_pos])
    logits = model.lm_head(H[bi, pi])  # lm_head only where there is a target
    y = torch.tensor(tgt_ids)
    if YN_REL_WEIGHT != 1.0 or YN_VERIFY_WEIGHT != 1.0:
        # yes/no relation and verification answers are a few percent of the tokens and a 50% prior already fits
        # them, so the comparison of what the image shows with what the question names gets little gradient
        # unless they weigh more
        w = torch.tensor(tgt_w)
        loss = (F.cross_entropy(logits, y, reduction="none") * w).sum() / w.sum()
    else:
        loss = F.cross_entropy(logits, y)
    if aux is not None:
        ai = torch.tensor([p[0] for p in aux_pos])
        aj = torch.tensor([p[1] for p in aux_pos])
        ha = H[ai, aj]
        at = torch.cat(aux_t, 1)
        for g, ids in enumerate(aux[0]):
            if (at[g] >= 0).any():
                loss = loss + aux[2] * F.cross_entropy(ha @ model.lm_head.weight[ids].T, at[g], ignore_index=-100)
    if sup is not None and len(sup) > 4:
        for layer, items in tasks.items():
            if not items:
                continue
            rows_, pos_ = torch.tensor([t[0] for t in items]), torch.tensor([t[1] for t in items])
            A_, mass_ = look(model, inputs, cs, layer, sup[2], rows_, pos_, [t[2] for t in items], L)
            STATS["hop@%d" % layer] = mass_.mean().item()
            loss = loss + sup[4] * -(torch.log(mass_ + 1e-4)).mean()
            if layer == 1 and sup[3] > 0:  # what the answer brings back from the question's words names the answer
                first = torch.tensor([tgt_ids[tgt_pos.index((t[0], t[1]))] for t in items])
                keep = torch.tensor([readout_ok(int(f)) for f in first])
                if keep.any():
                    o = model.head_output(layer, inputs[layer], sup[2], A_, rows_)
                    loss = loss + sup[3] * F.cross_entropy(model.lm_head(model.model.norm(o[keep])), first[keep])
    if sup is not None and sup_rows:
        rows, pos = torch.tensor(sup_rows), torch.tensor(sup_pos)
        for layer in sup[1]:
            A, mass = look(model, inputs, cs, layer, sup[2], rows, pos, sup_cols, L)
            STATS["mass@%d" % layer] = mass.mean().item()
            loss = loss + sup[0] * -(torch.log(mass + 1e-4)).mean()
            if len(sup) > 3 and sup[3] > 0:
                # readout: what that head brings back from the referents must name the answer by itself, for
                # answers that are a property of the patches looked at (a colour, a shape, a count, a word)
                keep = torch.tensor([readout_ok(tgt_ids[tgt_pos.index((b, p))]) and not nr
                                     for b, p, nr in zip(sup_rows, sup_pos, no_read)])
                if keep.any():
                    o = model.head_output(layer, inputs[layer], sup[2], A, rows)
                    first = torch.tensor([tgt_ids[tgt_pos.index((b, p))] for b, p in zip(sup_rows, sup_pos)])
                    lg = model.lm_head(model.model.norm(o[keep]))
                    loss = loss + sup[3] * F.cross_entropy(lg, first[keep])
    if sup is not None and pair_rows:
        rows, pos = torch.tensor(pair_rows), torch.tensor(pair_pos)
        for layer in sup[1]:
            _, mass = look(model, inputs, cs, layer, 1, rows, pos, pair_cols, L)
            STATS["pair@%d" % layer] = mass.mean().item()
            loss = loss + sup[0] * -(torch.log(mass + 1e-4)).mean()
        if REL_READOUT > 0:
            # relation readout: what heads 0 and 1 of the last supervised layer bring back from the two objects
            # must name the direction by itself, which makes their value paths carry where each object is. Over
            # the two words of the question's axis only: the objects alone do not say whether the question is
            # about x or y, and over all four words the loss could not tell a readout that knows the direction
            # from one that knows only the axis (both sit near ln 2). Yes/no questions ("Is A above B?") say the
            # direction too: the asked word if yes, its opposite if no.
            first = []
            for b, p in zip(pair_rows, pair_pos):
                f, a = tgt_ids[tgt_pos.index((b, p))], asked.get((b, p))
                if f not in RELATION_IDS and f in YES_NO and a is not None:
                    ab = AXIS_OF[a]
                    f = a if YES_NO[f] else ab[1 - ab.index(a)]
                first.append(f)
            keep = [k for k, (f, c0) in enumerate(zip(first, pair_first)) if f in RELATION_IDS and c0 is not None]
            if keep:
                layer = max(sup[1])
                kr, kp = rows[keep], pos[keep]
                c0, c1 = [pair_first[k] for k in keep], [pair_cols[k] for k in keep]
                if REL_IDEAL:  # the value path learns from the look it should have, not from a diluted one
                    A0, A1 = ideal_look(c0, L), ideal_look(c1, L)
                else:
                    A0, A1 = (look(model, inputs, cs, layer, h, kr, kp, c, L)[0] for h, c in ((0, c0), (1, c1)))
                o = model.head_output(layer, inputs[layer], 0, A0, kr) + model.head_output(layer, inputs[layer], 1, A1, kr)
                rl, STATS["rel_acc"] = axis_ce(model, o, [first[k] for k in keep])
                STATS["rel"] = rl.item()
                loss = loss + REL_READOUT * rl
    if sup is not None and letters:
        for layer, items, name in ((0, letters, "letter@0"), (max(sup[1]), picks, "pick@%d" % max(sup[1]))):
            rows_, pos_ = torch.tensor([t[0] for t in items]), torch.tensor([t[1] for t in items])
            A_, mass_ = look(model, inputs, cs, layer, 1, rows_, pos_, [t[2] for t in items], L)
            STATS[name] = mass_.mean().item()
            loss = loss + sup[4] * -(torch.log(mass_ + 1e-4)).mean()
            if items is picks and sup[3] > 0:  # what the answer brings back from the right option names its letter
                o = model.head_output(layer, inputs[layer], 1, A_, rows_)
                first = torch.tensor([t[3] for t in items])
                loss = loss + sup[3] * F.cross_entropy(model.lm_head(model.model.norm(o)), first)
    if sup is not None and copies and COPY_SUP > 0:
        # copy: TextVQA-style prompts list the OCR tokens; the answer's head 2 looks at the listed word and what it
        # brings back must name the answer (the lower-case word) by itself
        layer = max(sup[1])
        rows_, pos_ = torch.tensor([t[0] for t in copies]), torch.tensor([t[1] for t in copies])
        A_, mass_ = look(model, inputs, cs, layer, 2, rows_, pos_, [t[2] for t in copies], L)
        STATS["copy@%d" % layer] = mass_.mean().item()
        loss = loss + COPY_SUP * -(torch.log(mass_ + 1e-4)).mean()
        keep = torch.tensor([t[3] not in SHARED_FIRST for t in copies])  # numbers all start with "▁"
        if keep.any():
            o = model.head_output(layer, inputs[layer], 2, A_, rows_)
            first = torch.tensor([t[3] for t in copies])
            loss = loss + COPY_SUP * F.cross_entropy(model.lm_head(model.model.norm(o[keep])), first[keep])
    if asks:
        # yes/no relation questions compare the direction the objects show (heads 0 and 1 of the last supervised
        # layer) with the direction asked; head 1 of layer 1 brings the asked word to the answer position, and what
        # it brings must name it (over the two words of its axis)
        rows_, pos_ = torch.tensor([t[0] for t in asks]), torch.tensor([t[1] for t in asks])
        A_, mass_ = look(model, inputs, cs, 1, 1, rows_, pos_, [t[2] for t in asks], L)
        STATS["ask@1"] = mass_.mean().item()
        al, _ = axis_ce(model, model.head_output(1, inputs[1], 1, A_, rows_), [t[3] for t in asks])
        loss = loss + ASK_SUP * (-(torch.log(mass_ + 1e-4)).mean() + al)
    if checks:
        # yes/no verifications ('Is the word in the image "cat"?', "Is the star red?") compare what head 0 of the
        # last supervised layer reads from the object with the value the question names; a head of layer 1
        # brings that value to the answer position, and what it brings must name it among the values of its kind
        rows_, pos_ = torch.tensor([t[0] for t in checks]), torch.tensor([t[1] for t in checks])
        A_, mass_ = look(model, inputs, cs, 1, CHECK_HEAD, rows_, pos_, [t[2] for t in checks], L)
        STATS["check@1"] = mass_.mean().item()
        lg = model.lm_head(model.model.norm(model.head_output(1, inputs[1], CHECK_HEAD, A_, rows_)))
        allowed = torch.zeros_like(lg, dtype=torch.bool)
        for n, t in enumerate(checks):
            allowed[n, t[4]] = True
        lg, want = lg.masked_fill(~allowed, float("-inf")), torch.tensor([t[3] for t in checks])
        cl = F.cross_entropy(lg, want)
        STATS["check_acc"] = (lg.argmax(-1) == want).float().mean().item()
        loss = loss + VERIFY_SUP * (-(torch.log(mass_ + 1e-4)).mean() + cl)
    if vis_at and POS_AUX > 0:
        # the values of heads 0 and 1 of the last supervised layer say where their patch is (row, column): the
        # tower knows it (a linear probe on its output is within 0.02 MSE), but without this the decoder's value
        # path dropped it (0.34 MSE against a variance of 0.36), so relations had nothing to compare
        pick = random.Random(len(vis_at)).sample(vis_at, min(256, len(vis_at)))
        bi_, pi_ = torch.tensor([t[0] for t in pick]), torch.tensor([t[1] for t in pick])
        q = torch.tensor([t[2] for t in pick])
        want = grid_coords(q)
        layer = max(sup[1])
        att = model.model.layers[layer].self_attn
        hd = inputs[layer].shape[-1] // model.heads
        pl = 0.0
        for h in (0, 1):
            v = inputs[layer][bi_, pi_] @ att.v_proj.weight[h * hd:(h + 1) * hd].T
            pl = pl + F.mse_loss(POS_PROBES[h](v), want)
        STATS["pos"] = pl.item() / 2
        loss = loss + POS_AUX * pl
    ok = (logits.argmax(-1) == y).tolist()
    per = {}
    for k, o in zip(turn_of, ok):  # an answer is right only if every token (and </s>) is
        per[k] = per.get(k, True) and o
    if per_answer:
        return loss, per
    return loss, sum(per.values()), len(per)


def train_llm(model, samples, feats, atts, objps, val, args, log, val_kinds=None, aux=None, sup=None, warm=None):
    params = list(model.parameters()) + (list(POS_PROBES.parameters()) if POS_PROBES is not None else [])
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01, betas=(0.9, 0.98))
    rng = random.Random(args.seed + 2)
    steps, B = args.steps, args.batch
    t0 = time.time()
    run_c = run_n = 0
    for step in range(steps):
        lr = args.lr * min(1.0, (step + 1) / 50) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * step / steps)))
        for pg in opt.param_groups:
            pg["lr"] = lr
        batch = [samples[rng.randrange(len(samples))] for _ in range(B)]
        r = rng.random()  # one kind of visual input per batch, so little padding is wasted
        mode = "full" if r < args.full_frac else ("objects" if r < 0.75 else "prune")
        f = warm if warm is not None and step < args.oracle_warmup else feats
        loss, c, n = batch_forward(model, batch, f, atts, rng, mode, objps=objps, aux=aux, sup=sup)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        run_c, run_n = run_c + c, run_n + n
        if step % 25 == 0 or step == steps - 1:
            log("llm %4d/%d loss %.3f train-acc(last 25 steps) %.1f%% %s %.0fs" % (
                step, steps, loss.item(), 100 * run_c / max(1, run_n),
                " ".join("%s %.2f" % kv for kv in sorted(STATS.items())), time.time() - t0))
            run_c = run_n = 0
        if val and (step + 1) % args.val_every == 0 and step + 1 < steps:
            model.eval()
            evaluate(model, val, log, "val@%d" % (step + 1), kinds=val_kinds)
            model.train()


@torch.no_grad()
def evaluate(model, val, log, tag, mode="full", kinds=None):
    """Teacher-forced exact-answer accuracy: first turn (= the benchmark prompt) and all turns, and, with
    kinds (question type per turn of each sample), all-turn accuracy per question type."""
    samples, feats, atts = val
    rng = random.Random(123)
    c1 = n1 = ca = na = 0
    per_kind = {}
    for i in range(0, len(samples), 16):
        b = samples[i:i + 16]
        # one pass gives both numbers: with a causal mask the first answer sees exactly the
        # benchmark prompt, so its correctness is the single-turn (benchmark) accuracy
        _, per = batch_forward(model, b, feats, atts, rng, mode, per_answer=True)
        for (bb, turn), ok in per.items():
            ca, na = ca + ok, na + 1
            if turn == 0:
                c1, n1 = c1 + ok, n1 + 1
            if kinds is not None:
                k = kinds[i + bb][turn]
                c, n = per_kind.get(k, (0, 0))
                per_kind[k] = (c + ok, n + 1)
    pk = " ".join("%s %.1f%% (%d)" % (k, 100 * c / n, n) for k, (c, n) in sorted(per_kind.items()))
    log("%s [%s]: first-turn exact answer %.2f%% (%d), all turns %.2f%% (%d) %s" % (
        tag, mode, 100 * c1 / n1, n1, 100 * ca / na, na, pk))
    return 100 * c1 / n1, 100 * ca / na


# ----------------------------------------------------------------------------- saving

def write_shards(sd, out_model):
    """Several shards with an index, as the real 7B/13B checkpoints ship; each stays under 8 MiB so the weights can
    be committed: the token embedding, the rest of the decoder with the projector, and lm_head."""
    part = lambda k: 0 if k == "model.embed_tokens.weight" else 2 if k == "lm_head.weight" else 1
    names = ["model-%05d-of-00003.safetensors" % (n + 1) for n in range(3)]
    for f in os.listdir(out_model):
        if f.endswith(".safetensors"):
            os.remove(os.path.join(out_model, f))
    for n, name in enumerate(names):
        save_file({k: v for k, v in sd.items() if part(k) == n}, os.path.join(out_model, name), metadata={"format": "pt"})
    total = sum(v.numel() * v.element_size() for v in sd.values())
    json.dump({"metadata": {"total_size": total}, "weight_map": {k: names[part(k)] for k in sorted(sd)}},
              open(os.path.join(out_model, "model.safetensors.index.json"), "w"), indent=2)


def save_checkpoints(tower, model, out_model, out_tower):
    os.makedirs(out_tower, exist_ok=True)
    os.makedirs(out_model, exist_ok=True)
    sd = {k: v.detach().to(torch.float16).contiguous() for k, v in tower.state_dict().items()}
    save_file(sd, os.path.join(out_tower, "model.safetensors"), metadata={"format": "pt"})
    cfg = json.load(open(os.path.join(FIXTURE_CLIP, "config.json")))
    cfg.update(hidden_size=VIS["hidden"], intermediate_size=VIS["inter"], num_attention_heads=VIS["heads"],
               num_hidden_layers=VIS["layers"])
    json.dump(cfg, open(os.path.join(out_tower, "config.json"), "w"), indent=2)
    shutil.copy(os.path.join(FIXTURE_CLIP, "preprocessor_config.json"), out_tower)

    write_shards({k: v.detach().to(torch.float16).contiguous() for k, v in model.state_dict().items()}, out_model)
    cfg = json.load(open(os.path.join(FIXTURE_LLAVA, "config.json")))
    cfg.update(hidden_size=LLM["hidden"], intermediate_size=LLM["inter"], num_attention_heads=LLM["heads"],
               num_key_value_heads=LLM["heads"], num_hidden_layers=LLM["layers"], mm_hidden_size=VIS["hidden"],
               mm_vision_tower="../" + os.path.basename(os.path.abspath(out_tower)), initializer_range=0.02)
    json.dump(cfg, open(os.path.join(out_model, "config.json"), "w"), indent=2)
    for f in ("tokenizer.model", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json"):
        shutil.copy(os.path.join(FIXTURE_LLAVA, f), out_model)


# ----------------------------------------------------------------------------- main

def load_split(path, tok, limit=None, workers=1):
    items = json.load(open(os.path.join(path, "train.json")))[:limit]
    labels = json.load(open(os.path.join(path, "labels.json")))
    # Pillow releases the GIL while it decodes and resizes, so threads share the work; map keeps the order
    with ThreadPoolExecutor(max(1, workers)) as ex:
        pix = np.stack(list(ex.map(preprocess, [os.path.join(path, "images", it["image"]) for it in items])))
    return items, labels, pix


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train", required=True)
    ap.add_argument("--val", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out-model", default=os.path.join(HERE, "..", "models", "llava15-synth"))
    ap.add_argument("--out-tower", default=os.path.join(HERE, "..", "models", "clip-synth"))
    ap.add_argument("--tower-steps", default="3000,1500,400",
                    help="stage-1 steps of its three phases A,B,C (see train_tower): shape windows, windows in "
                         "scattered context, whole pictures")
    ap.add_argument("--tower-batch", type=int, default=16, help="whole pictures per phase-C step")
    ap.add_argument("--tower-windows", type=int, default=128, help="windows per phase-A/B step")
    ap.add_argument("--tower-context", type=int, default=48, help="random patches beside each phase-B window")
    ap.add_argument("--tower-lr", type=float, default=2e-3)
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--val-every", type=int, default=300)
    ap.add_argument("--limit", type=int, default=3000, help="use only the first N training images")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--val-limit", type=int, default=150)
    ap.add_argument("--aux-weight", type=float, default=0.3,
                    help="weight of the auxiliary loss: visual tokens predict their colour / shape / word answer token")
    ap.add_argument("--attn-sup", type=float, default=0.5,
                    help="weight of the attention supervision (head 0 of --attn-layers looks at the asked-about patches)")
    ap.add_argument("--readout-weight", type=float, default=0.5,
                    help="weight of the readout loss: the supervised head's output alone predicts attribute answers")
    ap.add_argument("--hop-weight", type=float, default=0.5,
                    help="two-hop circuit supervision: in layer 0, head 0 of each colour/shape word looks at the "
                         "patches that have it; in layer 1, head 0 of the answer position looks at the question's words")
    ap.add_argument("--attn-layers", default="1,2", help="decoder layers (0-based) whose head 0 is supervised")
    ap.add_argument("--full-frac", type=float, default=0.2, help="share of LLM batches that see all 576 tokens")
    ap.add_argument("--tower-ln-heads", action="store_true",
                    help="stage-1 probes behind a LayerNorm (earlier runs); default: probes on the raw features")
    ap.add_argument("--tower-ckpt", default=None,
                    help="pilots only: load the stage-1 tower state from this file if it exists, else save it there")
    ap.add_argument("--init-from", default=None,
                    help="start from a saved llava15-synth checkpoint (its tower is kept frozen, the tower stage "
                         "is skipped): used to continue the LLM stage with a fresh, decaying learning rate")
    ap.add_argument("--distil", type=float, default=0.0,
                    help="weight of the stage-1 loss that pulls the select layer's patch states to oracle_features")
    ap.add_argument("--pair-sup", action="store_true",
                    help="relation questions: head 0 of --attn-layers looks at the first object, head 1 at the second; "
                         "no readout loss on 'How many shapes'")
    ap.add_argument("--sqa-sup", action="store_true",
                    help="multiple-choice prompts: head 1 of layer 0 at each option looks at its letter, head 1 of the "
                         "last --attn-layers layer at the answer looks at the right option and names its letter")
    ap.add_argument("--rel-readout", type=float, default=0.0,
                    help="with --pair-sup: weight of the loss that makes heads 0 and 1 (looking at the two objects of "
                         "a left/right or above/below question) name the answer by their outputs alone")
    ap.add_argument("--copy-sup", type=float, default=0.0,
                    help="weight of the copy supervision: on reading questions whose prompt lists OCR tokens, head 2 "
                         "of the last --attn-layers layer looks at the answer's token and names the answer")
    ap.add_argument("--pos-aux", type=float, default=0.0,
                    help="weight of linear probes that read each visual token's row and column from the values of "
                         "heads 0 and 1 of the last supervised layer (what relation questions compare)")
    ap.add_argument("--rel-ideal", action="store_true",
                    help="relation readout through the attention it should have (even over each object's patches)")
    ap.add_argument("--ask-sup", type=float, default=0.0,
                    help="yes/no relation questions: head 1 of layer 1 at the answer looks at the asked relation word "
                         "and names it (weight of both losses)")
    ap.add_argument("--yn-rel-weight", type=float, default=1.0,
                    help="loss weight of yes/no answers to relation questions (\"Is A to the left of B?\"), "
                         "relative to every other answer token")
    ap.add_argument("--yn-verify-weight", type=float, default=1.0,
                    help="loss weight of yes/no answers to MME's count, colour and OCR questions")
    ap.add_argument("--verify-sup", type=float, default=0.0,
                    help="head 2 of layer 1 brings the value a sign-word / colour yes/no question names to the answer")
    ap.add_argument("--llm-layers", type=int, default=LLM["layers"], help="decoder depth")
    ap.add_argument("--tower-layers", type=int, default=VIS["layers"],
                    help="CLIP tower depth (LLaVA reads the output of the last but one layer)")
    ap.add_argument("--tower-hidden", type=int, default=VIS["hidden"], help="CLIP tower width (MLP: 4x)")
    ap.add_argument("--feature-map", choices=["none", "whiten", "oracle"], default="none",
                    help="stage 2 trains on linearly mapped tower states (whitened, or least-squares fitted to "
                         "oracle_features); the map is folded into mm_projector.0 before evaluation and saving")
    ap.add_argument("--oracle-warmup", type=int, default=0,
                    help="with --feature-map oracle: the first N decoder steps see oracle_features themselves")
    ap.add_argument("--oracle", action="store_true",
                    help="diagnostics: train the decoder on ideal per-patch codes (oracle_features); saves nothing")
    args = ap.parse_args()
    LLM["layers"] = args.llm_layers
    VIS.update(layers=args.tower_layers, hidden=args.tower_hidden, inter=4 * args.tower_hidden)

    global RAW_HEADS
    RAW_HEADS = not args.tower_ln_heads
    TOWER_W["distil"] = args.distil
    # determinism: fixed seeds, fixed thread count, deterministic kernels where torch has them
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True, warn_only=True)

    logf = open(os.path.join("/tmp", "synth-train.log"), "a")
    t_start = time.time()

    def log(s):
        s = "[%6.0fs] %s" % (time.time() - t_start, s)
        print(s, flush=True)
        logf.write(s + "\n")
        logf.flush()

    log("args %s | torch %s numpy %s sentencepiece %s" % (vars(args), torch.__version__, np.__version__, spm.__version__))
    tok = Tok(os.path.join(FIXTURE_LLAVA, "tokenizer.model"))
    items, labels, pix = load_split(args.train, tok, args.limit, args.threads)
    v_items, v_labels, v_pix = load_split(args.val, tok, args.val_limit, args.threads)
    log("loaded %d train / %d val images" % (len(items), len(v_items)))

    if args.init_from:
        import check  # local helper: reads a checkpoint back into these modules
        tower, init_model = check.load(args.init_from)
    else:
        init_model = None
        tower = CLIPTower(VIS)
        for m in tower.modules():
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)
        if args.tower_ckpt and os.path.exists(args.tower_ckpt):
            tower.load_state_dict(torch.load(args.tower_ckpt))
            log("tower loaded from %s" % args.tower_ckpt)
        else:
            train_tower(tower, pix, [it["image"] for it in items], labels, args, log,
                        val=(v_pix, [it["image"] for it in v_items], v_labels))
            if args.tower_ckpt:
                torch.save(tower.state_dict(), args.tower_ckpt)
    tower.eval()
    for p in tower.parameters():
        p.requires_grad_(False)
    feats, atts = encode_all(tower, pix)
    v_feats, v_atts = encode_all(tower, v_pix)
    if args.oracle:
        feats = oracle_features(labels, [it["image"] for it in items])
        v_feats = oracle_features(v_labels, [it["image"] for it in v_items])
        log("diagnostic: oracle features replace the tower's (nothing is saved)")
    log("cached select-layer features %s" % (tuple(feats.shape),))
    fm, raw, warm = None, None, None
    if args.feature_map != "none" and not args.oracle:
        target = oracle_features(labels, [it["image"] for it in items]) if args.feature_map == "oracle" else None
        fm = fit_feature_map(feats, args.feature_map, target)
        raw = (feats, v_feats)
        feats, v_feats = apply_feature_map(feats, fm), apply_feature_map(v_feats, fm)
        if target is not None:
            err = ((feats[:256].float() - target[:256].float()) ** 2).mean().item()
            log("feature map fitted to oracle_features: MSE %.3f (oracle code mean square %.3f)" % (
                err, (target[:256].float() ** 2).mean().item()))
            if args.oracle_warmup > 0:
                warm = target
        else:
            log("feature map: whitened")

    # the decoder starts from the same weights whether stage 1 ran or its cached tower was loaded
    torch.manual_seed(args.seed + 3)
    model = Llava(LLM, VIS["hidden"])
    if init_model is not None:
        model.load_state_dict(init_model.state_dict())
    turn_refs = lambda it: [referents(c["value"], labels[it["image"]]) for c in it["conversations"][0::2]]
    turn_pairs = lambda it: [pair_referents(c["value"], labels[it["image"]]) if args.pair_sup else None
                             for c in it["conversations"][0::2]]
    turn_noread = lambda it: [args.pair_sup and counts_all(c["value"]) for c in it["conversations"][0::2]]
    turn_checks = lambda it: [verification(c["value"]) for c in it["conversations"][0::2]]
    samples = [(i, build_sample(tok, it), turn_refs(it), labels[it["image"]], turn_pairs(it), turn_noread(it),
                turn_checks(it)) for i, it in enumerate(items)]
    objps = [[k for k, j in enumerate(labels[it["image"]]["patches"]) if j >= 0] for it in items]
    v_samples = [(i, build_sample(tok, it)) for i, it in enumerate(v_items)]
    kinds = lambda its: [[question_kind(c["value"]) for c in it["conversations"][0::2]] for it in its]
    v_kinds, t_kinds = kinds(v_items), kinds(items[:args.val_limit])
    aux = None
    if args.aux_weight > 0:
        groups, tg = aux_targets(tok, labels, [it["image"] for it in items])
        aux = (groups, tg, args.aux_weight)
    sup = None
    if args.attn_sup > 0:
        sup = (args.attn_sup, [int(x) for x in args.attn_layers.split(",")], 0, args.readout_weight, args.hop_weight)
        READOUT_IDS.update(readout_tokens(tok))
        global SQA_SUP, REL_READOUT, COPY_SUP, POS_AUX, POS_PROBES, REL_IDEAL, ASK_SUP, YN_REL_WEIGHT, YN_VERIFY_WEIGHT, \
            VERIFY_SUP
        SQA_SUP = args.sqa_sup
        REL_READOUT = args.rel_readout if args.pair_sup else 0.0
        COPY_SUP = args.copy_sup
        POS_AUX, REL_IDEAL, ASK_SUP, YN_REL_WEIGHT = args.pos_aux, args.rel_ideal, args.ask_sup, args.yn_rel_weight
        YN_VERIFY_WEIGHT, VERIFY_SUP = args.yn_verify_weight, args.verify_sup
        signs = [w.lower() for w in WORDS if not w.isdigit()]
        for kind, forms in ((signs, lambda v: tok.sp.encode('"%s"' % v)[1:-1]), (COLORS, tok.sp.encode)):
            firsts = [tok.answer_ids(v)[0] for v in kind]
            assert len(set(firsts)) == len(firsts), kind  # a readout over first tokens must tell them apart
            VERIFY_IDS.update({v: (forms(v), f, firsts) for v, f in zip(kind, firsts)})
        if POS_AUX > 0:
            POS_PROBES = nn.ModuleList([nn.Linear(LLM["hidden"] // LLM["heads"], 2) for _ in range(2)])
        COPY_WORDS.update({tuple(tok.answer_ids(w.lower())[:-1]): tok.sp.encode(w) for w in WORDS})
        firsts = [tok.answer_ids(a)[0] for a in COLORS + SHAPES + [w.lower() for w in WORDS] + [str(n) for n in range(6)]]
        SHARED_FIRST.update(f for f in firsts if firsts.count(f) > 1)
        rids = [tok.answer_ids(x)[0] for x in ("left", "right", "above", "below")]
        RELATION_IDS.update(rids)
        AXIS_OF.update({r: (rids[0], rids[1]) if k < 2 else (rids[2], rids[3]) for k, r in enumerate(rids)})
        YES_NO.update({tok.answer_ids("yes")[0]: True, tok.answer_ids("no")[0]: False})
        # the question's relation words must be the answer tokens, or yes/no relation questions get no readout
        for w, r in zip(("left", "right", "above", "below"), rids):
            assert r in tok.sp.encode("Is the star %s the red circle?" % w), w
        LETTER_ANSWERS.update({tok.answer_ids(x)[0]: k for k, x in enumerate("ABCDE")})
        LETTER_PIECES.update({tok.sp.piece_to_id(x): k for k, x in enumerate("ABCDE")})
        PIECES.update({x: tok.sp.piece_to_id(x) for x in ("<0x0A>", ".", "▁")})
        TOKEN_ATTR.update(attribute_tokens(tok))
    train_llm(model, samples, feats, atts, objps, (v_samples, v_feats, v_atts), args, log, val_kinds=v_kinds, aux=aux,
              sup=sup, warm=warm)
    model.eval()
    if fm is not None:
        with torch.no_grad():
            before = model.model.mm_projector(v_feats[:4].float())
            fold_feature_map(model, fm)
            feats, v_feats = raw
            after = model.model.mm_projector(v_feats[:4].float())
        log("feature map folded into mm_projector.0: projector outputs differ by at most %.2e (scale %.1f)" % (
            (before - after).abs().max().item(), before.abs().max().item()))
    tr = evaluate(model, (samples[:args.val_limit], feats, atts), log, "final train (first %d images)" % args.val_limit,
                  kinds=t_kinds)
    va = evaluate(model, (v_samples, v_feats, v_atts), log, "final val", kinds=v_kinds)
    for T in (128, 64, 32, 16):  # VisPruner emulation (ratio 0.5) on the validation images
        evaluate(model, (v_samples, v_feats, v_atts), log, "final val", mode="vispruner%d" % T, kinds=v_kinds)
    if args.oracle:
        return
    save_checkpoints(tower, model, args.out_model, args.out_tower)
    log("saved %s and %s; total %.1f min; train %.2f/%.2f val %.2f/%.2f (first-turn / all turns)" % (
        args.out_model, args.out_tower, (time.time() - t_start) / 60, tr[0], tr[1], va[0], va[1]))


if __name__ == "__main__":
    main()
