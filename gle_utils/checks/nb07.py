"""The checks of notebook 07's exercises: `make check NB=07`, the tests and the course's test cells run them."""

import numpy as np
import pytest

from gle_utils import ensemble
from gle_utils.checks import exercise
from gle_utils.checks.shortcuts import refusing

__all__ = ["weighted_vote_by_hand", "weighted_vote_a_faceless_photo_is_decided_by_the_whole_image_member",
           "weighted_vote_no_member_present_gives_nan",
           "weighted_vote_divides_by_the_weight_of_the_members_present",
           "weighted_vote_is_written_without_the_ensemble_module",
           "accuracy_weights_count_only_the_photos_with_an_output",
           "accuracy_weights_are_written_without_the_ensemble_module",
           "leave_one_out_gain_two_members", "leave_one_out_gain_a_weak_member_can_hurt"]

# What an exercise function would import inside its body to skip the work: gle_utils.ensemble's own.
_ENSEMBLE = [f"gle_utils.ensemble.{name}" for name in ensemble.__all__ if callable(getattr(ensemble, name))]


def _written_out(ex, function: str) -> None:
    assert ex[function] is not getattr(ensemble, function), \
        f"{function} is gle_utils.ensemble's own: the exercise asks you to write the rule"


_NAN = [np.nan] * 3

# Four photos, labels below. Photo 3 has no face: the face member "landmarks" has no output there.
_LANDMARKS = np.array([[.8, .1, .1], [.1, .8, .1], [.1, .1, .8], _NAN])       # right wherever it has a say
_WHOLE = np.array([[.1, .8, .1], [.1, .8, .1], [.1, .8, .1], [.7, .2, .1]])  # always Neutral, but photo 3
_NOISE = np.array([[.1, .1, .8], [.1, .1, .8], [.1, .1, .8], [0, .9, .1]])   # always wrong-ish
_LABELS = ["Positive", "Neutral", "Negative", "Positive"]
_WEIGHTS = {"landmarks": 0.9, "whole_image": 0.5, "noise": 0.4}


@exercise("weighted_vote")
def weighted_vote_by_hand(ex):
    probabilities = {"landmarks": np.array([[.6, .3, .1]]), "whole_image": np.array([[.2, .2, .6]])}
    # (0.6 * [.6 .3 .1] + 0.9 * [.2 .2 .6]) / (0.6 + 0.9) = [.54 .36 .60] / 1.5: Negative
    scores = np.asarray(ex["weighted_vote"](probabilities, {"landmarks": 0.6, "whole_image": 0.9}))
    assert scores == pytest.approx(np.array([[0.36, 0.24, 0.40]]))
    # More say to the landmarks: (2 * [.6 .3 .1] + 0.9 * [.2 .2 .6]) / 2.9 = [1.38 .78 .74] / 2.9: Positive
    scores = np.asarray(ex["weighted_vote"](probabilities, {"landmarks": 2.0, "whole_image": 0.9}))
    assert scores == pytest.approx(np.array([[1.38, 0.78, 0.74]]) / 2.9)


@exercise("weighted_vote")
def weighted_vote_a_faceless_photo_is_decided_by_the_whole_image_member(ex):
    scores = np.asarray(ex["weighted_vote"]({"landmarks": _LANDMARKS, "whole_image": _WHOLE}, _WEIGHTS))
    assert scores.shape == (4, 3)
    assert scores[3] == pytest.approx([.7, .2, .1])
    assert scores[0] == pytest.approx((0.9 * _LANDMARKS[0] + 0.5 * _WHOLE[0]) / 1.4)
    assert scores.sum(axis=1) == pytest.approx(np.ones(4))


