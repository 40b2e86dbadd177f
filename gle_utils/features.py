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

from . import faces, geometry
from .config import cache_path
from .io import ImageReadError, atomic_path, read_image
from .networks import PASSES
from .progress import StageProgress

__all__ = ["POOLINGS", "FaceFeatures", "extract_faces", "extract_landmarks", "pool_faces"]

POOLINGS = ("median", "mean")


@dataclass
class FaceFeatures:
    """Per-face features of many photos (what ``extract_faces`` and ``extract_landmarks`` return).

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

    Parameters
    ----------
    face_rows : array of shape (n_faces, D)
        One row of features per face.
    face_photos : sequence of length n_faces
        The photo of each face row (any hashable name, e.g. its path).
    photos : sequence
        The photos wanted, in the order of the output; a face of a photo not in it is ignored.
    how : {"median", "mean"}
        The element-wise reduction over a photo's faces.

    Returns
    -------
    array of shape (len(photos), D), float64
        Row j pools the faces of ``photos[j]``; a photo with no face gets a row of NaN (it has
        no face features).

    Examples
    --------
    Photo "a" has three faces, the third far off; photo "b" has none:

    >>> rows = np.array([[0.0, 10.0], [1.0, 11.0], [5.0, -40.0]])
    >>> pool_faces(rows, ["a", "a", "a"], ["a", "b"], "median")
    array([[ 1., 10.],
           [nan, nan]])
    >>> pool_faces(rows, ["a", "a", "a"], ["a"], "mean")
    array([[ 2.        , -6.33333333]])
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


def _read_entry(path: Path, names: Iterable[str] | None = None) -> dict[str, np.ndarray]:
    """One photo's arrays (those in ``names``, or all) from its cache file."""
    with np.load(path, allow_pickle=False) as data:
        return {name: data[name] for name in (data.files if names is None else names)}


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
    entry_of: dict[str, Path] = {}  # photo -> its cache file, once it has one
    todo = []
    for path in paths:
        if str(path) not in readable:
            continue
        entry_file = cache_folder / f"{faces.sha1_of_file(path)}.npz"
        if entry_file.exists():
            entry_of[str(path)] = entry_file
        else:
            todo.append((str(path), entry_file))

    bar = StageProgress(len(todo), describe, progress)  # and, for a long stage, how long it takes
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
            entry_of[path] = entry_file
        bar.update(len(group))
    bar.close()

    # The result is read back from the cache files, one photo at a time, into one float32 array
    # per set, allocated once: only the photo being copied in is held beside it, so the features
    # are in memory about once (holding every entry, their join and its cast held three copies).
    done = [path for path in map(str, paths) if path in entry_of]
    boxes = {path: _read_entry(entry_of[path], ["boxes"])["boxes"].astype(int) for path in done}
    face_rows = [{"path": path, "face": i, "x0": x0, "y0": y0, "x1": x1, "y1": y1}
                 for path in done for i, (x0, y0, x1, y1) in enumerate(boxes[path])]
    first_row = np.cumsum([0] + [len(boxes[path]) for path in done])
    sets: dict[str, np.ndarray] = {}
    for path, start, stop in zip(done, first_row[:-1], first_row[1:]):
        for name, values in _read_entry(entry_of[path]).items():
            if name != "boxes":
                if name not in sets:
                    sets[name] = np.empty((first_row[-1], values.shape[1]), np.float32)
                sets[name][start:stop] = values
    face_table = pd.DataFrame(face_rows, columns=["path", "face", "x0", "y0", "x1", "y1"])
    counts = face_table.groupby("path").size()
    photos = pd.DataFrame({"path": [str(p) for p in paths]})
    photos["n_faces"] = photos.path.map(counts).fillna(0).astype(int)
    photos["skipped"] = photos.path.isin(skipped)
    return FaceFeatures(face_table, sets, photos)


def _boxes(face_list: list[faces.Face]) -> np.ndarray:
    return np.array([f.box for f in face_list], dtype=np.int64).reshape(-1, 4)


# --- deep features --------------------------------------------------------------------------

def extract_faces(paths: Iterable, backbone, detector: str = "sequential", batch_photos: int = 64,
                  progress: bool = True) -> FaceFeatures:
    """Every feature set of ``backbone`` for every face the detector finds in ``paths`` (cached).

    Parameters
    ----------
    paths : iterable of str or Path
        The photos.
    backbone : networks.Backbone
        E.g. ``backbones.get_backbone(name)``. Its ``cache_key`` names the cache folder.
    detector : str
        A face detector's name (``faces.detect_dataset``); its detections are cached too.
    batch_photos : int
        Photos whose chips go through the network together. The network runs on fixed batches
        (``backbone.batch_size``) and pads the last one of each group with blank chips, so
        larger groups waste less; a killed run loses at most the group it was working on.
    progress : bool
        Show progress bars, and, when more than ``progress.SAY_TIME_ABOVE`` photos are to do,
        one line (after the first group) with their number and the time they will take.

    Returns
    -------
    FaceFeatures
        One row per detected face; ``sets`` holds every set of ``backbone.feature_sets``.
    """
    paths = [str(p) for p in paths]

    def compute(items):
        chips = [backbone.prepare(image, face) for image, found in items for face in found]
        sizes = [len(found) for _, found in items]
        if chips:
            values = backbone.features(np.stack(chips), progress=False)
        else:
            values = {f"{prefix}_{layer}": np.zeros((0, dim), np.float32)
                      for prefix in PASSES for layer, dim in backbone.layer_dims.items()}
        ends = np.cumsum(sizes)
        return [{"boxes": _boxes(found), **{name: v[end - n:end] for name, v in values.items()}}
                for (_, found), n, end in zip(items, sizes, ends)]

    folder = cache_path("features", faces.detection_cache_name(detector), backbone.cache_key, "x").parent
    return _run(paths, detector, folder, f"{backbone.name} features", compute, batch_photos, progress)


# --- landmark distances ---------------------------------------------------------------------

def extract_landmarks(paths: Iterable, detector: str = "sequential", progress: bool = True) -> FaceFeatures:
    """68 landmarks on each face's 224x224 crop (the authors' way) and their pairwise distances (cached).

    Parameters
    ----------
    paths : iterable of str or Path
        The photos.
    detector : str
        A face detector's name (``faces.detect_dataset``).
    progress : bool
        Show progress bars.

    Returns
    -------
    FaceFeatures
        One row per detected face, and three sets: "landmarks" (the 2278 pairwise distances
        divided by the largest, the paper's), "landmarks_mean" (divided by their mean) and
        "points" (the 68 x 2 coordinates on the crop, flattened).
    """
    paths = [str(p) for p in paths]

    def compute(items):
        results = []
        for image, found in items:
            points = np.zeros((len(found), 68, 2))
            for i, face in enumerate(found):
                points[i] = faces.landmarks_on_crop(faces.crop_face(image, face))
            distances = {how: np.array([geometry.landmark_distances(p, how) for p in points]).reshape(-1, geometry.N_DISTANCES)
                         for how in ("max", "mean")}
            # Computed in float64, kept in float32: what the result holds (half the memory).
            results.append({"boxes": _boxes(found), "landmarks": distances["max"].astype(np.float32),
                            "landmarks_mean": distances["mean"].astype(np.float32),
                            "points": points.reshape(-1, 136).astype(np.float32)})
        return results

    folder = cache_path("features", faces.detection_cache_name(detector), "landmarks-crop224", "x").parent
    return _run(paths, detector, folder, "landmarks", compute, batch_photos=64, progress=progress)
