#!/usr/bin/env python3
"""Load the demo checkpoint with the reference LLaVA code (haotian-liu/LLaVA) and compare its greedy answers with
the Swift engine's, item by item. Build/diagnostic tool only: the product never runs Python.

  # a checkout of https://github.com/haotian-liu/LLaVA (its llava/ package is imported, never copied here) and
  # the versions its pyproject pins for the parts used (protobuf because the tokenizer config says legacy=false,
  # as llava-v1.5-7b's does)
  python3 -m venv /tmp/refenv --system-site-packages
  /tmp/refenv/bin/pip install transformers==4.37.2 tokenizers==0.15.1 accelerate==0.21.0 shortuuid protobuf
  # Swift answers of the unpruned runs (any results folder of `vispruner demo`)
  swift run -c release vispruner demo --method vispruner --tokens 64
  cd ../models/llava15-synth      # the config names its tower as ../clip-synth, resolved from the working folder
  /tmp/refenv/bin/python ../../synthetic/reference_check.py --llava-repo /path/to/LLaVA \
      --data ../../data-synth --answers ../../../results/demo/submissions --limit 40

For each benchmark it reads LLaVA's question file, answers the first --limit items with the reference code
(`load_pretrained_model`, conv_templates["vicuna_v1"], `process_images` with the config's "pad",
`tokenizer_image_token`, `model.generate(do_sample=False)`), in float32 (weights are stored in fp16; the Swift
engine also computes in float32), and compares the text with the Swift answers file of the unpruned run.
Exit status 1 when any answer differs.
"""
import argparse
import glob
import json
import os
import sys

import torch
from PIL import Image

# benchmark -> (question file, image folder) under the data root, as datasets.json has them
BENCHMARKS = {
    "gqa": ("gqa/llava_gqa_testdev_balanced.jsonl", "gqa/data/images"),
    "pope": ("pope/llava_pope_test.jsonl", "pope/val2014"),
    "mme": ("MME/llava_mme.jsonl", "MME/MME_Benchmark_release_version"),
    "textvqa": ("textvqa/llava_textvqa_val_v051_ocr.jsonl", "textvqa/train_images"),
    "vqav2": ("vqav2/llava_vqav2_mscoco_test-dev2015.jsonl", "vqav2/test2015"),
}


def swift_answers(folder, bench):
    """(question_id, prompt) -> text from the Swift answers .jsonl of the unpruned run of bench under folder
    (`submissions/<bench>/<model>/none-.../<model>.jsonl`). MME asks two questions per image under one id, so the
    prompt is part of the key."""
    cands = [p for p in glob.glob(os.path.join(folder, bench, "**", "*.jsonl"), recursive=True)
             if os.path.basename(os.path.dirname(p)).startswith("none-")]
    if not cands:
        return None, None
    path = sorted(cands)[0]
    out = {}
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            if "question_id" in r and "text" in r:
                out[(str(r["question_id"]), r.get("prompt", ""))] = r["text"]
    return path, out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--llava-repo", required=True, help="checkout of haotian-liu/LLaVA (its llava/ package)")
    ap.add_argument("--model", default=".", help="checkpoint folder (run from it: the tower path is relative)")
    ap.add_argument("--data", required=True, help="data root in LLaVA's playground/data/eval layout")
    ap.add_argument("--answers", required=True, help="folder holding the Swift engine's answers .jsonl files")
    ap.add_argument("--limit", type=int, default=40)
    ap.add_argument("--max-new-tokens", type=int, default=32)
    args = ap.parse_args()
    sys.path.insert(0, os.path.abspath(args.llava_repo))
    from llava.constants import IMAGE_TOKEN_INDEX, DEFAULT_IMAGE_TOKEN
    from llava.conversation import conv_templates
    from llava.mm_utils import tokenizer_image_token, process_images
    from llava.model.builder import load_pretrained_model

    torch.manual_seed(0)
    tokenizer, model, processor, _ = load_pretrained_model(os.path.abspath(args.model), None, "llava-synth",
                                                           device="cpu", device_map="cpu")
    model = model.float().eval()
    model.get_vision_tower().vision_tower.float()
    print("loaded %s with the reference code: %s, tower %s" % (
        args.model, type(model).__name__, type(model.get_vision_tower().vision_tower).__name__))
    same = total = 0
    for bench, (qfile, ifolder) in BENCHMARKS.items():
        path, theirs = swift_answers(args.answers, bench)
        if theirs is None:
            print("%s: no Swift answers file for the unpruned run under %s; skipped" % (bench, args.answers))
            continue
        qs = [json.loads(l) for l in open(os.path.join(args.data, qfile))][:args.limit]
        diff = []
        for q in qs:
            conv = conv_templates["vicuna_v1"].copy()
            conv.append_message(conv.roles[0], DEFAULT_IMAGE_TOKEN + "\n" + q["text"])
            conv.append_message(conv.roles[1], None)
            ids = tokenizer_image_token(conv.get_prompt(), tokenizer, IMAGE_TOKEN_INDEX, return_tensors="pt")
            image = Image.open(os.path.join(args.data, ifolder, q["image"])).convert("RGB")
            px = process_images([image], processor, model.config)[0]
            with torch.inference_mode():
                out = model.generate(ids.unsqueeze(0), images=px.unsqueeze(0).float(), image_sizes=[image.size],
                                     do_sample=False, num_beams=1, max_new_tokens=args.max_new_tokens, use_cache=True)
            text = tokenizer.batch_decode(out, skip_special_tokens=True)[0].strip()
            swift = theirs.get((str(q["question_id"]), q["text"]))
            total += 1
            if swift == text:
                same += 1
            else:
                diff.append((q["question_id"], text, swift))
        print("%s: %d of %d answers identical (Swift file %s)" % (bench, len(qs) - len(diff), len(qs), path))
        for d in diff[:5]:
            print("  differs: question %s reference %r swift %r" % d)
    print("all: %d of %d identical" % (same, total))
    sys.exit(0 if same == total and total > 0 else 1)


if __name__ == "__main__":
    main()
