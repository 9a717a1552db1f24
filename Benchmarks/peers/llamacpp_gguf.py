#!/usr/bin/env python3
"""Write a LLaMA-geometry GGUF with random fp16 weights, for timing llama.cpp's `llama-bench` on the same shapes
as this engine's benchmarks (issue 8). Nothing here is a trained model: the weights are noise, only the shapes,
dtypes and metadata are real, which is all a speed measurement needs.

    pip install gguf
    python3 Benchmarks/peers/llamacpp_gguf.py /tmp/llama7b-1l.gguf --layers 1
    python3 Benchmarks/peers/llamacpp_gguf.py /tmp/llama7b-f16.gguf            # 32 layers, 13 GB
    python3 Benchmarks/peers/llamacpp_gguf.py /tmp/llama13b-1l.gguf --size 13b --layers 1

Never commit the output. llama.cpp itself is fetched and built by hand, outside this repository.
"""

import argparse
import sys

import numpy as np

try:
    import gguf
except ImportError:  # keep the failure readable: this is an optional peer, not a project dependency
    sys.exit("llamacpp_gguf.py needs the gguf package: pip install gguf")

# (hidden, heads, MLP) per size; both LLaVA-1.5 language models share the LLaMA-2 vocabulary, context and norms.
SIZES = {"7b": (4096, 32, 11008), "13b": (5120, 40, 13824)}
VOCAB = 32000
CONTEXT = 4096
RMS_EPS = 1e-5
ROPE_THETA = 10000.0


def vocabulary():
    """A 32000-entry SentencePiece-style vocabulary. llama-bench feeds random token ids and never detokenizes, so
    the pieces are placeholders; what matters to llama.cpp's loader is the count, the special ids, and the 256
    byte pieces (it looks up '<0x0A>' for the newline token and would warn and fall back without them)."""
    tokens = [b"<unk>", b"<s>", b"</s>"]
    types = [gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL]
    tokens += [f"<0x{b:02X}>".encode() for b in range(256)]
    types += [gguf.TokenType.BYTE] * 256
    # Placeholder pieces must be distinct: the loader builds a piece -> id map and duplicates would shadow ids.
    filler = VOCAB - len(tokens)
    tokens += [f"\u2581p{i}".encode() for i in range(filler)]
    types += [gguf.TokenType.NORMAL] * filler
    # Descending scores mimic SentencePiece's ordering, so the tokenizer's merge priorities stay well defined.
    scores = [0.0] * 259 + [-float(i) for i in range(filler)]
    return tokens, scores, [int(t) for t in types]


def noise_pool(elements, rng):
    """One block of N(0, 0.02) fp16 values that every matrix is a window of. Drawing fresh noise for 6.7 G
    parameters would cost a minute of both cores on a shared machine; windows at random offsets keep the layers
    distinct while the whole file needs only this block in memory (the writer keeps views, not copies)."""
    pool = np.empty(elements, dtype=np.float16)
    step = 1 << 24  # drawn in float32 chunks so the transient float32 copy stays small
    for start in range(0, elements, step):
        n = min(step, elements - start)
        pool[start:start + n] = rng.standard_normal(n, dtype=np.float32) * np.float32(0.02)
    return pool


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", help="output .gguf path (outside the repository)")
    ap.add_argument("--size", choices=sorted(SIZES), default="7b")
    ap.add_argument("--layers", type=int, default=None,
                    help="decoder layers (default: the real depth, 32 for 7b, 40 for 13b); llama.cpp needs >= 1")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    hidden, heads, mlp = SIZES[args.size]
    layers = args.layers if args.layers is not None else {"7b": 32, "13b": 40}[args.size]
    if layers < 1:
        ap.error("llama.cpp refuses a model with no decoder layer; measure 1 and 2 layers and subtract instead")

    rng = np.random.default_rng(args.seed)
    largest = VOCAB * hidden
    pool = noise_pool(largest + (1 << 20), rng)

    def window(rows, cols):
        n = rows * cols
        off = int(rng.integers(0, pool.size - n + 1))
        return pool[off:off + n].reshape(rows, cols)

    # RMSNorm gains are 1 so activations keep the scale a trained model's would have after each norm.
    ones = np.ones(hidden, dtype=np.float32)

    arch = gguf.MODEL_ARCH_NAMES[gguf.MODEL_ARCH.LLAMA]
    w = gguf.GGUFWriter(args.out, arch)
    w.add_name(f"random-llama-{args.size}-{layers}l")
    w.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    w.add_context_length(CONTEXT)
    w.add_embedding_length(hidden)
    w.add_block_count(layers)
    w.add_feed_forward_length(mlp)
    w.add_head_count(heads)
    w.add_head_count_kv(heads)  # LLaMA-1/2 7B and 13B have no grouped-query attention
    w.add_layer_norm_rms_eps(RMS_EPS)
    w.add_rope_freq_base(ROPE_THETA)
    w.add_rope_dimension_count(hidden // heads)
    w.add_vocab_size(VOCAB)

    tokens, scores, types = vocabulary()
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_unk_token_id(0)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)

    def name(kind, layer=None):
        base = gguf.TENSOR_NAMES[kind]
        return (base.format(bid=layer) if layer is not None else base) + ".weight"

    T = gguf.MODEL_TENSOR
    # numpy shapes are (out, in); the writer reverses them into ggml's (ne0 = in, ne1 = out) order.
    w.add_tensor(name(T.TOKEN_EMBD), window(VOCAB, hidden))
    for i in range(layers):
        w.add_tensor(name(T.ATTN_NORM, i), ones)
        for kind in (T.ATTN_Q, T.ATTN_K, T.ATTN_V, T.ATTN_OUT):
            w.add_tensor(name(kind, i), window(hidden, hidden))
        w.add_tensor(name(T.FFN_NORM, i), ones)
        w.add_tensor(name(T.FFN_GATE, i), window(mlp, hidden))
        w.add_tensor(name(T.FFN_UP, i), window(mlp, hidden))
        w.add_tensor(name(T.FFN_DOWN, i), window(hidden, mlp))
    w.add_tensor(name(T.OUTPUT_NORM), ones)
    # LLaMA-2 / Vicuna keep an untied LM head; writing it makes llama.cpp's per-token head cost match ours.
    w.add_tensor(name(T.OUTPUT), window(VOCAB, hidden))

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()

    params = VOCAB * hidden * 2 + hidden + layers * (4 * hidden * hidden + 3 * hidden * mlp + 2 * hidden)
    print(f"wrote {args.out}: llama {args.size}, {layers} layers, {params / 1e9:.2f} G parameters (fp16 matrices)")


if __name__ == "__main__":
    main()
