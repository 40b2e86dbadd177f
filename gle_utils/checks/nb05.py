"""The checks of notebook 05's exercises: `make check NB=05`, the tests and the course's test cells run them."""

import numpy as np
import pytest

from gle_utils import geometry
from gle_utils.checks import exercise

__all__ = ["interocular_distances_in_eye_distances",
           "interocular_distances_of_68_points_ignore_position_and_size", "selected_distances_in_face_widths",
           "selected_distances_with_another_reference", "photo_score_by_vote_counts_faces_not_probabilities",
           "photo_score_by_vote_keeps_the_order_of_first_appearance"]


_FACE = np.random.default_rng(5).uniform(0, 224, size=(68, 2))


def _eyes_face():
    points = np.zeros((68, 2))
    points[36:42] = [(-2, 0), (-1, 1), (1, 1), (2, 0), (1, -1), (-1, -1)]  # the right eye, centred on (0, 0)
    points[42:48] = points[36:42] + (40, 0)                                # the left eye, centred on (40, 0)
    points[0], points[16] = (-20, 10), (60, 10)                            # jaw ends: 80 apart, two eye distances
    return points


@exercise("interocular_distances")
def interocular_distances_in_eye_distances(ex):
    points = _eyes_face()
    distances = np.asarray(ex["interocular_distances"](points))
    assert distances.shape == (2278,)
    pair = list(zip(*np.triu_indices(68, k=1))).index((0, 16))   # the paper's order: (0, 1), (0, 2), ...
    assert distances[pair] == pytest.approx(2.0)


@exercise("interocular_distances")
def interocular_distances_of_68_points_ignore_position_and_size(ex):
    distances = np.asarray(ex["interocular_distances"](_FACE))
    eyes = np.linalg.norm(_FACE[36:42].mean(axis=0) - _FACE[42:48].mean(axis=0))
    by_max = geometry.landmark_distances(_FACE, "max")
    assert distances == pytest.approx(by_max * np.linalg.norm(_FACE[:, None] - _FACE[None], axis=2).max() / eyes)
    moved_and_scaled = np.asarray(ex["interocular_distances"](3.5 * _FACE + [-40, 12]))
    assert moved_and_scaled == pytest.approx(distances)


def _hand_made_face():
    points = np.zeros((68, 2))
    points[0], points[16] = (0, 50), (100, 50)     # jaw ends: the face is 100 wide
    points[48], points[54] = (30, 80), (70, 80)    # mouth corners: 40 apart
    points[51], points[57] = (50, 75), (50, 85)    # lips: 10 apart
    return points


@exercise("selected_distances")
def selected_distances_in_face_widths(ex):
    points = _hand_made_face()
    assert np.asarray(ex["selected_distances"](points, [(48, 54), (51, 57)])) == pytest.approx([0.4, 0.1])
    assert np.asarray(ex["selected_distances"](2 * points + 7, [(54, 48)])) == pytest.approx([0.4])


@exercise("selected_distances")
def selected_distances_with_another_reference(ex):
    points = _hand_made_face()
    result = ex["selected_distances"](points, [(51, 57), (0, 16)], reference=(48, 54))
    assert np.asarray(result) == pytest.approx([0.25, 2.5])


@exercise("photo_score_by_vote")
def photo_score_by_vote_counts_faces_not_probabilities(ex):
    face_probs = np.array([[0.40, 0.35, 0.25],   # photo a: two hesitant faces say Positive...
                           [0.10, 0.80, 0.10],   # photo b: one face, Neutral
                           [0.40, 0.35, 0.25],
                           [0.00, 0.00, 1.00]])  # ...one sure face says Negative
    photo_ids = ["a", "b", "a", "a"]
    votes = np.asarray(ex["photo_score_by_vote"](face_probs, photo_ids))
    assert votes.shape == (2, 3)
    assert votes[0] == pytest.approx([2 / 3, 0, 1 / 3])   # the vote: Positive
    assert votes[1] == pytest.approx([0, 1, 0])
    summed = face_probs[[0, 2, 3]].sum(axis=0)
    assert summed.argmax() == 2                            # the authors' sum: Negative


@exercise("photo_score_by_vote")
def photo_score_by_vote_keeps_the_order_of_first_appearance(ex):
    face_probs = np.eye(3)[[2, 0, 2, 1]]
    votes = np.asarray(ex["photo_score_by_vote"](face_probs, [7, 3, 7, 3]))
    assert votes == pytest.approx(np.array([[0, 0, 1], [0.5, 0.5, 0]]))
