"""The checks of notebook 08's exercises: `make check NB=08`, the tests and the course's test cells run them."""

import numpy as np
import pytest

from gle_utils.checks import exercise
from gle_utils.checks.shortcuts import refusing

__all__ = ["remap_valence_sums_each_class", "remap_valence_follows_the_mapping_given",
           "remap_valence_refuses_an_incomplete_or_wrong_mapping", "majority_of_faces_counts_votes",
           "majority_of_faces_ties_and_faceless_photos", "balanced_accuracy_is_the_mean_recall",
           "balanced_accuracy_ignores_classes_absent_from_the_truth", "balanced_accuracy_counts_no_answer_as_wrong",
           "balanced_accuracy_is_written_without_scikit_learn"]


# Seven expressions in face-api's order, and two faces' probabilities of them.
_LABELS = ("neutral", "happy", "sad", "angry", "fearful", "disgusted", "surprised")
_FACES = np.array([[.10, .60, .05, .05, .05, .05, .10],     # mostly happy
                  [.20, .05, .25, .20, .10, .10, .10]])    # unpleasant, spread over four expressions
_MAPPING = {"happy": "Positive", "neutral": "Neutral", "surprised": "Neutral",
           "sad": "Negative", "angry": "Negative", "fearful": "Negative", "disgusted": "Negative"}


@exercise("remap_valence")
def remap_valence_sums_each_class(ex):
    scores = np.asarray(ex["remap_valence"](_FACES, _LABELS, _MAPPING))
    assert scores.shape == (2, 3)
    assert scores[0] == pytest.approx([.60, .20, .20])
    # No expression passes 0.25, yet the four unpleasant ones add up to 0.65.
    assert scores[1] == pytest.approx([.05, .30, .65])


@exercise("remap_valence")
def remap_valence_follows_the_mapping_given(ex):
    surprise_positive = {**_MAPPING, "surprised": "Positive"}
    scores = np.asarray(ex["remap_valence"](_FACES, _LABELS, surprise_positive))
    assert scores == pytest.approx(np.array([[.70, .10, .20], [.15, .20, .65]]))
    # The columns follow the order of the labels given, whatever it is.
    order = [6, 0, 1, 2, 3, 4, 5]
    moved = np.asarray(ex["remap_valence"](_FACES[:, order], [_LABELS[i] for i in order], _MAPPING))
    assert moved == pytest.approx(np.array([[.60, .20, .20], [.05, .30, .65]]))


@exercise("remap_valence")
def remap_valence_refuses_an_incomplete_or_wrong_mapping(ex):
    incomplete = {label: valence for label, valence in _MAPPING.items() if label != "fearful"}
    with pytest.raises(ValueError, match="fearful"):
        ex["remap_valence"](_FACES, _LABELS, incomplete)
    with pytest.raises(ValueError):
        ex["remap_valence"](_FACES, _LABELS, {**_MAPPING, "happy": "Joyful"})


@exercise("majority_of_faces")
def majority_of_faces_counts_votes(ex):
    labels = ["Positive", "Negative", "Negative", "Neutral", "Neutral", "Positive", "Neutral"]
    photos = [0, 0, 0, 1, 1, 2, 2]
    assert list(ex["majority_of_faces"](labels, photos, 3)) == ["Negative", "Neutral", "Positive"]


@exercise("majority_of_faces")
def majority_of_faces_ties_and_faceless_photos(ex):
    # Photo 0: one Negative, one Neutral: a tie, Neutral comes first in CLASSES. Photo 1 has no face.
    # Photo 2: Positive against Negative, a tie, Positive first. Faces may come in any photo order.
    labels = ["Negative", "Positive", "Neutral", "Negative"]
    photos = [0, 2, 0, 2]
    assert list(ex["majority_of_faces"](labels, photos, 3)) == ["Neutral", None, "Positive"]


@exercise("balanced_accuracy")
def balanced_accuracy_is_the_mean_recall(ex):
    y_true = ["Positive"] * 8 + ["Neutral"] * 2 + ["Negative"] * 2
    y_pred = ["Positive"] * 6 + ["Neutral"] * 2 + ["Neutral"] * 2 + ["Negative", "Positive"]
    # recalls: Positive 6/8, Neutral 2/2, Negative 1/2
    assert ex["balanced_accuracy"](y_true, y_pred) == pytest.approx((0.75 + 1.0 + 0.5) / 3)
    # Always the largest class: its recall 1, the others 0, whatever the shares.
    assert ex["balanced_accuracy"](y_true, ["Positive"] * 12) == pytest.approx(1 / 3)


@exercise("balanced_accuracy")
def balanced_accuracy_ignores_classes_absent_from_the_truth(ex):
    # Only two classes are true; a wrong answer in a third class still counts as an error.
    y_true = np.array(["Neutral", "Neutral", "Negative", "Negative"])
    y_pred = np.array(["Neutral", "Positive", "Negative", "Negative"])
    assert ex["balanced_accuracy"](y_true, y_pred) == pytest.approx((0.5 + 1.0) / 2)


@exercise("balanced_accuracy")
def balanced_accuracy_counts_no_answer_as_wrong(ex):
    # None: no answer (a photo without a face). It is wrong for its class; scikit-learn refuses
    # a mix of None and class names.
    y_true = ["Positive", "Positive", "Neutral", "Negative"]
    y_pred = ["Positive", None, "Neutral", None]
    assert ex["balanced_accuracy"](y_true, y_pred) == pytest.approx((0.5 + 1.0 + 0.0) / 3)


# What a scikit-learn answer would import inside its body: each fails while the last check runs.
_SKLEARN_METRICS = [f"sklearn.metrics.{name}" for name in (
    "balanced_accuracy_score", "recall_score", "confusion_matrix", "multilabel_confusion_matrix",
    "precision_recall_fscore_support", "classification_report", "accuracy_score")]


@exercise("balanced_accuracy")
def balanced_accuracy_is_written_without_scikit_learn(ex):
    function = ex["balanced_accuracy"]
    with refusing(function, ["sklearn"], _SKLEARN_METRICS):
        assert function(["Positive", "Neutral", "Neutral"], ["Positive", "Neutral", "Positive"]) == pytest.approx(0.75)
