"""Per-face features over a whole dataset, cached on disk, and their pooling into one vector a photo.

Two kinds of per-face features feed the paper's ensemble:

    deep features       a backbone (``backbones.get_backbone``) read at its inner layers
                        (VGGFace avgpool/fc7; offline, the face-ID ResNet's stages), RGB and BGR
    landmark distances  dlib's 68 points on the 224x224 crop (as the authors did), all 2278
                        pairwise distances divided by the largest (``geometry.landmark_distances``)

``extract_faces(paths, backbone)`` returns a ``FaceFeatures``: one row per detected face (which
photo, which box) and, per feature set, a matrix with one row per face. It goes photo by photo,
runs the network in batches of chips collected over several photos, and stores each photo's
result in its own file under ``cache/features/<detector>/<backbone>/<sha1 of the photo>.npz``.
A killed run resumes where it stopped: finished photos are read back, the rest computed. Each
file is written under a temporary name and renamed when complete, so no half-written entry can be
read, and arrays are loaded with ``allow_pickle=False``.

``pool_faces`` turns per-face rows into one row per photo: the MEDIAN over the photo's faces (the
paper) or the MEAN (which the paper found 1-2% worse). A photo without a face gets a NaN row.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import pandas as pd
from tqdm import tqdm

from . import faces, geometry
from .config import cache_path
from .io import ImageReadError, atomic_path, read_image

POOLINGS = ("median", "mean")


@dataclass
class FaceFeatures:
    """Per-face features of many photos.

    ``faces``: one row per face: path (the photo), face (0, 1, ... in the photo), x0, y0, x1, y1.
    ``sets``: feature-set name -> (n_faces, D) float32 matrix; row i describes ``faces.iloc[i]``.
    ``photos``: every photo asked for, in order, with n_faces (0 for a faceless one) and
    skipped (True for an unreadable file, which has no faces and is reported once).
    """

    faces: pd.DataFrame
    sets: dict[str, np.ndarray]
    photos: pd.DataFrame

    def pooled(self, feature_set: str, how: str = "median") -> np.ndarray:
        """(n_photos, D): the faces of each photo pooled; NaN rows for photos without a face."""
        return pool_faces(self.sets[feature_set], self.faces.path, self.photos.path, how)


def pool_faces(face_rows: np.ndarray, face_photos: Iterable, photos: Iterable, how: str = "median") -> np.ndarray:
    """Pool per-face rows into one row per photo: the element-wise median (paper) or mean.

    ``face_photos[i]`` names the photo of face row i; the output has one row per entry of
    ``photos``, in that order. A photo with no face gets a row of NaN (it has no face features).
    """
    if how not in POOLINGS:
        raise ValueError(f"unknown pooling {how!r}; choose one of {POOLINGS}")
    reduce = np.median if how == "median" else np.mean
    face_rows = np.asarray(face_rows, dtype=np.float64)
    photos = list(photos)
    # One pass instead of comparing every face with every photo: number the photos, sort the
    # faces by that number (stably, so each photo's faces keep their order), reduce each run.
    number = {photo: i for i, photo in enumerate(dict.fromkeys(photos))}
    codes = np.array([number.get(photo, -1) for photo in face_photos], dtype=np.int64)  # -1: not asked for
    order = np.argsort(codes, kind="stable")
    codes, face_rows = codes[order], face_rows[order]
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if len(codes) else np.zeros(0, int)
    pooled = np.full((len(number), face_rows.shape[1]), np.nan)
    for start, stop in zip(starts, np.r_[starts[1:], len(codes)]):
        if codes[start] >= 0:
            pooled[codes[start]] = reduce(face_rows[start:stop], axis=0)
    return pooled[[number[photo] for photo in photos]]


# --- the per-photo cache --------------------------------------------------------------------

def _write_entry(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write one photo's arrays atomically: a temporary file, then a rename."""
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:  # a handle: savez would add ".npz"
        np.savez(handle, **arrays)


