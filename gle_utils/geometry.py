"""Geometry of a face (paper section 2.4): all pairwise distances between its 68 landmarks.

dlib's shape predictor (Kazemi & Sullivan 2014, trained on iBUG 300-W) puts 68 points on a
face. The paper turns them into a feature vector as simply as possible:

    1. take every unique pair of points: 68 * 67 / 2 = 2278 pairs, always in the same order
       (the upper triangle of the 68 x 68 distance matrix, row by row);
    2. measure each pair's Euclidean distance;
    3. divide by the largest of the 2278 distances, so the vector does not depend on how big
       the face is in the photo (the paper also tried the mean distance: slightly worse).

The result does not change when the face is moved (distances ignore translation) or scaled
(the division removes the scale); it does change with expression: an open mouth stretches
the lip-to-lip distances, a smile the corner-to-corner ones.
"""

from __future__ import annotations

import numpy as np

__all__ = ["N_DISTANCES", "PAIRS_I", "PAIRS_J", "landmark_distances", "pair_names"]

_N_LANDMARKS = 68
N_DISTANCES = _N_LANDMARKS * (_N_LANDMARKS - 1) // 2  # 2278

# The fixed order of the pairs: (0,1), (0,2), ..., (0,67), (1,2), ..., (66,67).
PAIRS_I, PAIRS_J = np.triu_indices(_N_LANDMARKS, k=1)

_NORMALISATIONS = ("max", "mean")


def landmark_distances(points: np.ndarray, normalise: str = "max") -> np.ndarray:
    """The 2278 pairwise distances of one face's 68 (x, y) landmarks, divided by their max or mean.

    Parameters
    ----------
    points : array-like, shape (68, 2)
        The landmarks' (x, y), in iBUG order (``faces.landmarks_on_crop``); finite, not all
        at one place.
    normalise : {"max", "mean"}
        ``"max"`` is the paper's choice (the largest distance becomes exactly 1); ``"mean"``
        the variant the paper found slightly worse (the mean becomes 1).

    Returns
    -------
    numpy.ndarray
        The 2278 distances, float64, in the order of ``PAIRS_I``, ``PAIRS_J`` (``pair_names``).

    Examples
    --------
    68 points on a line, one pixel apart: point i and point j are |i - j| apart, and the
    largest distance, 67 (the two ends), becomes 1.

    >>> points = np.zeros((68, 2))
    >>> points[:, 0] = np.arange(68)
    >>> distances = landmark_distances(points)
    >>> pair_names()[:3], distances[:3] * 67
    (['0-1', '0-2', '0-3'], array([1., 2., 3.]))
    >>> float(distances.max()), len(distances)
    (1.0, 2278)
    """
    points = np.asarray(points, dtype=np.float64)
    if points.shape != (_N_LANDMARKS, 2):
        raise ValueError(f"expected {_N_LANDMARKS} landmarks as an array of shape (68, 2), got {points.shape}")
    if not np.isfinite(points).all():
        raise ValueError("the landmarks hold NaN or infinite coordinates")

    distances = np.linalg.norm(points[PAIRS_I] - points[PAIRS_J], axis=1)

    if normalise == "max":
        scale = distances.max()
    elif normalise == "mean":
        scale = distances.mean()
    else:
        raise ValueError(f"unknown normalise={normalise!r}; choose one of {_NORMALISATIONS}")
    if scale == 0:
        raise ValueError("all 68 landmarks are at the same place: the distances cannot be normalised")
    return distances / scale


def pair_names() -> list[str]:
    """A readable name for each of the 2278 columns, e.g. "48-54" (the two mouth corners)."""
    return [f"{i}-{j}" for i, j in zip(PAIRS_I, PAIRS_J)]
