#!/usr/bin/env python3
"""Synthetic benchmark generator for the VisPruner Bench demo.

Draws pictures of coloured geometric shapes and rendered words on textured /
cluttered backgrounds and writes question files in the REAL layouts of the six
benchmarks LLaVA-1.5 / VisPruner evaluate on (LLaVA's playground/data/eval tree,
the relative paths of /work/main/datasets.json), plus a LLaVA-style training
file (conversations) for train.py.

Everything is a pure function of --seed (Python's `random.Random`, no global
state), so the same seed gives byte-identical files on the same Pillow version.

  # held-out demo data root (committed)
  python3 generate.py --split demo  --seed 3 --out ../data-synth
  # training / validation splits (not committed)
  python3 generate.py --split train --seed 1 --images 6000 --out /tmp/synth-train
  python3 generate.py --split train --seed 2 --images 300  --out /tmp/synth-val

Why shapes and words: every answer is decided by a few image regions (a small
star, the red word, the left-most circle), so dropping the wrong visual tokens
changes the answer -- which is what a pruning demo needs to show.
"""
import argparse
import io
import json
import math
import os
import random

from PIL import Image, ImageDraw, ImageFilter, ImageFont

SUFFIX = "\nAnswer the question using a single word or phrase."
SQA_SUFFIX = "\nAnswer with the option's letter from the given choices directly."

# Saturated, mutually distinct colours; backgrounds are kept desaturated so a
# colour name always refers to an object.
COLORS = {
    "red": (215, 35, 35), "green": (35, 165, 55), "blue": (35, 75, 225),
    "yellow": (240, 205, 25), "purple": (145, 55, 190), "orange": (245, 130, 20),
}
COLOR_NAMES = list(COLORS)
# Non-uniform priors so POPE's "popular" negatives (most frequent objects) differ
# from its "random" ones.
COLOR_WEIGHTS = [0.26, 0.2, 0.18, 0.14, 0.12, 0.10]
SHAPES = ["circle", "square", "triangle", "star", "cross"]
SHAPE_WEIGHTS = [0.28, 0.24, 0.2, 0.15, 0.13]
PLURAL = {"circle": "circles", "square": "squares", "triangle": "triangles", "star": "stars", "cross": "crosses"}
WORDS = ["CAT", "SUN", "STOP", "BOOK", "MILK", "FISH", "TREE", "DOOR",
         "BIKE", "RAIN", "GOLD", "OPEN", "42", "17", "305", "88"]
NUM_WORDS = {"0": "zero", "1": "one", "2": "two", "3": "three", "4": "four", "5": "five"}
# shape diameters in view pixels and their weights per size class (--shape-sizes changes them for pilots)
SIZES = {"small": (14, 20, 0.3), "medium": (22, 30, 0.4), "large": (32, 40, 0.3)}
VIEW = 336  # LLaVA-1.5 input size; object sizes are chosen in this view's pixels
QPI = 4  # demo: questions per image for VQAv2 and GQA (few images, many questions: the demo grid stays fast)


# --------------------------------------------------------------------------- scenes

def pick_size(rng):
    mode = rng.choices(["normal", "wide", "tall", "tiny", "square"], [0.45, 0.15, 0.15, 0.1, 0.15])[0]
    if mode == "normal":
        w = rng.randint(240, 480)
        h = int(w * rng.uniform(0.6, 1.3))
    elif mode == "wide":
        w, h = rng.randint(400, 560), rng.randint(120, 200)
    elif mode == "tall":
        w, h = rng.randint(120, 200), rng.randint(380, 520)
    elif mode == "tiny":
        w, h = rng.randint(40, 90), rng.randint(40, 90)
    else:
        w = h = rng.randint(300, 400)
    return mode, w, h