def _read_entry(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as data:
        return {name: data[name] for name in data.files}


def _run(paths: list, detector: str, cache_folder: Path, describe: str,
         compute: Callable[[list[tuple[np.ndarray, list[faces.Face]]]], list[dict[str, np.ndarray]]],
         batch_photos: int, progress: bool) -> FaceFeatures:
    """Shared loop of both extractions: detections (cached), then per-photo feature entries.

    ``compute`` takes a list of (image, faces) and returns, for each photo, a dict of
    set name -> (n_faces, D) arrays. It is called on groups of ``batch_photos`` photos that are
    not in the cache yet, so the network sees full batches of chips.
    """
    detections = faces.detect_dataset(paths, detector=detector, progress=progress)
    # Split the table by photo once: filtering the whole table again for every photo would make
    # this loop quadratic in the number of photos.
    detections_of = dict(list(detections.groupby("path", sort=False)))
    readable = set(detections.path)
    skipped = [str(p) for p in paths if str(p) not in readable]
    entries: dict[str, dict[str, np.ndarray]] = {}
    todo = []
    for path in paths:
        if str(path) not in readable:
            continue
        entry_file = cache_folder / f"{faces.sha1_of_file(path)}.npz"
        if entry_file.exists():
            entries[str(path)] = _read_entry(entry_file)
        else:
            todo.append((str(path), entry_file))

    bar = tqdm(total=len(todo), desc=describe, disable=not progress or not todo, mininterval=3)
    for start in range(0, len(todo), batch_photos):
        group = todo[start:start + batch_photos]
        inputs = []
        for path, _ in group:
            try:
                image = read_image(path)
            except ImageReadError as error:  # a file that changed since detection: report, go on
                print(f"skipped: {error}")
                skipped.append(path)
                image = None
            inputs.append((image, faces.faces_of(detections_of[path], path) if image is not None else []))
        kept = [(item, (path, entry_file)) for item, (path, entry_file) in zip(inputs, group) if item[0] is not None]
        results = compute([item for item, _ in kept]) if kept else []
        for result, (_, (path, entry_file)) in zip(results, kept):
            _write_entry(entry_file, result)
            entries[path] = result
        bar.update(len(group))
    bar.close()

    face_rows, sets = [], {}
    for path in map(str, paths):
        entry = entries.get(path)
        if entry is None:
            continue
        for i, (x0, y0, x1, y1) in enumerate(entry["boxes"].astype(int)):
            face_rows.append({"path": path, "face": i, "x0": x0, "y0": y0, "x1": x1, "y1": y1})
        for name, values in entry.items():
            if name != "boxes":
                sets.setdefault(name, []).append(values)
    face_table = pd.DataFrame(face_rows, columns=["path", "face", "x0", "y0", "x1", "y1"])
    counts = face_table.groupby("path").size()
    photos = pd.DataFrame({"path": [str(p) for p in paths]})
    photos["n_faces"] = photos.path.map(counts).fillna(0).astype(int)
    photos["skipped"] = photos.path.isin(skipped)
    return FaceFeatures(face_table, {name: np.concatenate(parts).astype(np.float32) for name, parts in sets.items()},
                        photos)


def _boxes(face_list: list[faces.Face]) -> np.ndarray:
    return np.array([f.box for f in face_list], dtype=np.int64).reshape(-1, 4)


# --- deep features --------------------------------------------------------------------------

def backbone_cache_key(backbone) -> str:
    """What makes two runs' features the same: the backbone and, for VGGFace, its weight file."""
    weights = getattr(backbone, "weights_path", None)
    if backbone.name == "vggface":
        weights_id = "random" if weights is None else f"{Path(weights).name}-{Path(weights).stat().st_size}"
        return f"vggface-{weights_id}"
    return backbone.name


def extract_faces(paths: Iterable, backbone, detector: str = "sequential", batch_photos: int = 64,
                  progress: bool = True) -> FaceFeatures:
    """Every feature set of ``backbone`` for every face the detector finds in ``paths`` (cached).

    The chips of ``batch_photos`` photos go through the network together. The network runs on
    fixed batches (``backbone.batch_size``) and pads the last one of each group with blank chips,
    so larger groups waste less (64 photos of ~3 faces: ~6 batches, ~8% padding; 16 photos:
    ~2 batches, ~25%). A killed run loses at most the group it was working on.
    """
    paths = [str(p) for p in paths]

    def compute(items):
        chips = [backbone.prepare(image, face) for image, found in items for face in found]
        sizes = [len(found) for _, found in items]
        if chips:
            values = backbone.features(np.stack(chips), progress=False)
        else:
            values = {f"{prefix}_{layer}": np.zeros((0, dim), np.float32)
                      for prefix in ("rgb", "bgr") for layer, dim in backbone.layer_dims.items()}
        ends = np.cumsum(sizes)
        return [{"boxes": _boxes(found), **{name: v[end - n:end] for name, v in values.items()}}
                for (_, found), n, end in zip(items, sizes, ends)]

    folder = cache_path("features", faces.detection_cache_name(detector), backbone_cache_key(backbone), "x").parent
    return _run(paths, detector, folder, f"{backbone.name} features", compute, batch_photos, progress)


# --- landmark distances ---------------------------------------------------------------------

def extract_landmarks(paths: Iterable, detector: str = "sequential", progress: bool = True) -> FaceFeatures:
    """68 landmarks on each face's 224x224 crop (the authors' way) and both normalisations of
    their 2278 pairwise distances: sets "landmarks" (by the largest, the paper), "landmarks_mean"
    (by the mean) and "points" (the 68 x 2 coordinates on the crop, flattened)."""
    paths = [str(p) for p in paths]

    def compute(items):
        results = []
        for image, found in items:
            points = np.zeros((len(found), 68, 2))
            for i, face in enumerate(found):
                points[i] = faces.landmarks_on_crop(faces.crop_face(image, face))
            distances = {how: np.array([geometry.landmark_distances(p, how) for p in points]).reshape(-1, geometry.N_DISTANCES)
                         for how in ("max", "mean")}
            results.append({"boxes": _boxes(found), "landmarks": distances["max"],
                            "landmarks_mean": distances["mean"], "points": points.reshape(-1, 136)})
        return results

    folder = cache_path("features", faces.detection_cache_name(detector), "landmarks-crop224", "x").parent
    return _run(paths, detector, folder, "landmarks", compute, batch_photos=64, progress=progress)
