"""The checks of notebook 01's exercises: `make check NB=01`, the tests and the course's test cells run them."""

import pandas as pd
import pytest

from gle_utils.checks import exercise

__all__ = ["majority_baseline_on_gaf_table_1", "majority_baseline_uses_the_training_majority",
           "faceless_share_counts_photos_not_faces", "disagreeing_photo_share_of_a_faces_table"]


@exercise("majority_baseline")
def majority_baseline_on_gaf_table_1(ex):
    train = ["Positive"] * 1272 + ["Neutral"] * 1199 + ["Negative"] * 1159
    val = ["Positive"] * 773 + ["Neutral"] * 728 + ["Negative"] * 564
    assert ex["majority_baseline"](train, val) == pytest.approx(773 / 2065)


@exercise("majority_baseline")
def majority_baseline_uses_the_training_majority(ex):
    assert ex["majority_baseline"](["a", "b", "b"], ["a", "a", "a", "b"]) == pytest.approx(0.25)


@exercise("faceless_share")
def faceless_share_counts_photos_not_faces(ex):
    detections = pd.DataFrame({"path": ["p1", "p1", "p2", "p3", "p4"], "n_faces": [2, 2, 0, 1, 0]})
    assert ex["faceless_share"](detections) == pytest.approx(0.5)


@exercise("disagreeing_photo_share")
def disagreeing_photo_share_of_a_faces_table(ex):
    table = pd.DataFrame({"photo": ["a", "a", "b", "c", "c", "c"],
                          "agrees": [True, False, True, True, True, True]})
    assert ex["disagreeing_photo_share"](table) == pytest.approx(1 / 3)
