"""Face stage (paper section 2.2): face detectors behind one interface.

Every detector takes an RGB uint8 image and returns a list of ``Face`` boxes with scores,
clipped to the image. Models are loaded once per process (``functools.cache``).

    hog         dlib's HOG frontal face detector, upsampled once (the authors' setting)
    haar        OpenCV's haarcascade_frontalface_alt2, scaleFactor 1.3, minNeighbors 4
    sequential  the paper's detector: HOG, and Haar only when HOG finds nothing
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import cv2
import dlib
import numpy as np

DETECTORS = ("hog", "haar", "sequential")


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
    x0, x1 = int(max(0, min(x0, width))), int(max(0, min(x1, width)))
    y0, y1 = int(max(0, min(y0, height))), int(max(0, min(y1, height)))
    if x1 <= x0 or y1 <= y0:
        return None
    return Face(x0, y0, x1, y1, float(score), detector)


@cache
def _hog_model():
    return dlib.get_frontal_face_detector()


@cache
def _haar_model():
    path = cv2.data.haarcascades + "haarcascade_frontalface_alt2.xml"
    cascade = cv2.CascadeClassifier(path)
    if cascade.empty():
        raise RuntimeError(f"OpenCV could not load its Haar cascade from {path}")
    return cascade


def _as_rgb(image: np.ndarray) -> np.ndarray:
    """Accept greyscale (H, W) as well as RGB (H, W, 3) uint8 input."""
    image = np.ascontiguousarray(image, dtype=np.uint8)
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    return image


def detect_hog(image: np.ndarray, upsample: int = 1) -> list[Face]:
    """dlib's HOG + linear SVM sliding-window detector (the authors upsampled once)."""
    image = _as_rgb(image)
    rects, scores, _ = _hog_model().run(image, upsample, 0.0)
    faces = [_clipped(r.left(), r.top(), r.right() + 1, r.bottom() + 1, s, "hog", image.shape)
             for r, s in zip(rects, scores)]
    return [f for f in faces if f is not None]


def detect_haar(image: np.ndarray, scale_factor: float = 1.3, min_neighbors: int = 4) -> list[Face]:
    """OpenCV's Viola-Jones cascade; as the authors, detectMultiScale(gray, 1.3, 4)."""
    grey = cv2.cvtColor(_as_rgb(image), cv2.COLOR_RGB2GRAY)
    boxes, _, weights = _haar_model().detectMultiScale3(
        grey, scaleFactor=scale_factor, minNeighbors=min_neighbors, outputRejectLevels=True)
    faces = [_clipped(x, y, x + w, y + h, s, "haar", grey.shape)
             for (x, y, w, h), s in zip(np.reshape(boxes, (-1, 4)), np.ravel(weights))]
    return [f for f in faces if f is not None]


def detect_sequential(image: np.ndarray, upsample: int = 1) -> list[Face]:
    """The paper's detector: dlib HOG first; OpenCV Haar only when HOG finds no face."""
    faces = detect_hog(image, upsample=upsample)
    return faces if faces else detect_haar(image)


def detect_faces(image: np.ndarray, detector: str = "sequential", **settings) -> list[Face]:
    """Detect faces with the named detector (one of ``DETECTORS``); settings go to it."""
    functions = {"hog": detect_hog, "haar": detect_haar, "sequential": detect_sequential}
    if detector not in functions:
        raise ValueError(f"unknown detector {detector!r}; choose one of {DETECTORS}")
    return functions[detector](image, **settings)
