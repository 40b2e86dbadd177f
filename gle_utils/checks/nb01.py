"""The checks of notebook 01's exercises: `make check NB=01`, the tests and the course's test cells run them."""

import pandas as pd
import pytest

from gle_utils.checks import exercise

__all__ = ["majority_baseline_on_gaf_table_1", "majority_baseline_uses_the_training_majority",
           "faceless_share_by_class_counts_photos_not_faces", "faceless_share_by_class_leaves_out_unnamed_photos",
           "faceless_share_by_class_takes_a_series_and_keeps_every_class", "disagreeing_photo_share_of_a_faces_table"]


@exercise("majority_baseline")
def majority_baseline_on_gaf_table_1(ex):
    train = ["Positive"] * 1272 + ["Neutral"] * 1199 + ["Negative"] * 1159
    val = ["Positive"] * 773 + ["Neutral"] * 728 + ["Negative"] * 564
    assert ex["majority_baseline"](train, val) == pytest.approx(773 / 2065)


@exercise("majority_baseline")
def majority_baseline_uses_the_training_majority(ex):
    assert ex["majority_baseline"](["a", "b", "b"], ["a", "a", "a", "b"]) == pytest.approx(0.25)


# One row a face; a photo without a face is one row with n_faces == 0.
_DETECTIONS = pd.DataFrame({"path": ["p1", "p1", "p1", "p2", "p3", "p4", "p5", "p5", "p6"],
                            "n_faces": [3, 3, 3, 0, 1, 0, 2, 2, 0]})


@exercise("faceless_share_by_class")
def faceless_share_by_class_counts_photos_not_faces(ex):
    # Positive: p1 (3 faces) and p2 (none): half its photos, though 3 of its 4 rows are faces.
    # Negative: p3 (1 face), p4 (none), p5 (2 faces): one photo in three.
    labels = {"p1": "Positive", "p2": "Positive", "p3": "Negative", "p4": "Negative", "p5": "Negative"}
    shares = ex["faceless_share_by_class"](_DETECTIONS, labels)
    assert set(shares) == {"Positive", "Negative"}
    assert shares["Positive"] == pytest.approx(1 / 2), "count photos, not the rows of the table"
    assert shares["Negative"] == pytest.approx(1 / 3), "count photos, not the rows of the table"


@exercise("faceless_share_by_class")
def faceless_share_by_class_leaves_out_unnamed_photos(ex):
    # p6 (no face) is not in labels: it must not count, in any class.
    shares = ex["faceless_share_by_class"](_DETECTIONS, {"p1": "Neutral", "p3": "Neutral", "p5": "Positive"})
    assert shares == pytest.approx({"Neutral": 0.0, "Positive": 0.0})


@exercise("faceless_share_by_class")
def faceless_share_by_class_takes_a_series_and_keeps_every_class(ex):
    labels = pd.Series({"p2": "Neutral", "p4": "Neutral", "p6": "Negative", "p1": "Negative", "p3": "Positive"})
    shares = ex["faceless_share_by_class"](_DETECTIONS, labels)
    assert shares == pytest.approx({"Neutral": 1.0, "Negative": 0.5, "Positive": 0.0})
    assert all(isinstance(value, float) for value in shares.values())


@exercise("disagreeing_photo_share")
def disagreeing_photo_share_of_a_faces_table(ex):
    table = pd.DataFrame({"photo": ["a", "a", "b", "c", "c", "c"],
                          "agrees": [True, False, True, True, True, True]})
    assert ex["disagreeing_photo_share"](table) == pytest.approx(1 / 3)