@exercise("weighted_vote")
def weighted_vote_no_member_present_gives_nan(ex):
    other = np.array([[.2, .6, .2]] * 3 + [_NAN])         # another face member: no output on photo 3 either
    scores = np.asarray(ex["weighted_vote"]({"landmarks": _LANDMARKS, "vggface": other},
                                            {"landmarks": 1.0, "vggface": 0.5}))
    assert np.isnan(scores[3]).all()
    assert scores[:3] == pytest.approx((_LANDMARKS[:3] + 0.5 * other[:3]) / 1.5)


@exercise("weighted_vote")
def weighted_vote_divides_by_the_weight_of_the_members_present(ex):
    # The landmark member's summed scores: a photo of 3 faces gives rows that sum to 3, not 1. The
    # rule asked divides by the weight of the members present (here 1 + 1 = 2), which keeps the
    # sum; ensemble.weighted_vote divides each row by its own total instead.
    probabilities = {"landmarks": np.array([[2.4, 0.3, 0.3], [0.5, 0.3, 0.2]]),
                     "whole_image": np.array([[0.1, 0.8, 0.1], [0.2, 0.2, 0.6]])}
    scores = np.asarray(ex["weighted_vote"](probabilities, {"landmarks": 1.0, "whole_image": 1.0}))
    assert scores[0] == pytest.approx([1.25, 0.55, 0.2]), "divide by the total weight of the members present"
    assert scores[1] == pytest.approx([0.35, 0.25, 0.4])


@exercise("weighted_vote")
def weighted_vote_is_written_without_the_ensemble_module(ex):
    _written_out(ex, "weighted_vote")
    with refusing(ex["weighted_vote"], ["gle_utils"], _ENSEMBLE):
        scores = np.asarray(ex["weighted_vote"]({"landmarks": _LANDMARKS, "whole_image": _WHOLE}, _WEIGHTS))
    assert scores[3] == pytest.approx([.7, .2, .1])


@exercise("accuracy_weights")
def accuracy_weights_count_only_the_photos_with_an_output(ex):
    probabilities = {"landmarks": np.vstack([_LANDMARKS[:2], [[.8, .1, .1]], [_NAN]]), "whole_image": _WHOLE}
    weights = ex["accuracy_weights"](probabilities, _LABELS)
    assert set(weights) == {"landmarks", "whole_image"}
    assert weights["landmarks"] == pytest.approx(2 / 3)    # right on photos 0 and 1, wrong on 2; 3 has no output
    assert weights["whole_image"] == pytest.approx(2 / 4)  # right on photos 1 and 3


@exercise("accuracy_weights")
def accuracy_weights_are_written_without_the_ensemble_module(ex):
    _written_out(ex, "accuracy_weights")
    with refusing(ex["accuracy_weights"], ["gle_utils"], _ENSEMBLE):
        weights = ex["accuracy_weights"]({"landmarks": _LANDMARKS, "whole_image": _WHOLE}, _LABELS)
    assert weights == pytest.approx({"landmarks": 1.0, "whole_image": 0.5})


@exercise("leave_one_out_gain")
def leave_one_out_gain_two_members(ex):
    gains = ex["leave_one_out_gain"]({"landmarks": _LANDMARKS, "whole_image": _WHOLE}, _WEIGHTS, _LABELS)
    # Both: 4 of 4 right. Without landmarks: whole_image alone, 2 of 4. Without whole_image: the
    # faceless photo 3 has no answer (an error), 3 of 4.
    assert gains == pytest.approx({"landmarks": 0.5, "whole_image": 0.25})


@exercise("leave_one_out_gain")
def leave_one_out_gain_a_weak_member_can_hurt(ex):
    gains = ex["leave_one_out_gain"]({"landmarks": _LANDMARKS, "whole_image": _WHOLE, "noise": _NOISE}, _WEIGHTS, _LABELS)
    # All three: 3 of 4 (noise outvotes whole_image on photo 3). Without landmarks 1 of 4, without
    # whole_image 3 of 4, without noise 4 of 4.
    assert gains == pytest.approx({"landmarks": 0.5, "whole_image": 0.0, "noise": -0.25})