def background(rng, w, h):
    style = rng.choice(["noise", "stripes", "checker", "gradient", "clutter", "plain"])
    base = rng.randint(90, 200)
    tint = [base + rng.randint(-12, 12) for _ in range(3)]  # near-gray
    img = Image.new("RGB", (w, h), tuple(tint))
    d = ImageDraw.Draw(img)
    if style == "noise":
        # low-frequency noise: cheap to JPEG-compress but still texture
        small = Image.effect_noise((max(2, w // 8), max(2, h // 8)), 40).convert("RGB")
        img = Image.blend(img, small.resize((w, h), Image.BILINEAR), 0.45)
    elif style == "stripes":
        step = rng.randint(6, 18)
        c2 = tuple(max(0, t - rng.randint(20, 45)) for t in tint)
        for x in range(-h, w, step * 2):
            d.polygon([(x, 0), (x + step, 0), (x + step + h, h), (x + h, h)], fill=c2)
    elif style == "checker":
        step = rng.randint(8, 24)
        c2 = tuple(min(255, t + rng.randint(15, 35)) for t in tint)
        for y in range(0, h, step):
            for x in range((y // step % 2) * step, w, step * 2):
                d.rectangle([x, y, x + step - 1, y + step - 1], fill=c2)
    elif style == "gradient":
        c2 = [min(255, max(0, t + rng.randint(-60, 60))) for t in tint]
        for y in range(h):
            a = y / max(1, h - 1)
            d.line([(0, y), (w, y)], fill=tuple(int(tint[i] * (1 - a) + c2[i] * a) for i in range(3)))
    elif style == "clutter":
        for _ in range(rng.randint(15, 40)):
            g = rng.randint(40, 230)
            x0, y0 = rng.randint(0, w), rng.randint(0, h)
            d.line([(x0, y0), (x0 + rng.randint(-40, 40), y0 + rng.randint(-40, 40))],
                   fill=(g, g, g), width=rng.randint(1, 3))
    return img, style


def shape_polygon(shape, cx, cy, r):
    if shape == "triangle":
        return [(cx, cy - r), (cx + r * 0.95, cy + r * 0.8), (cx - r * 0.95, cy + r * 0.8)]
    if shape == "star":
        pts = []
        for i in range(10):
            a = -math.pi / 2 + i * math.pi / 5
            rr = r if i % 2 == 0 else r * 0.45
            pts.append((cx + rr * math.cos(a), cy + rr * math.sin(a)))
        return pts
    if shape == "cross":
        t = r * 0.36
        return [(cx - t, cy - r), (cx + t, cy - r), (cx + t, cy - t), (cx + r, cy - t), (cx + r, cy + t),
                (cx + t, cy + t), (cx + t, cy + r), (cx - t, cy + r), (cx - t, cy + t), (cx - r, cy + t),
                (cx - r, cy - t), (cx - t, cy - t)]
    raise ValueError(shape)


def draw_object(d, o):
    cx, cy, r = o["cx"], o["cy"], o["r"]
    col = tuple(min(255, max(0, c + o["jit"])) for c in COLORS[o["color"]])
    if o["kind"] == "word":
        x0, y0, x1, y1 = o["box"]
        d.rectangle([x0, y0, x1, y1], fill=(245, 245, 240), outline=(60, 60, 60))
        d.text(((x0 + x1) / 2, (y0 + y1) / 2), o["word"], fill=col, font=o["font"], anchor="mm")
    elif o["shape"] == "circle":
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=col)
    elif o["shape"] == "square":
        d.rectangle([cx - r * 0.85, cy - r * 0.85, cx + r * 0.85, cy + r * 0.85], fill=col)
    else:
        d.polygon(shape_polygon(o["shape"], cx, cy, r), fill=col)


def overlaps(box, boxes, pad):
    for b in boxes:
        if box[0] < b[2] + pad and b[0] < box[2] + pad and box[1] < b[3] + pad and b[1] < box[3] + pad:
            return True
    return False


def make_scene(rng, n_shapes=None, n_words=None, gray_ok=True, min_shapes=1):
    mode, w, h = pick_size(rng)
    scale = VIEW / max(w, h)  # image px -> view px (pad-to-square then resize)
    img, bg = background(rng, w, h)
    if n_shapes is None:
        n_shapes = rng.choices([1, 2, 3, 4, 5], [0.15, 0.25, 0.25, 0.2, 0.15])[0]
    n_shapes = max(n_shapes, min_shapes)
    if n_words is None:
        n_words = rng.choices([0, 1, 2], [0.55, 0.3, 0.15])[0]
    objs, boxes = [], []
    for i in range(n_words):
        word = rng.choice([x for x in WORDS if x not in [o["word"] for o in objs]])
        color = rng.choice([c for c in COLOR_NAMES if c not in [o["color"] for o in objs]])
        fs_view = rng.uniform(26, 40)
        fs = max(8, int(fs_view / scale))
        font = ImageFont.load_default(size=fs)
        tw = font.getlength(word)
        bw, bh = tw + fs * 0.5, fs * 1.25
        for _ in range(60):
            x0, y0 = rng.uniform(1, max(2, w - bw - 1)), rng.uniform(1, max(2, h - bh - 1))
            box = (x0, y0, x0 + bw, y0 + bh)
            if box[2] <= w and box[3] <= h and not overlaps(box, boxes, 2):
                boxes.append(box)
                objs.append({"kind": "word", "word": word, "color": color, "box": box, "font": font,
                             "cx": (box[0] + box[2]) / 2, "cy": (box[1] + box[3]) / 2, "r": bw / 2,
                             "jit": rng.randint(-15, 15)})
                break
    for i in range(n_shapes):
        shape = rng.choices(SHAPES, SHAPE_WEIGHTS)[0]
        color = rng.choices(COLOR_NAMES, COLOR_WEIGHTS)[0]
        # At most ~3 patches across: a shape is then told by its outline within a patch or two (a curve, a
        # corner, a notch), which a tower trained for minutes on 2 cores can learn; the small ones live in one
        # or two patches, where pruning the wrong tokens removes them.
        size_cls = rng.choices(["small", "medium", "large"],
                               [0.0 if mode == "tiny" else SIZES["small"][2], SIZES["medium"][2], SIZES["large"][2]])[0]
        diam_view = SIZES[size_cls][:2]
        r = rng.uniform(*diam_view) / 2 / scale
        for _ in range(60):
            cx, cy = rng.uniform(r + 1, w - r - 1), rng.uniform(r + 1, h - r - 1)
            box = (cx - r, cy - r, cx + r, cy + r)
            if r * 2 + 2 < min(w, h) and not overlaps(box, boxes, max(2, 3 / scale)):
                boxes.append(box)
                objs.append({"kind": "shape", "shape": shape, "color": color, "cx": cx, "cy": cy, "r": r,
                             "box": box, "size": size_cls, "jit": rng.randint(-15, 15)})
                break
    d = ImageDraw.Draw(img)
    for o in objs:
        draw_object(d, o)
    if bg == "noise" or rng.random() < 0.3:
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.0, 0.6)))
    gray = gray_ok and rng.random() < 0.07
    shapes = [o for o in objs if o["kind"] == "shape"]
    if not shapes:  # placement failed everywhere (tiny image): retry rather than emit an empty scene
        return make_scene(rng, n_shapes, n_words, gray_ok, min_shapes)
    return {"img": img, "w": w, "h": h, "mode": mode, "bg": bg, "scale": scale, "objs": objs,
            "shapes": shapes, "words": [o for o in objs if o["kind"] == "word"], "gray": gray}


def patch_labels(scene):
    """Per-patch object index (-1 = background) on the 24x24 grid of the 336 view.

    The view is LLaVA's pad-to-square + resize, so a patch centre maps back to
    image coordinates by undoing the padding offset and the scale."""
    w, h, s = scene["w"], scene["h"], scene["scale"]
    side = max(w, h)
    ox, oy = (side - w) / 2, (side - h) / 2
    mask = Image.new("I", (w, h), 0)
    md = ImageDraw.Draw(mask)
    for i, o in enumerate(scene["objs"]):
        if o["kind"] == "word":
            md.rectangle(list(o["box"]), fill=i + 1)
        else:
            cx, cy, r = o["cx"], o["cy"], o["r"]
            if o["shape"] == "circle":
                md.ellipse([cx - r, cy - r, cx + r, cy + r], fill=i + 1)
            elif o["shape"] == "square":
                md.rectangle([cx - r * 0.85, cy - r * 0.85, cx + r * 0.85, cy + r * 0.85], fill=i + 1)
            else:
                md.polygon(shape_polygon(o["shape"], cx, cy, r), fill=i + 1)
    px = mask.load()
    out, cover = [], []
    for gy in range(24):
        for gx in range(24):
            hits = {}
            # sample 3x3 points per patch so one-patch objects still get a label
            for sy in (0.25, 0.5, 0.75):
                for sx in (0.25, 0.5, 0.75):
                    x = (gx + sx) * 14 / s - ox
                    y = (gy + sy) * 14 / s - oy
                    if 0 <= x < w and 0 <= y < h and px[int(x), int(y)]:
                        j = px[int(x), int(y)] - 1
                        hits[j] = hits.get(j, 0) + 1
            best = max(hits, key=lambda j: (hits[j], -j)) if hits else -1
            out.append(best)
            cover.append(hits.get(best, 0))
    return out, cover


def save_image(scene, path, rng, fmt):
    """fmt: 'jpg' (RGB or gray JPEG) or 'png' (RGB / RGBA / palette / gray)."""
    img = scene["img"]
    if scene["gray"]:
        img = img.convert("L")
    if fmt == "jpg":
        img.save(path, "JPEG", quality=rng.randint(70, 85))
        return "L" if scene["gray"] else "RGB"
    if not scene["gray"]:
        kind = rng.choice(["RGB", "RGBA", "P", "P"])
        if kind == "RGBA":
            img = img.convert("RGBA")  # opaque alpha: convert('RGB') must give the same picture
        elif kind == "P":
            img = img.quantize(64)
    img.save(path, "PNG", optimize=True)
    return img.mode


# --------------------------------------------------------------------------- questions
# Each writer returns (question, answer, kind) or None when the scene cannot support it.

def unique_by(objs, key):
    vals = [o[key] for o in objs]
    return [o for o in objs if vals.count(o[key]) == 1]


def ref(o, scene):
    """Shortest unambiguous description of a shape, or None."""
    if [s["shape"] for s in scene["shapes"]].count(o["shape"]) == 1:
        return "the " + o["shape"]
    if scene["gray"]:
        return None
    if [(s["shape"], s["color"]) for s in scene["shapes"]].count((o["shape"], o["color"])) == 1:
        return "the %s %s" % (o["color"], o["shape"])
    return None


def q_color(rng, sc):
    c = unique_by(sc["shapes"], "shape")
    if sc["gray"] or not c:
        return None
    o = rng.choice(c)
    return "What color is the %s?" % o["shape"], o["color"], "color"


def q_shape(rng, sc):
    c = unique_by(sc["shapes"], "color")
    if sc["gray"] or not c:
        return None
    o = rng.choice(c)
    t = rng.choice(["What shape is the %s object?", "Which shape is %s?"])
    return t % o["color"], o["shape"], "shape"


def q_count(rng, sc):
    present = [s["shape"] for s in sc["shapes"]]
    shape = rng.choice(present) if rng.random() < 0.85 else rng.choice(SHAPES)
    return "How many %s are there?" % PLURAL[shape], str(present.count(shape)), "count"


def q_count_all(rng, sc):
    return "How many shapes are there?", str(len(sc["shapes"])), "count"


def absent_pairs(sc):
    have = {(s["color"], s["shape"]) for s in sc["shapes"]}
    return [(c, s) for c in COLOR_NAMES for s in SHAPES if (c, s) not in have]


def q_exist(rng, sc, template="Is there a %s?"):
    if sc["gray"]:
        have = {s["shape"] for s in sc["shapes"]}
        if rng.random() < 0.5 or len(have) == len(SHAPES):
            return template % rng.choice(sorted(have)), "yes", "exist"
        return template % rng.choice([s for s in SHAPES if s not in have]), "no", "exist"
    if rng.random() < 0.5:
        o = rng.choice(sc["shapes"])
        return template % ("%s %s" % (o["color"], o["shape"])), "yes", "exist"
    # half the negatives share a colour or a shape with something present: they
    # can only be rejected by looking at the right object
    ab = absent_pairs(sc)
    conf = [p for p in ab if any(p[0] == s["color"] or p[1] == s["shape"] for s in sc["shapes"])]
    c, s = rng.choice(conf if conf and rng.random() < 0.5 else ab)
    return template % ("%s %s" % (c, s)), "no", "exist"


def two_refs(rng, sc, axis):
    cand = [(o, ref(o, sc)) for o in sc["shapes"]]
    cand = [(o, r) for o, r in cand if r]
    pairs = [(a, b) for a in cand for b in cand if a[0] is not b[0]
             and abs(a[0]["c" + axis] - b[0]["c" + axis]) * sc["scale"] > 24]
    return rng.choice(pairs) if pairs else None


def q_lr(rng, sc):
    p = two_refs(rng, sc, "x")
    if not p:
        return None
    (a, ra), (b, rb) = p
    return ("Is %s to the left or to the right of %s?" % (ra, rb),
            "left" if a["cx"] < b["cx"] else "right", "relation")


def q_ab(rng, sc):
    p = two_refs(rng, sc, "y")
    if not p:
        return None
    (a, ra), (b, rb) = p
    return "Is %s above or below %s?" % (ra, rb), "above" if a["cy"] < b["cy"] else "below", "relation"


def q_rel_yn(rng, sc):
    axis = rng.choice("xy")
    p = two_refs(rng, sc, axis)
    if not p:
        return None
    (a, ra), (b, rb) = p
    if axis == "x":
        rel, truth = rng.choice([("to the left of", a["cx"] < b["cx"]), ("to the right of", a["cx"] > b["cx"])])
    else:
        rel, truth = rng.choice([("above", a["cy"] < b["cy"]), ("below", a["cy"] > b["cy"])])
    return "Is %s %s %s?" % (ra, rel, rb), "yes" if truth else "no", "relation"


def q_word(rng, sc):
    ws = sc["words"]
    if not ws:
        return None
    if len(ws) == 1:
        o = ws[0]
        q = "What number is written on the sign?" if o["word"].isdigit() else \
            rng.choice(["What word is written on the sign?", "What does the sign say?"])
    elif sc["gray"]:
        o = min(ws, key=lambda x: x["cx"]) if rng.random() < 0.5 else max(ws, key=lambda x: x["cx"])
        q = "What is written on the %s sign?" % ("left" if o is min(ws, key=lambda x: x["cx"]) else "right")
    else:
        o = rng.choice(ws)
        q = "What word is written in %s?" % o["color"]
    return q, o["word"].lower(), "ocr"


GENERAL = [q_color, q_shape, q_count, q_count_all, q_exist, q_lr, q_ab, q_rel_yn, q_word]


def ocr_line(rng, sc):
    toks = [o["word"] for o in sc["words"]]
    rng.shuffle(toks)
    if rng.random() < 0.3:  # OCR systems add junk tokens; the model must not just echo the first one
        toks.insert(rng.randint(0, len(toks)), rng.choice(["I", "A", "CO", "E", "1"]))
    return "\nReference OCR token: " + ", ".join(toks)


def sqa_item(rng, sc):
    """A multiple-choice question with 2-4 options; returns (question, choices, answer_index, hint)."""
    kind = rng.choice(["color", "shape", "count"] if not sc["gray"] else ["count"])
    if kind == "color" and unique_by(sc["shapes"], "shape"):
        o = rng.choice(unique_by(sc["shapes"], "shape"))
        q, right, pool = "What color is the %s?" % o["shape"], o["color"], COLOR_NAMES
    elif kind == "shape" and unique_by(sc["shapes"], "color"):
        o = rng.choice(unique_by(sc["shapes"], "color"))
        q, right, pool = "Which shape is %s?" % o["color"], o["shape"], SHAPES
    else:
        s = rng.choice([x["shape"] for x in sc["shapes"]])
        n = [x["shape"] for x in sc["shapes"]].count(s)
        q, right, pool = "How many %s are in the picture?" % PLURAL[s], str(n), ["1", "2", "3", "4", "5"]
    k = rng.choice([2, 3, 4])
    choices = [right] + rng.sample([p for p in pool if p != right], k - 1)
    rng.shuffle(choices)
    hint = rng.choice(["", "", "The picture shows some shapes.", "Look at the picture."])
    return q, choices, choices.index(right), hint


def sqa_text(q, choices, hint):
    parts = []
    if hint:
        parts.append("Context: " + hint)
    parts.append(q)
    parts += ["%s. %s" % ("ABCDE"[i], c) for i, c in enumerate(choices)]
    return "\n".join(parts)


TEXT_ONLY = [  # ScienceQA has no-image items too; they sit in CQM-A only
    ("Which shape has three sides?", ["triangle", "circle", "square"], 0),
    ("Which shape has four equal sides?", ["star", "square"], 1),
    ("Which shape is round?", ["cross", "triangle", "circle"], 2),
    ("How many points does a star shape usually have?", ["5", "3", "8"], 0),
]


# --------------------------------------------------------------------------- training split

def write_train(args):
    """LLaVA finetune format: one image, several question turns (as LLaVA-1.5 packs VQA data),
    prompts exactly as the benchmark question files hold them."""
    rng = random.Random(args.seed)
    os.makedirs(os.path.join(args.out, "images"), exist_ok=True)
    items, labels = [], {}
    for i in range(args.images):
        sc = make_scene(rng, n_words=rng.choices([0, 1, 2, 3], [0.45, 0.3, 0.17, 0.08])[0])
        name = "%06d.%s" % (i, "png" if rng.random() < 0.25 else "jpg")
        save_image(sc, os.path.join(args.out, "images", name), rng, name[-3:])
        turns = []
        for _ in range(args.turns * 3):
            if len(turns) >= 2 * args.turns:
                break
            style = rng.choices(["short", "pope", "mme", "textvqa", "sqa"], [0.5, 0.12, 0.12, 0.13, 0.13])[0]
            if style == "sqa":
                q, ch, a, hint = sqa_item(rng, sc)
                text, ans = sqa_text(q, ch, hint) + SQA_SUFFIX, "ABCDE"[a]
            elif style == "pope":
                q, ans, _ = q_exist(rng, sc, "Is there a %s in the image?")
                text = q + SUFFIX
            elif style == "mme":
                r = mme_question(rng, sc, rng.choice(["existence", "count", "position", "color", "OCR"]), rng.random() < 0.5)
                if not r:
                    continue
                text, ans = r[0] + SUFFIX, r[1].lower()
            elif style == "textvqa":
                r = q_word(rng, sc)
                if not r:
                    continue
                text, ans = r[0] + ocr_line(rng, sc) + SUFFIX, r[1]
            else:
                r = rng.choice(GENERAL)(rng, sc)
                if not r:
                    continue
                text, ans = r[0] + SUFFIX, r[1]
            turns += [{"from": "human", "value": text}, {"from": "gpt", "value": ans}]
        turns[0]["value"] = "<image>\n" + turns[0]["value"]
        items.append({"id": "%06d" % i, "image": name, "conversations": turns})
        patches, cover = patch_labels(sc)
        # cover: how many of the 9 sample points hit the patch's object, so train.py can skip slivers (its
        # SLIVER), whose few object pixels cannot decide their label
        labels[name] = {"patches": patches, "cover": cover, "gray": sc["gray"],
                        "objs": [{k: o[k] for k in ("kind", "color") if k in o} |
                                 {"shape": o.get("shape", "word"), "word": o.get("word", "")} for o in sc["objs"]]}
    with open(os.path.join(args.out, "train.json"), "w") as f:
        json.dump(items, f)
    with open(os.path.join(args.out, "labels.json"), "w") as f:
        json.dump(labels, f)
    print("wrote %d images to %s" % (len(items), args.out))


# --------------------------------------------------------------------------- benchmark writers

def dumpl(path, rows):
    with open(path, "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")


def ten_answers(rng, ans, noisy):
    """10 human answers: mostly the truth, sometimes an article / case variant or a disagreeing annotator."""
    out = []
    for _ in range(10):
        r = rng.random()
        if noisy and r < 0.1:
            out.append(rng.choice(["yes", "no", "2", "red", "unanswerable", "circle"]))
        elif r < 0.2 and not ans.isdigit() and ans not in ("yes", "no"):
            out.append(rng.choice([ans.capitalize(), ans.upper(), "the " + ans, ans + "."]))
        else:
            out.append(ans)
    if out.count(ans) < 4:
        out[:4] = [ans] * 4
    return out


def write_vqav2(rng, root, n_val, n_test):
    d = os.path.join(root, "vqav2")
    os.makedirs(os.path.join(d, "val2014"), exist_ok=True)
    os.makedirs(os.path.join(d, "test2015"), exist_ok=True)
    info = {"description": "SYNTHETIC shapes data in the VQA v2 schema (demo/synthetic/generate.py)", "url": "",
            "version": "2.0", "year": 2017, "contributor": "", "date_created": ""}
    lic = {"url": "", "name": ""}
    qtype = {"color": "what color is the", "count": "how many", "exist": "is there a", "shape": "what shape is the",
             "relation": "is the", "ocr": "what is"}
    atype = lambda a: "yes/no" if a in ("yes", "no") else ("number" if a.isdigit() else "other")
    ids = rng.sample(range(1, 581000), n_val + n_test)
    lines, qs, anns = [], [], []
    for image_id in ids[:n_val]:
        sc = make_scene(rng)
        fn = "COCO_val2014_%012d.jpg" % image_id
        save_image(sc, os.path.join(d, "val2014", fn), rng, "jpg")
        seen = set()
        for k in range(QPI):  # several questions per image, as VQAv2 has
            for _ in range(10):
                r = rng.choice([q_color, q_count, q_count_all, q_exist, q_shape, q_word])(rng, sc)
                if r and r[0] not in seen:
                    break
            if not r or r[0] in seen:
                continue
            seen.add(r[0])
            q, a, kind = r
            qid = image_id * 1000 + k
            lines.append({"question_id": qid, "image": fn, "text": q + SUFFIX, "category": "default"})
            qs.append({"image_id": image_id, "question": q, "question_id": qid})
            answers = ten_answers(rng, a, noisy=True)
            anns.append({"question_type": qtype[kind], "multiple_choice_answer": a,
                         "answers": [{"answer": x, "answer_confidence": rng.choice(["yes", "yes", "maybe"]),
                                      "answer_id": j + 1} for j, x in enumerate(answers)],
                         "image_id": image_id, "answer_type": atype(a), "question_id": qid})
    dumpl(os.path.join(d, "llava_vqav2_mscoco_val2014.jsonl"), lines)
    with open(os.path.join(d, "v2_OpenEnded_mscoco_val2014_questions.json"), "w") as f:
        json.dump({"info": info, "task_type": "Open-Ended", "data_type": "mscoco", "license": lic,
                   "data_subtype": "val2014", "questions": qs}, f)
    with open(os.path.join(d, "v2_mscoco_val2014_annotations.json"), "w") as f:
        json.dump({"info": info, "license": lic, "data_subtype": "val2014", "annotations": anns,
                   "data_type": "mscoco"}, f)
    # test-dev style (EvalAI submission path): test2015 holds test-dev plus questions outside it
    dev, full = [], []
    for n, image_id in enumerate(ids[n_val:]):
        sc = make_scene(rng)
        fn = "COCO_test2015_%012d.jpg" % image_id
        save_image(sc, os.path.join(d, "test2015", fn), rng, "jpg")
        for k in range(2):
            r = rng.choice([q_color, q_count, q_exist, q_shape])(rng, sc) or q_count(rng, sc)
            row = {"question_id": image_id * 1000 + k, "image": fn, "text": r[0] + SUFFIX, "category": "default"}
            full.append(row)
            if n % 3 != 2:  # a third of test2015 is not in test-dev, as in the real split
                dev.append(row)
    dumpl(os.path.join(d, "llava_vqav2_mscoco_test-dev2015.jsonl"), dev)
    dumpl(os.path.join(d, "llava_vqav2_mscoco_test2015.jsonl"), full)
    return len(lines), len(dev)


def write_gqa(rng, root, n_img):
    d = os.path.join(root, "gqa")
    os.makedirs(os.path.join(d, "data", "images"), exist_ok=True)
    os.makedirs(os.path.join(d, "data", "questions"), exist_ok=True)
    lines, qs = [], {}
    img_ids = rng.sample(range(1, 600000), n_img)
    qids = iter(rng.sample(range(100000, 209999999), n_img * (QPI + 1)))
    struct = {"color": "query", "shape": "query", "relation": "choose", "exist": "verify"}
    for iid in img_ids:
        sc = make_scene(rng, min_shapes=2)
        name = "n%d" % iid
        save_image(sc, os.path.join(d, "data", "images", name + ".jpg"), rng, "jpg")
        seen = set()
        for _ in range(QPI):  # several questions per image, as GQA has
            for _ in range(10):
                f = rng.choice([q_color, q_shape, q_lr, q_ab, q_rel_yn, q_exist])
                r = f(rng, sc)
                if r and r[0] not in seen:
                    break
            if not r or r[0] in seen:
                continue
            seen.add(r[0])
            q, a, kind = r
            qid = str(next(qids))
            st = "verify" if a in ("yes", "no") else struct[kind]
            sem = {"query": "attr", "choose": "rel", "verify": "rel" if kind == "relation" else "obj"}[st]
            prog = [{"operation": "select", "dependencies": [], "argument": "shape (%d)" % rng.randint(1, 999999)},
                    {"operation": {"query": "query", "choose": "choose rel", "verify": "verify"}[st],
                     "dependencies": [0], "argument": kind}]
            lines.append({"question_id": qid, "image": name + ".jpg", "text": q + SUFFIX, "category": "default"})
            qs[qid] = {"semantic": prog, "entailed": [], "equivalent": [qid], "question": q, "imageId": name,
                       "isBalanced": True,
                       "groups": {"global": kind if st == "query" else None, "local": "%02d-%s" % (rng.randint(0, 20), a)},
                       "answer": a, "semanticStr": "select: shape -> %s: %s" % (prog[1]["operation"], kind),
                       "annotations": {"answer": {}, "question": {}, "fullAnswer": {}},
                       "types": {"detailed": kind + ("Verify" if st == "verify" else st.capitalize()),
                                 "semantic": sem, "structural": st},
                       "fullAnswer": ("Yes." if a == "yes" else "No." if a == "no" else "It is %s." % a)}
    dumpl(os.path.join(d, "llava_gqa_testdev_balanced.jsonl"), lines)
    with open(os.path.join(d, "data", "questions", "testdev_balanced_questions.json"), "w") as f:
        json.dump(qs, f)
    return len(lines)


def pope_negatives(rng, sc, how, freq):
    ab = ["%s %s" % p for p in absent_pairs(sc)]
    if how == "random":
        return rng.sample(ab, 3)
    if how == "popular":  # the most frequent objects of the whole set that are absent here
        return sorted(ab, key=lambda x: (-freq.get(x, 0), x))[:3]
    # adversarial: absent objects that share a shape or a colour with present ones (stand-in for POPE's
    # co-occurrence statistics: the confusable ones)
    present = sc["shapes"]
    conf = [x for x in ab if any(x.split()[0] == s["color"] or x.split()[1] == s["shape"] for s in present)]
    conf.sort(key=lambda x: -sum((x.split()[0] == s["color"]) + (x.split()[1] == s["shape"]) for s in present))
    top = conf[:6]
    rng.shuffle(top)
    return (top + [x for x in ab if x not in top])[:3]


def write_pope(rng, root, n_img):
    d = os.path.join(root, "pope")
    os.makedirs(os.path.join(d, "val2014"), exist_ok=True)
    os.makedirs(os.path.join(d, "coco"), exist_ok=True)
    scenes = []
    for image_id in rng.sample(range(1, 581000), n_img):
        while True:  # POPE needs 3 distinct present objects per image
            sc = make_scene(rng, n_shapes=rng.randint(3, 5), gray_ok=False)
            if len({(s["color"], s["shape"]) for s in sc["shapes"]}) >= 3:
                break
        fn = "COCO_val2014_%012d.jpg" % image_id
        save_image(sc, os.path.join(d, "val2014", fn), rng, "jpg")
        scenes.append((fn, sc))
    freq = {}
    for _, sc in scenes:
        for s in sc["shapes"]:
            k = "%s %s" % (s["color"], s["shape"])
            freq[k] = freq.get(k, 0) + 1
    questions = []
    base = {"adversarial": 0, "popular": 20000000, "random": 10000000}
    for cat in ["adversarial", "popular", "random"]:
        labels, n = [], 0
        for fn, sc in scenes:
            pos = sorted({"%s %s" % (s["color"], s["shape"]) for s in sc["shapes"]})
            pos = rng.sample(pos, 3)
            neg = pope_negatives(rng, sc, cat, freq)
            for p, q in zip(pos, neg):  # POPE alternates yes / no
                for obj, lab in ((p, "yes"), (q, "no")):
                    n += 1
                    text = "Is there a %s in the image?" % obj
                    labels.append({"question_id": n, "image": fn, "text": text, "label": lab})
                    questions.append({"question_id": base[cat] + n, "image": fn, "text": text + SUFFIX,
                                      "category": cat})
        dumpl(os.path.join(d, "coco", "coco_pope_%s.json" % cat), labels)
    dumpl(os.path.join(d, "llava_pope_test.jsonl"), questions)
    return len(questions)


def mme_question(rng, sc, cat, positive):
    """One MME-style yes/no question (without 'Please answer yes or no.'); answer 'Yes' / 'No'."""
    yn = "Yes" if positive else "No"
    shapes = sc["shapes"]
    if cat == "existence":
        if sc["gray"]:
            return None
        if positive:
            o = rng.choice(shapes)
            return "Is there a %s %s in this image?" % (o["color"], o["shape"]), yn
        c, s = rng.choice(absent_pairs(sc))
        return "Is there a %s %s in this image?" % (c, s), yn
    if cat == "count":
        s = rng.choice([x["shape"] for x in shapes])
        n = [x["shape"] for x in shapes].count(s)
        m = n if positive else rng.choice([k for k in range(1, 6) if k != n])
        if m == 1:
            return "Is there only one %s in the image?" % s, yn
        return "Are there %s %s in the image?" % (NUM_WORDS[str(m)], PLURAL[s]), yn
    if cat == "position":
        p = two_refs(rng, sc, "x")
        if not p:
            return None
        (a, ra), (b, rb) = p
        side = "left" if a["cx"] < b["cx"] else "right"
        if not positive:
            side = "right" if side == "left" else "left"
        return "Is %s on the %s of %s?" % (ra, side, rb), yn
    if cat == "color":
        c = unique_by(shapes, "shape")
        if sc["gray"] or not c:
            return None
        o = rng.choice(c)
        col = o["color"] if positive else rng.choice([x for x in COLOR_NAMES if x != o["color"]])
        return "Is the %s %s?" % (o["shape"], col), yn
    if cat == "OCR":
        if not sc["words"]:
            return None
        o = rng.choice(sc["words"])
        w = o["word"] if positive else rng.choice([x for x in WORDS if x != o["word"]])
        return 'Is the word in the image "%s"?' % w.lower(), yn
    raise ValueError(cat)


def write_mme(rng, root, per_cat):
    base = os.path.join(root, "MME")
    rel = "MME_Benchmark_release_version"
    lines = []
    for cat in ["existence", "count", "position", "color", "OCR"]:
        d = os.path.join(base, rel, cat)
        os.makedirs(d, exist_ok=True)
        made, used = 0, set()
        while made < per_cat:
            sc = make_scene(rng, n_words=1 if cat == "OCR" else None, min_shapes=2 if cat == "position" else 1,
                            gray_ok=cat in ("count",))
            qa = [mme_question(rng, sc, cat, True), mme_question(rng, sc, cat, False)]
            if None in qa or qa[0][0] == qa[1][0]:
                continue
            stem = ("%04d" % rng.randint(1, 9999)) if cat == "OCR" else "%012d" % rng.randint(1, 581000)
            if stem in used:
                continue
            used.add(stem)
            fn = stem + ".jpg"
            save_image(sc, os.path.join(d, fn), rng, "jpg")
            with open(os.path.join(d, stem + ".txt"), "w") as f:
                for q, a in qa:
                    f.write("%s Please answer yes or no.\t%s\n" % (q, a))
            for q, a in qa:
                lines.append({"question_id": "%s/%s" % (cat, fn), "image": "%s/%s" % (cat, fn),
                              "text": q + SUFFIX, "category": cat})
            made += 1
    dumpl(os.path.join(base, "llava_mme.jsonl"), lines)
    return len(lines)


def write_scienceqa(rng, root, n_img, n_text):
    d = os.path.join(root, "scienceqa")
    problems, cqm_a, cqm_i = {}, [], []
    ids = sorted(rng.sample(range(1, 21208), n_img + n_text))
    text_slots = set(rng.sample(ids, n_text))
    for pid in ids:
        pid = str(pid)
        if int(pid) in text_slots:
            q, choices, ans = rng.choice(TEXT_ONLY)
            hint, image = "", None
        else:
            sc = make_scene(rng)
            q, choices, ans, hint = sqa_item(rng, sc)
            os.makedirs(os.path.join(d, "images", "test", pid), exist_ok=True)
            save_image(sc, os.path.join(d, "images", "test", pid, "image.png"), rng, "png")
            image = "image.png"
        problems[pid] = {"question": q, "choices": choices, "answer": ans, "hint": hint, "image": image,
                         "task": "closed choice", "grade": rng.choice(["grade1", "grade2", "grade3"]),
                         "subject": "natural science", "topic": "shapes", "category": "Identify shapes and colors",
                         "skill": "Identify shapes, colors and counts in a picture", "lecture": "",
                         "solution": "The answer is %s." % choices[ans], "split": "test"}
        body = sqa_text(q, choices, hint)
        conv = [{"from": "human", "value": ("<image>\n" + body) if image else body},
                {"from": "gpt", "value": "ABCDE"[ans]}]
        item = {"id": pid, "image": pid + "/image.png", "conversations": conv} if image else \
            {"id": pid, "conversations": conv}
        cqm_a.append(item)
        if image:
            cqm_i.append(item)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "problems.json"), "w") as f:
        json.dump(problems, f, indent=4)
    with open(os.path.join(d, "pid_splits.json"), "w") as f:
        json.dump({"train": [], "val": [], "test": [str(i) for i in ids], "minival": [], "minitest": [],
                   "trainval": []}, f)
    for name, arr in (("llava_test_CQM-A.json", cqm_a), ("llava_test_CQM-I.json", cqm_i)):
        with open(os.path.join(d, name), "w") as f:
            json.dump(arr, f, indent=2)
    return len(cqm_i)


