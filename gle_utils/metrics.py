"""How good the vote is, and how far to trust its numbers (paper section 3, Figure 3).

Metrics compare answers with the true labels:

    accuracy_report        accuracy over all photos, over the photos with a face, and over the
                           faceless ones, side by side. The authors' 75.4% was measured on the
                           2020 of 2065 GAF 2.0 validation photos WITH a face (the 45 faceless
                           ones were left out): the second row is how they counted.
    confusion_matrix       row-normalised, as in the paper's Figure 3 (``PAPER_CONFUSION_DIAGONAL``
                           holds its diagonal); ``plot_confusion_matrix`` draws it
    class_names            labels given as class names or indices -> class names

Calibration. The vote's numbers are not probabilities anyone has checked: a forest's vote
shares are not frequencies, and summing faces inflates one member. ``fit_temperature`` finds the
one number T that makes ``calibrate(scores, T)`` (scores ** (1/T), renormalised) best predict
the validation labels (lowest log loss); ``cap_confidence`` keeps a member from claiming more
than its validation accuracy. Neither changes the argmax, hence neither changes an accuracy.

The vote itself (members, weights, the argmax ``predicted_labels``) is ``ensemble``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import minimize_scalar

from . import config
from .classifiers import class_indices
from .ensemble import predicted_labels

__all__ = ["PAPER_CONFUSION_DIAGONAL", "TEMPERATURE_BOUNDS", "accuracy_report", "calibrate", "cap_confidence",
           "class_names", "confusion_matrix", "fit_temperature", "plot_confusion_matrix"]

# The diagonal of the paper's Figure 3 (row-normalised confusion matrix, GAF 2.0 val).
PAPER_CONFUSION_DIAGONAL = {"Positive": 0.80, "Neutral": 0.66, "Negative": 0.80}

# The range fit_temperature searches: from 4 times sharper to 20 times softer than the raw scores.
TEMPERATURE_BOUNDS = (0.25, 20.0)
_TIE_MARGIN = 1e-12  # cap_confidence: what keeps a chance-level member's first choice its answer


# ---------------------------------------------------------------------------------------------
# Answers against the true labels
# ---------------------------------------------------------------------------------------------

def class_names(labels, classes: tuple[str, ...] = config.CLASSES) -> np.ndarray:
    """Labels as class names (integer labels are indices into ``classes``)."""
    return np.asarray(classes, dtype=object)[class_indices(labels, classes)]


def accuracy_report(scores: np.ndarray, y_true, has_face) -> pd.DataFrame:
    """Accuracy over all photos, over photos with a face (how the authors counted), and faceless ones.

    Parameters
    ----------
    scores : numpy.ndarray
        (n_photos, 3) scores in ``config.CLASSES`` order, e.g. from ``ensemble.weighted_vote``;
        a photo with a NaN row has no answer and counts as wrong.
    y_true : sequence
        The true labels: class names or their indices.
    has_face : sequence of bool
        Whether a face was found in each photo.

    Returns
    -------
    pandas.DataFrame
        Rows "all photos", "photos with a face", "photos without a face"; columns photos (how
        many) and accuracy (NaN for a subset without photos).
    """
    correct = predicted_labels(scores) == class_names(y_true)
    has_face = np.asarray(has_face, dtype=bool)
    rows = {}
    for subset, mask in (("all photos", np.ones_like(has_face)), ("photos with a face", has_face),
                         ("photos without a face", ~has_face)):
        n = int(mask.sum())
        rows[subset] = {"photos": n, "accuracy": float(correct[mask].mean()) if n else float("nan")}
    return pd.DataFrame.from_dict(rows, orient="index")


def confusion_matrix(y_true, y_pred, classes: tuple[str, ...] = config.CLASSES) -> pd.DataFrame:
    """Row-normalised confusion matrix (rows = true class, columns = predicted), as in Figure 3.

    Each row sums to 1: the diagonal is the recall of each class. Photos without a
    prediction (None) are left out.

    Parameters
    ----------
    y_true : sequence
        The true labels: class names or their indices.
    y_pred : sequence
        The predicted labels (class names, e.g. from ``ensemble.predicted_labels``), None for
        a photo without an answer.
    classes : tuple of str
        The classes, in the order of the rows and columns.

    Returns
    -------
    pandas.DataFrame
        (n_classes, n_classes), index "true", columns "predicted"; a class without a photo
        has a row of NaN.
    """
    y_pred = np.asarray(y_pred, dtype=object)
    decided = np.array([label is not None for label in y_pred], dtype=bool)
    true = class_indices(list(np.asarray(y_true, dtype=object)[decided]), classes)
    predicted = class_indices(list(y_pred[decided]), classes)
    counts = np.zeros((len(classes), len(classes)))
    np.add.at(counts, (true, predicted), 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        matrix = counts / counts.sum(axis=1, keepdims=True)
    return pd.DataFrame(matrix, index=pd.Index(classes, name="true"), columns=pd.Index(classes, name="predicted"))


def plot_confusion_matrix(matrix: pd.DataFrame, ax=None, title: str = "Confusion matrix (rows: true class)"):
    """Draw a row-normalised confusion matrix as an annotated heat map (the paper's Figure 3)."""
    # Imported here: plotting libraries take seconds to load and nothing else in this module draws.
    import matplotlib.pyplot as plt
    import seaborn as sns

    ax = ax if ax is not None else plt.subplots(figsize=(4.5, 3.8))[1]
    sns.heatmap(matrix, annot=True, fmt=".2f", vmin=0, vmax=1, cmap="Blues", cbar=False, square=True, ax=ax)
    ax.set_title(title)
    return ax


# ---------------------------------------------------------------------------------------------
# Calibration: how far to trust the scores
# ---------------------------------------------------------------------------------------------

def calibrate(scores: np.ndarray, temperature: float) -> np.ndarray:
    """Temperature scaling of probability-like scores: scores ** (1 / T), rows renormalised.

    T > 1 softens (less confident), T < 1 sharpens; the argmax never changes. NaN rows stay NaN.
    """
    scores = np.asarray(scores, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        logits = np.log(np.clip(scores, 1e-12, None)) / temperature
        logits -= np.fmax.reduce(logits, axis=1, keepdims=True)  # NaN rows stay NaN, silently
        powered = np.exp(logits)
        return powered / powered.sum(axis=1, keepdims=True)


def cap_confidence(probabilities: np.ndarray, accuracy: float) -> np.ndarray:
    """Shrink each row towards 1/n_classes each, just enough that no class exceeds
    max(``accuracy``, 1/n_classes) (``accuracy``: a member's validation accuracy): rows already
    below it and NaN rows are unchanged, the argmax never changes.

    A member at or below chance (accuracy <= 1/n_classes) cannot claim more than 1/n for any class:
    its rows become 1/n each, plus a margin of 1e-12 for its first choice, so that the argmax is
    still the member's own answer (an exact tie would go to the first class).
    """
    p = np.asarray(probabilities, dtype=np.float64).copy()
    uniform = 1 / p.shape[1]
    cap = max(float(accuracy), uniform + _TIE_MARGIN)
    top = p.max(axis=1)
    over = top > cap
    shrink = (cap - uniform) / (top[over] - uniform)
    p[over] = uniform + shrink[:, None] * (p[over] - uniform)
    return p


def fit_temperature(scores: np.ndarray, y_true, bounds: tuple[float, float] = TEMPERATURE_BOUNDS) -> float:
    """The temperature (within ``bounds``) whose ``calibrate`` gives the lowest log loss on
    labelled photos: fit it on VALIDATION scores. Rows that are NaN are left out; with no row
    left, 1.0 (no change). A result at one of the bounds means the loss still fell there: the
    best temperature lies at or beyond it."""
    scores = np.asarray(scores, dtype=np.float64)
    y = class_indices(y_true)
    present = ~np.isnan(scores).any(axis=1)
    if not present.any():
        return 1.0
    scores, y = scores[present], y[present]

    def log_loss(log_t):
        p = calibrate(scores, float(np.exp(log_t)))[np.arange(len(y)), y]
        return -np.mean(np.log(np.clip(p, 1e-12, None)))

    best = minimize_scalar(log_loss, bounds=np.log(bounds), method="bounded", options={"xatol": 1e-4})
    return float(np.exp(best.x))
