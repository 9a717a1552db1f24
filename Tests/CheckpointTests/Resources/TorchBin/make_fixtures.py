"""Regenerates the torch.save fixtures used by TorchBin*Tests (needs PyTorch; run from this folder).

Files written:
  state.bin         torch.save(module.state_dict()): OrderedDict carrying `_metadata` (BUILD), fp16/fp32/bf16
                    tensors, two views of one shared storage at non-zero offsets, a size-1 dimension, an int64
                    buffer (position_ids, which the Swift loader skips), and an nn.Parameter (_rebuild_parameter).
  shard-1.bin       plain dict shards as transformers' save_pretrained writes them, with
  shard-2.bin       index.json in the pytorch_model.bin.index.json layout.
  legacy.bin        torch.save(..., _use_new_zipfile_serialization=False): the pre-1.6 format, to be refused.
  expected.json     every float tensor's dtype, shape and values (float32 values, exact), per file.
"""
import collections, json
import torch

torch.manual_seed(1234)


class Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = torch.nn.Linear(4, 3)
        self.norm = torch.nn.LayerNorm(3)
        self.register_buffer("position_ids", torch.arange(5).unsqueeze(0))


def describe(t):
    dtype = {torch.float16: "F16", torch.float32: "F32", torch.bfloat16: "BF16"}[t.dtype]
    return {"dtype": dtype, "shape": list(t.shape), "values": [float(v) for v in t.float().flatten().tolist()]}


m = Tiny()
sd = m.state_dict()
sd["proj.weight"] = sd["proj.weight"].half()
sd["norm.weight"] = sd["norm.weight"].to(torch.bfloat16)
base = torch.randn(12)
sd["shared.a"] = base[3:7]
sd["shared.b"] = base[6:12].view(2, 1, 3)
sd["param"] = torch.nn.Parameter(torch.randn(2, 2).half())
sd["scalar"] = torch.tensor(2.5)
assert hasattr(sd, "_metadata")
torch.save(sd, "state.bin")

shard1 = {"model.embed.weight": torch.randn(4, 3).half(), "model.layers.0.w": torch.randn(3).half()}
shard2 = {"lm_head.weight": torch.randn(2, 3).half(), "model.norm.inv_freq": torch.randn(2)}
torch.save(shard1, "shard-1.bin")
torch.save(shard2, "shard-2.bin")
index = {"metadata": {"total_size": 0}, "weight_map": {}}
for fname, shard in (("shard-1.bin", shard1), ("shard-2.bin", shard2)):
    for k, v in shard.items():
        index["weight_map"][k] = fname
        index["metadata"]["total_size"] += v.numel() * v.element_size()
with open("index.json", "w") as f:
    json.dump(index, f, indent=2)

torch.save({"x": torch.ones(2)}, "legacy.bin", _use_new_zipfile_serialization=False)

expected = {
    "state.bin": {"tensors": {k: describe(v) for k, v in sd.items() if v.dtype.is_floating_point},
                  "skipped": sorted(k for k, v in sd.items() if not v.dtype.is_floating_point)},
    "shard-1.bin": {"tensors": {k: describe(v) for k, v in shard1.items()}, "skipped": []},
    "shard-2.bin": {"tensors": {k: describe(v) for k, v in shard2.items()}, "skipped": []},
    "torch_version": torch.__version__,
}
with open("expected.json", "w") as f:
    json.dump(expected, f, indent=1)