def write_textvqa(rng, root, n):
    d = os.path.join(root, "textvqa")
    os.makedirs(os.path.join(d, "train_images"), exist_ok=True)
    lines, data = [], []
    qid0 = rng.randint(34000, 40000)
    for i in range(n):
        sc = make_scene(rng, n_words=rng.choices([1, 2, 3], [0.5, 0.35, 0.15])[0])
        r = q_word(rng, sc)
        if not r:
            continue
        image_id = "%016x" % rng.getrandbits(64)
        save_image(sc, os.path.join(d, "train_images", image_id + ".jpg"), rng, "jpg")
        q, a, _ = r
        lines.append({"question_id": image_id, "image": image_id + ".jpg",
                      "text": q + ocr_line(rng, sc) + SUFFIX, "category": "default"})
        data.append({"question": q.lower(), "image_id": image_id, "image_classes": ["Sign"],
                     "flickr_original_url": "https://example.invalid/%s_o.jpg" % image_id,
                     "flickr_300k_url": "https://example.invalid/%s_z.jpg" % image_id,
                     "image_width": sc["w"], "image_height": sc["h"], "answers": ten_answers(rng, a, noisy=True),
                     "question_tokens": q.lower().rstrip("?").split(), "question_id": qid0 + i, "set_name": "val"})
    dumpl(os.path.join(d, "llava_textvqa_val_v051_ocr.jsonl"), lines)
    with open(os.path.join(d, "TextVQA_0.5.1_val.json"), "w") as f:
        json.dump({"dataset_type": "val", "dataset_name": "textvqa", "dataset_version": "0.5.1", "data": data}, f)
    return len(lines)


