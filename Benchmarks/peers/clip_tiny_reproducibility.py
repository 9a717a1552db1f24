#!/usr/bin/env python3
"""How reproducible are the recorded LLaVA-1.5 kept indices from an independent float32 CLIP run?

Runs the tiny CLIP tower of ../shared/fixtures (clip-tiny) with PyTorch on this machine, on the recorded
pixel tensors, in the op order of transformers' CLIPVisionModel, then selects tokens from those features
with `vispruner prune` (which is exact given features: it reproduces every recorded selection from the
recorded features) and counts the settings whose kept indices equal the recording.

The tiny random tower's patch features are near-duplicates (pairwise cosine ~0.9996), so VisPruner's
de-duplication ranking turns on differences of ~1e-7; a different torch version or CPU (MKL picks other
kernels) changes them. The Swift engine's own count is printed by PipelineParityTests; this script gives
the same figure for PyTorch itself, as the ceiling an independent float32 implementation can expect.

With --transformers it runs transformers' own CLIPVisionModel instead (install transformers==4.37.2, the
version the reference pins and the recording used, beside torch 2.15): the reference implementation itself.

usage: python3 Benchmarks/peers/clip_tiny_reproducibility.py [--vispruner .build/debug/vispruner] [--transformers]
"""
import argparse, json, os, struct, subprocess, tempfile

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "fixtures"))


def read_safetensors(path):
    blob = open(path, "rb").read()
    n = struct.unpack("<Q", blob[:8])[0]
    header = json.loads(blob[8:8 + n])
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        start, end = meta["data_offsets"]
        dtype = {"F16": np.float16, "F32": np.float32}[meta["dtype"]]
        raw = np.frombuffer(blob[8 + n + start:8 + n + end], dtype=dtype).reshape(meta["shape"])
        out[name] = torch.from_numpy(raw.astype(np.float32))  # float32 compute on fp16-stored weights
    return out


def tower(weights, config, pixels, select_layer=-2):
    """Select-layer patch features [576, D] and that layer's [CLS] attention per head [H, 576]."""
    d, heads, layers = config["hidden_size"], config["num_attention_heads"], config["num_hidden_layers"]
    w = lambda k: weights["vision_model." + k]
    hidden, attention = [], []
    with torch.inference_mode():
        x = F.conv2d(pixels[None], w("embeddings.patch_embedding.weight"), stride=config["patch_size"])
        x = x.flatten(2).transpose(1, 2)
        x = torch.cat([w("embeddings.class_embedding").expand(1, 1, -1), x], dim=1)
        x = x + w("embeddings.position_embedding.weight")[None]
        x = F.layer_norm(x, (d,), w("pre_layrnorm.weight"), w("pre_layrnorm.bias"), config["layer_norm_eps"])
        hidden.append(x)
        split = lambda t: t.view(1, -1, heads, d // heads).transpose(1, 2).reshape(heads, -1, d // heads)
        for i in range(layers):
            p = f"encoder.layers.{i}."
            lin = lambda name, t: F.linear(t, w(p + name + ".weight"), w(p + name + ".bias"))
            h = F.layer_norm(x, (d,), w(p + "layer_norm1.weight"), w(p + "layer_norm1.bias"), config["layer_norm_eps"])
            q = split(lin("self_attn.q_proj", h) * (d // heads) ** -0.5)
            k, v = split(lin("self_attn.k_proj", h)), split(lin("self_attn.v_proj", h))
            probs = torch.bmm(q, k.transpose(1, 2)).softmax(-1)
            attention.append(probs[:, 0, 1:].clone())
            ctx = torch.bmm(probs, v).view(1, heads, -1, d // heads).transpose(1, 2).reshape(1, -1, d)
            x = x + lin("self_attn.out_proj", ctx)
            h = lin("mlp.fc1", F.layer_norm(x, (d,), w(p + "layer_norm2.weight"), w(p + "layer_norm2.bias"),
                                            config["layer_norm_eps"]))
            x = x + lin("mlp.fc2", h * torch.sigmoid(1.702 * h))
            hidden.append(x)
    return hidden[select_layer][0, 1:].numpy(), attention[layers + select_layer].numpy()


def transformers_tower(model, pixels, select_layer=-2):
    """The same two arrays from transformers' CLIPVisionModel, as the reference's vision tower calls it."""
    with torch.inference_mode():
        out = model(pixels[None], output_hidden_states=True, output_attentions=True)
    return out.hidden_states[select_layer][0, 1:].numpy(), out.attentions[select_layer][0, :, 0, 1:].numpy()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vispruner", default=os.path.join(HERE, "..", "..", ".build", "debug", "vispruner"))
    ap.add_argument("--transformers", action="store_true", help="run transformers' CLIPVisionModel")
    args = ap.parse_args()
    if args.transformers:
        import transformers
        from transformers import CLIPVisionModel
        model = CLIPVisionModel.from_pretrained(os.path.join(FIXTURES, "clip-tiny"), torch_dtype=torch.float32).eval()
        run = lambda pixels: transformers_tower(model, pixels)
        source = f"transformers {transformers.__version__} CLIPVisionModel"
    else:
        run = lambda pixels: tower(weights, config, pixels)
        source = "op-by-op tower"
    weights = read_safetensors(os.path.join(FIXTURES, "clip-tiny", "model.safetensors"))
    config = json.load(open(os.path.join(FIXTURES, "clip-tiny", "config.json")))
    cases = [json.loads(l) for l in open(os.path.join(FIXTURES, "llava15", "cases.jsonl"))]
    tmp = tempfile.mkdtemp()
    settings, matches, identical, values, worst = set(), 0, 0, 0, 0.0
    cache = {}
    for c in cases:
        key = (c["image"], c["tokens"], c["ratio"])
        if key in settings or "pixels" not in c:
            continue
        settings.add(key)
        if c["pixels"] not in cache:
            pixels = torch.from_numpy(np.load(os.path.join(FIXTURES, "llava15", c["pixels"])))
            cache[c["pixels"]] = run(pixels)
            recorded = np.load(os.path.join(FIXTURES, "llava15", c["features"]))
            identical += int((cache[c["pixels"]][0] == recorded).sum())
            values += recorded.size
            worst = max(worst, float(np.abs(cache[c["pixels"]][0] - recorded).max()))
        features, attention = cache[c["pixels"]]
        fpath, apath = os.path.join(tmp, "f.npy"), os.path.join(tmp, "a.npy")
        np.save(fpath, features)
        np.save(apath, attention)
        out = subprocess.run([args.vispruner, "prune", "--features", fpath, "--attention", apath,
                              "--tokens", str(c["tokens"]), "--ratio", str(c["ratio"])],
                             capture_output=True, text=True, check=True)
        matches += json.loads(out.stdout)["kept"] == c["kept"]
    print(f"{source}, torch {torch.__version__}, {torch.get_num_threads()} threads: features max abs diff {worst:.3g} from the "
          f"recording, {identical}/{values} values bit-identical; kept indices equal the recording in "
          f"{matches} of {len(settings)} settings")


if __name__ == "__main__":
    main()
