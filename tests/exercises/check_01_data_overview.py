"""Checks for the exercises of notebook 01. Run: make check NB=01"""

import pandas as pd
import pytest

from gle_utils.exercises import load_exercises

ex = load_exercises("01_data_overview")


def test_majority_baseline_on_gaf_table_1():
    train = ["Positive"] * 1272 + ["Neutral"] * 1199 + ["Negative"] * 1159
    val = ["Positive"] * 773 + ["Neutral"] * 728 + ["Negative"] * 564
    assert ex["majority_baseline"](train, val) == pytest.approx(773 / 2065)


def test_majority_baseline_uses_the_training_majority():
    assert ex["majority_baseline"](["a", "b", "b"], ["a", "a", "a", "b"]) == pytest.approx(0.25)


def test_faceless_share():
    detections = pd.DataFrame({"path": ["p1", "p1", "p2", "p3", "p4"], "n_faces": [2, 2, 0, 1, 0]})
    assert ex["faceless_share"](detections) == pytest.approx(0.5)


def test_disagreeing_photo_share():
    table = pd.DataFrame({"photo": ["a", "a", "b", "c", "c", "c"],
                          "agrees": [True, False, True, True, True, True]})
    assert ex["disagreeing_photo_share"](table) == pytest.approx(1 / 3)