def write_demo(args):
    # one independent stream per benchmark, so changing one writer does not reshuffle the others
    mk = lambda k: random.Random("%d/%s" % (args.seed, k))
    root = args.out
    counts = {
        "vqav2 (val, test-dev)": write_vqav2(mk("vqav2"), root, args.n // QPI, 15),
        "gqa": write_gqa(mk("gqa"), root, args.n // QPI),
        "pope": write_pope(mk("pope"), root, max(4, -(-args.n // 18))),
        "mme": write_mme(mk("mme"), root, max(2, args.n // 10)),
        "scienceqa (CQM-I)": write_scienceqa(mk("sqa"), root, args.n, 8),
        "textvqa": write_textvqa(mk("textvqa"), root, args.n),
    }
    for k, v in counts.items():
        print("%-22s %s questions" % (k, v))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", choices=["demo", "train"], required=True)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--n", type=int, default=210, help="demo: target questions per benchmark (about)")
    ap.add_argument("--images", type=int, default=6000, help="train: number of images")
    ap.add_argument("--turns", type=int, default=6, help="train: question turns per image")
    ap.add_argument("--shape-sizes", default=None,
                    help="pilots: small,medium,large diameters and weights as lo-hi:w,lo-hi:w,lo-hi:w "
                         "(default 14-20:0.3,22-30:0.4,32-40:0.3)")
    args = ap.parse_args()
    if args.shape_sizes:
        for k, part in zip(("small", "medium", "large"), args.shape_sizes.split(",")):
            span, w = part.split(":")
            lo, hi = span.split("-")
            SIZES[k] = (float(lo), float(hi), float(w))
    (write_train if args.split == "train" else write_demo)(args)


if __name__ == "__main__":
    main()
