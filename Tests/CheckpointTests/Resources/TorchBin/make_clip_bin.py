"""Writes clip-tiny-bin/pytorch_model.bin: the shared fixture clip-tiny's weights saved with torch.save, as
openai/clip-vit-large-patch14-336 ships its tower (needs PyTorch and numpy; run from this folder).
The test loads it through WeightStore and checks the tower gives the same features as the safetensors copy."""
import collections, json, struct
import numpy as np
import torch

src = "../../../../../shared/fixtures/clip-tiny/model.safetensors"
raw = open(src, "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header = json.loads(raw[8:8 + n])
data = raw[8 + n:]
state = collections.OrderedDict()
for name in sorted(k for k in header if k != "__metadata__"):
    info = header[name]
    s, e = info["data_offsets"]
    assert info["dtype"] == "F16"
    arr = np.frombuffer(data[s:e], dtype=np.float16).reshape(info["shape"])
    state[name] = torch.from_numpy(arr.copy())
state["vision_model.embeddings.position_ids"] = torch.arange(577).unsqueeze(0)  # int64 buffer, as old CLIP files have
torch.save(state, "clip-tiny-bin/pytorch_model.bin")
