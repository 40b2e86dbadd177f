"""Found boxes checked against true ones (notebook 02's scores of the detectors).

A box is (x0, y0, x1, y1) in pixels, x1/y1 exclusive. A found box **hits** a true face when
their intersection over union (``iou``) is at least ``min_iou`` (0.5, the PASCAL VOC rule), and
each box takes part in one pair at most: pairs are matched greedily, best overlap first
(``matched_pairs``). Everything else here counts those pairs:

    true_boxes_found(true, found)          for each true box: was it found?
    match_boxes(true, found)               (hits, false boxes, missed faces)
    evaluate_boxes(true_boxes, table)      recall and precision of a detector over many photos
    true_face_of_each_found(found, truth)  which true face each row of a face table is

Tables here are face tables: one row a box, with columns path, x0, y0, x1, y1 (as
``faces.detect_dataset`` writes them; a faceless photo's row has empty boxes and is ignored).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

__all__ = ["evaluate_boxes", "iou", "match_boxes", "matched_pairs", "true_boxes_found",
           "true_face_of_each_found"]

_BOX = ["x0", "y0", "x1", "y1"]


def iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two boxes (x0, y0, x1, y1): 1 for the same box, 0 apart.

    Parameters
    ----------
    a, b : sequence of 4 numbers
        The boxes, (x0, y0, x1, y1) with x1/y1 exclusive.

    Returns
    -------
    float
        The area they share divided by the area they cover together, from 0 to 1.

    Examples
    --------
    Two 10x10 boxes, the second shifted by half its width: they share 50 of 150 pixels.

    >>> iou((0, 0, 10, 10), (5, 0, 15, 10))
    0.3333333333333333
    >>> iou((0, 0, 10, 10), (0, 0, 10, 10)), iou((0, 0, 10, 10), (20, 20, 30, 30))
    (1.0, 0.0)
    """
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def matched_pairs(true_boxes: Sequence[Sequence[float]], found_boxes: Sequence[Sequence[float]],
                  min_iou: float = 0.5) -> list[tuple[int, int]]:
    """The (true index, found index) pairs that hit: greedy, best overlap first, each box in
    one pair at most, IoU >= ``min_iou``."""
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


def true_boxes_found(true_boxes: Sequence[Sequence[float]], found_boxes: Sequence[Sequence[float]],
                     min_iou: float = 0.5) -> list[bool]:
    """For each true box: was it found? Each found box may claim one true box only.

    A pair counts only with IoU >= ``min_iou``, so a box that covers half a face, or two faces,
    is not a hit (``matched_pairs``).
    """
    found = [False] * len(true_boxes)
    for i, _ in matched_pairs(true_boxes, found_boxes, min_iou):
        found[i] = True
    return found


def match_boxes(true_boxes: Sequence[Sequence[float]], found_boxes: Sequence[Sequence[float]],
                min_iou: float = 0.5) -> tuple[int, int, int]:
    """(hits, false boxes, missed faces) of the found boxes against the true ones."""
    hits = sum(true_boxes_found(true_boxes, found_boxes, min_iou))
    return hits, len(found_boxes) - hits, len(true_boxes) - hits


def evaluate_boxes(true_boxes: dict, found: pd.DataFrame, min_iou: float = 0.5) -> dict:
    """Recall and precision of one detector's boxes against the true boxes, over many photos.

    Parameters
    ----------
    true_boxes : dict
        Each photo's path -> its list of true boxes (x0, y0, x1, y1). Only these photos count.
    found : pandas.DataFrame
        A face table (path, x0, y0, x1, y1), e.g. ``faces.detect_dataset``'s: the found boxes.
    min_iou : float
        The overlap a found box needs with a true one to hit it.

    Returns
    -------
    dict
        ``faces`` (true faces), ``found`` (found boxes), ``hits``, ``recall`` (hits / true
        faces) and ``precision`` (hits / found boxes); NaN where there is nothing to divide by.
    """
    boxes_of = _boxes_by_path(found)
    hits = false = missed = 0
    for path, boxes in true_boxes.items():
        h, f, m = match_boxes(boxes, boxes_of.get(str(path), []), min_iou)
        hits, false, missed = hits + h, false + f, missed + m
    return {"faces": hits + missed, "found": hits + false, "hits": hits,
            "recall": hits / (hits + missed) if hits + missed else float("nan"),
            "precision": hits / (hits + false) if hits + false else float("nan")}


def true_face_of_each_found(found: pd.DataFrame, truth: pd.DataFrame, min_iou: float = 0.5) -> pd.Series:
    """For each row of a face table (path, x0, y0, x1, y1), the index of the row of ``truth`` (same
    columns: the true boxes) it matches by ``matched_pairs``; <NA> where it matches none."""
    matched = pd.Series(pd.NA, index=found.index, dtype="Int64")
    truth_of = dict(tuple(truth.groupby("path")))
    for path, mine in found.groupby("path"):
        true = truth_of.get(path)
        if true is None:
            continue
        for i, j in matched_pairs(true[_BOX].to_numpy(), mine[_BOX].to_numpy(), min_iou):
            matched[mine.index[j]] = true.index[i]
    return matched


def _boxes_by_path(table: pd.DataFrame) -> dict[str, np.ndarray]:
    """The boxes of a face table, photo by photo, in the table's order (rows without a box left out)."""
    with_box = table.dropna(subset=_BOX)
    return {path: rows[_BOX].to_numpy() for path, rows in with_box.groupby("path")}
