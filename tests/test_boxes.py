"""Box evaluation: IoU, the greedy matching of found boxes to true ones, recall and precision."""

import math

import pandas as pd
import pytest

from gle_utils import boxes

FACE, OTHER, FAR = (0, 0, 10, 10), (20, 0, 30, 10), (50, 50, 60, 60)


def test_iou_of_equal_disjoint_and_overlapping_boxes():
    assert boxes.iou(FACE, FACE) == 1.0
    assert boxes.iou(FACE, (20, 20, 30, 30)) == 0.0
    assert boxes.iou(FACE, (5, 0, 15, 10)) == pytest.approx(50 / 150)
    assert boxes.iou(FACE, (5, 0, 15, 10)) == boxes.iou((5, 0, 15, 10), FACE)
    assert boxes.iou((0, 0, 0, 10), (0, 0, 0, 10)) == 0.0  # no area: no overlap, no division by zero


def test_match_boxes_counts_hits_false_boxes_and_missed_faces():
    truth = [FACE, OTHER]
    # one hit, one box too far off (IoU 1/3), one box on nothing: 1 hit, 2 false, 1 missed
    assert boxes.match_boxes(truth, [(0, 0, 10, 11), (25, 0, 35, 10), FAR]) == (1, 2, 1)
    # two found boxes on one face: only one may claim it
    assert boxes.match_boxes(truth[:1], [FACE, (0, 0, 10, 9)]) == (1, 1, 0)
    assert boxes.match_boxes(truth, [(25, 0, 35, 10)], min_iou=0.3) == (1, 0, 1)


def test_matched_pairs_takes_the_best_overlap_first():
    # The box overlaps both true faces (IoU 0.54 and 0.82): it goes to the second, its best.
    truth = [(0, 0, 10, 10), (4, 0, 14, 10)]
    assert boxes.matched_pairs(truth, [(3, 0, 13, 10)]) == [(1, 0)]
    # A second box that fits the first face (IoU 0.9): both pairs, best first.
    assert boxes.matched_pairs(truth, [(3, 0, 13, 10), (0, 0, 9, 10)]) == [(0, 1), (1, 0)]
    assert boxes.matched_pairs(truth, []) == [] and boxes.matched_pairs([], [FACE]) == []


def test_true_boxes_found_says_which_faces_were_hit():
    truth = [FACE, OTHER, (40, 0, 50, 10)]
    assert boxes.true_boxes_found(truth, [(41, 0, 50, 10), (0, 1, 10, 10)]) == [True, False, True]
    assert boxes.true_boxes_found(truth, []) == [False, False, False]


def test_evaluate_boxes_pools_the_photos_of_a_detection_table():
    # A detect_dataset table: photo "a" has two boxes, "b" none (one row, empty box), "c" is not in the truth.
    found = pd.DataFrame({"path": ["a", "a", "b", "c"], "n_faces": [2, 2, 0, 1],
                          "x0": [0, 50, None, 0], "y0": [0, 50, None, 0], "x1": [10, 60, None, 10],
                          "y1": [10, 60, None, 10]}).astype({c: "Int64" for c in ("x0", "y0", "x1", "y1")})
    scores = boxes.evaluate_boxes({"a": [FACE, OTHER], "b": [FACE]}, found)
    assert scores == {"faces": 3, "found": 2, "hits": 1, "recall": 1 / 3, "precision": 1 / 2}
    nothing = boxes.evaluate_boxes({"b": []}, found)
    assert nothing["faces"] == nothing["found"] == 0 and math.isnan(nothing["recall"]) and math.isnan(nothing["precision"])


def test_true_face_of_each_found_matches_each_box_once():
    truth = pd.DataFrame({"path": ["a", "a", "b"], "x0": [0, 20, 0], "y0": [0, 0, 0], "x1": [10, 30, 10],
                          "y1": [10, 10, 10]}, index=[7, 8, 9])
    # In "a", two found boxes overlap the first true face; the better one takes it. "c" has no truth.
    found = pd.DataFrame({"path": ["a", "a", "a", "c"], "x0": [0, 1, 21, 0], "y0": [3, 0, 0, 0],
                          "x1": [10, 10, 30, 10], "y1": [10, 10, 10, 10]})
    matched = boxes.true_face_of_each_found(found, truth)
    assert matched.isna().tolist() == [True, False, False, True]
    assert matched[1] == 7 and matched[2] == 8
