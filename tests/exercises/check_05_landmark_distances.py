"""Checks for the exercises of notebook 05. Run: make check NB=05"""

import numpy as np
import pytest

from gle_utils import geometry
from gle_utils.exercises import load_exercises

ex = load_exercises("05_landmark_distances")

FACE = np.random.default_rng(5).uniform(0, 224, size=(68, 2))


def test_mean_normalised_distances_of_a_3_4_5_triangle():
    # Pairs (0, 1), (0, 2), (1, 2): lengths 3, 4, 5, mean 4.
    distances = ex["mean_normalised_distances"]([(0, 0), (3, 0), (0, 4)])
    assert np.asarray(distances) == pytest.approx([0.75, 1.0, 1.25])


def test_mean_normalised_distances_of_68_points_is_the_papers_variant():
    distances = np.asarray(ex["mean_normalised_distances"](FACE))
    assert distances.shape == (2278,)
    assert distances.mean() == pytest.approx(1.0)
    assert distances == pytest.approx(geometry.landmark_distances(FACE, "mean"))
    moved_and_scaled = np.asarray(ex["mean_normalised_distances"](3.5 * FACE + [-40, 12]))
    assert moved_and_scaled == pytest.approx(distances)


def _hand_made_face():
    points = np.zeros((68, 2))
    points[0], points[16] = (0, 50), (100, 50)     # jaw ends: the face is 100 wide
    points[48], points[54] = (30, 80), (70, 80)    # mouth corners: 40 apart
    points[51], points[57] = (50, 75), (50, 85)    # lips: 10 apart
    return points


def test_selected_distances_in_face_widths():
    points = _hand_made_face()
    assert np.asarray(ex["selected_distances"](points, [(48, 54), (51, 57)])) == pytest.approx([0.4, 0.1])
    assert np.asarray(ex["selected_distances"](2 * points + 7, [(54, 48)])) == pytest.approx([0.4])


def test_selected_distances_with_another_reference():
    points = _hand_made_face()
    result = ex["selected_distances"](points, [(51, 57), (0, 16)], reference=(48, 54))
    assert np.asarray(result) == pytest.approx([0.25, 2.5])


def test_photo_score_by_vote_counts_faces_not_probabilities():
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


def test_photo_score_by_vote_keeps_the_order_of_first_appearance():
    face_probs = np.eye(3)[[2, 0, 2, 1]]
    votes = np.asarray(ex["photo_score_by_vote"](face_probs, [7, 3, 7, 3]))
    assert votes == pytest.approx(np.array([[0, 0, 1], [0.5, 0.5, 0]]))
