"""The checks of notebook 07's exercises: `make check NB=07`, the tests and the course's test cells run them."""

import numpy as np
import pytest

from gle_utils.checks import exercise

__all__ = ["weighted_vote_by_hand", "weighted_vote_a_faceless_photo_is_decided_by_the_whole_image_member",
           "weighted_vote_no_member_present_gives_nan",
           "accuracy_weights_count_only_the_photos_with_an_output", "leave_one_out_gain_two_members",
           "leave_one_out_gain_a_weak_member_can_hurt"]


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


@exercise("accuracy_weights")
def accuracy_weights_count_only_the_photos_with_an_output(ex):
    probabilities = {"landmarks": np.vstack([_LANDMARKS[:2], [[.8, .1, .1]], [_NAN]]), "whole_image": _WHOLE}
    weights = ex["accuracy_weights"](probabilities, _LABELS)
    assert set(weights) == {"landmarks", "whole_image"}
    assert weights["landmarks"] == pytest.approx(2 / 3)    # right on photos 0 and 1, wrong on 2; 3 has no output
    assert weights["whole_image"] == pytest.approx(2 / 4)  # right on photos 1 and 3


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
