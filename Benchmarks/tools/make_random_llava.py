#!/usr/bin/env python3
"""Writes a LLaVA-1.5 checkpoint of real shape with random fp16 weights (and its CLIP ViT-L/14-336 tower)
into OUT/llava-v1.5-{7b,13b}-random and OUT/clip-vit-large-patch14-336-random, in the real on-disk layout
(sharded safetensors + index, config.json, the tokenizer files copied from the tiny fixture). For memory and
speed measurements only; never commit the output (7B ≈ 14 GB).

usage: make_random_llava.py OUT [--size 7b|13b] [--layers N] [--tokenizer DIR]
"""
import argparse, json, os, shutil, struct
import numpy as np

SIZES = {"7b": dict(hidden=4096, inter=11008, heads=32, layers=32),
         "13b": dict(hidden=5120, inter=13824, heads=40, layers=40)}


def writer(path):
    return {"path": path, "tensors": []}


def write_shard(path, tensors, block):
    """tensors: list of (name, shape, kind) with kind 'ones' or 'random'; data streamed in chunks."""
    header, offset = {}, 0
    for name, shape, _ in tensors:
        n = int(np.prod(shape)) * 2
        header[name] = {"dtype": "F16", "shape": list(shape), "data_offsets": [offset, offset + n]}
        offset += n
    header["__metadata__"] = {"format": "pt"}
    hj = json.dumps(header, separators=(",", ":")).encode()
    hj += b" " * ((8 - len(hj) % 8) % 8)
    ones = np.ones(1 << 20, dtype=np.float16).tobytes()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hj)) + hj)
        for name, shape, kind in tensors:
            left = int(np.prod(shape)) * 2
            src = ones if kind == "ones" else block
            while left > 0:
                k = min(left, len(src))
                f.write(src[:k])
                left -= k
    return offset


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--size", default="7b", choices=SIZES)
    ap.add_argument("--layers", type=int, default=None, help="fewer decoder layers (per-layer benchmarks)")
    ap.add_argument("--tokenizer", default=os.path.join(os.path.dirname(__file__), "../../demo/models/llava15-tiny"))
    a = ap.parse_args()
    s = dict(SIZES[a.size])
    if a.layers is not None:
        s["layers"] = a.layers
    rng = np.random.default_rng(0)
    # A repeated block of N(0, 0.02) halves: real-looking magnitudes without generating 7e9 random numbers.
    block = (rng.standard_normal((1 << 22) + 7) * 0.02).astype(np.float16).tobytes()
    name = f"llava-v1.5-{a.size}-random" + (f"-{s['layers']}l" if a.layers is not None else "")
    model_dir = os.path.join(a.out, name)
    tower_dir = os.path.join(a.out, "clip-vit-large-patch14-336-random")
    os.makedirs(model_dir, exist_ok=True)
    os.makedirs(tower_dir, exist_ok=True)

    # CLIP ViT-L/14-336
    D, L = 1024, 24
    t = [("vision_model.embeddings.class_embedding", (D,), "random"),
         ("vision_model.embeddings.patch_embedding.weight", (D, 3, 14, 14), "random"),
         ("vision_model.embeddings.position_embedding.weight", (577, D), "random"),
         ("vision_model.pre_layrnorm.weight", (D,), "ones"), ("vision_model.pre_layrnorm.bias", (D,), "random"),
         ("vision_model.post_layernorm.weight", (D,), "ones"), ("vision_model.post_layernorm.bias", (D,), "random")]
    for i in range(L):
        p = f"vision_model.encoder.layers.{i}."
        for n in ("q_proj", "k_proj", "v_proj", "out_proj"):
            t += [(p + f"self_attn.{n}.weight", (D, D), "random"), (p + f"self_attn.{n}.bias", (D,), "random")]
        t += [(p + "layer_norm1.weight", (D,), "ones"), (p + "layer_norm1.bias", (D,), "random"),
              (p + "layer_norm2.weight", (D,), "ones"), (p + "layer_norm2.bias", (D,), "random"),
              (p + "mlp.fc1.weight", (4096, D), "random"), (p + "mlp.fc1.bias", (4096,), "random"),
              (p + "mlp.fc2.weight", (D, 4096), "random"), (p + "mlp.fc2.bias", (D,), "random")]
    write_shard(os.path.join(tower_dir, "model.safetensors"), t, block)
    json.dump({"architectures": ["CLIPVisionModel"], "hidden_act": "quick_gelu", "hidden_size": D, "image_size": 336,
               "intermediate_size": 4096, "layer_norm_eps": 1e-5, "model_type": "clip_vision_model",
               "num_attention_heads": 16, "num_channels": 3, "num_hidden_layers": L, "patch_size": 14,
               "projection_dim": 768, "torch_dtype": "float16"}, open(os.path.join(tower_dir, "config.json"), "w"), indent=2)
    shutil.copy(os.path.join(os.path.dirname(__file__), "../../demo/models/clip-tiny/preprocessor_config.json"), tower_dir)

    # LLaMA + projector, two shards as the real checkpoints
    H, I, V = s["hidden"], s["inter"], 32000
    head = [("model.embed_tokens.weight", (V, H), "random"),
            ("model.mm_projector.0.weight", (H, D), "random"), ("model.mm_projector.0.bias", (H,), "random"),
            ("model.mm_projector.2.weight", (H, H), "random"), ("model.mm_projector.2.bias", (H,), "random")]
    layers = []
    for i in range(s["layers"]):
        p = f"model.layers.{i}."
        layers += [(p + "input_layernorm.weight", (H,), "ones"), (p + "post_attention_layernorm.weight", (H,), "ones")]
        for n in ("q_proj", "k_proj", "v_proj", "o_proj"):
            layers.append((p + f"self_attn.{n}.weight", (H, H), "random"))
        layers += [(p + "mlp.gate_proj.weight", (I, H), "random"), (p + "mlp.up_proj.weight", (I, H), "random"),
                   (p + "mlp.down_proj.weight", (H, I), "random")]
    tail = [("model.norm.weight", (H,), "ones"), ("lm_head.weight", (V, H), "random")]
    half = len(layers) // 2
    shards = [head + layers[:half], layers[half:] + tail]
    weight_map, total = {}, 0
    for k, tensors in enumerate(shards):
        fn = f"model-{k + 1:05d}-of-{len(shards):05d}.safetensors"
        total += write_shard(os.path.join(model_dir, fn), tensors, block)
        weight_map.update({n: fn for n, _, _ in tensors})
    json.dump({"metadata": {"total_size": total}, "weight_map": weight_map},
              open(os.path.join(model_dir, "model.safetensors.index.json"), "w"), indent=2)
    cfg = json.load(open(os.path.join(a.tokenizer, "config.json")))
    cfg.update({"hidden_size": H, "intermediate_size": I, "num_attention_heads": s["heads"], "num_key_value_heads": s["heads"],
                "num_hidden_layers": s["layers"], "mm_hidden_size": D, "mm_vision_tower": "../clip-vit-large-patch14-336-random"})
    json.dump(cfg, open(os.path.join(model_dir, "config.json"), "w"), indent=2)
    for f in ("tokenizer.model", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json"):
        shutil.copy(os.path.join(a.tokenizer, f), model_dir)
    print(model_dir)


if __name__ == "__main__":
    main()
