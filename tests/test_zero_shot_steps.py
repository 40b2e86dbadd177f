"""tools/zero_shot_steps.py: each step pools a photo's faces as its docstring says (no network runs here)."""

import numpy as np
import pandas as pd
import pytest

from helpers import load_tool

steps = load_tool("zero_shot_steps")

# One photo, three faces: a small happy one, a large sad one, and a small neutral one found with
# low confidence. Valence columns: Positive, Neutral, Negative.
PHOTO = pd.DataFrame({
    "path": ["p"] * 3,
    "area": [100, 900, 100],
    "score": [0.9, 0.9, 0.2],
    "valence": [np.array([0.8, 0.1, 0.1]), np.array([0.1, 0.2, 0.7]), np.array([0.2, 0.6, 0.2])],
    "mirrored": [np.array([0.6, 0.3, 0.1]), np.array([0.1, 0.2, 0.7]), np.array([0.2, 0.6, 0.2])],
})


def step(name):
    return steps.STEPS[name](PHOTO)


def test_the_plain_mean_weighs_every_face_alike():
    np.testing.assert_allclose(step("plain mean (the zero-shot row)"), [1.1 / 3, 0.9 / 3, 1.0 / 3])


def test_size_and_score_weights_move_the_mean_towards_the_large_and_the_confident_faces():
    np.testing.assert_allclose(step("weighted by face size"), (np.array([0.8, 0.1, 0.1]) + 9 * np.array([0.1, 0.2, 0.7])
                                                               + np.array([0.2, 0.6, 0.2])) / 11)
    by_score = step("weighted by detection score")
    assert by_score[1] < step("plain mean (the zero-shot row)")[1]  # the unsure neutral face counts less
    np.testing.assert_allclose(by_score.sum(), 1.0)


def test_the_largest_face_alone_decides():
    np.testing.assert_allclose(step("largest face only"), [0.1, 0.2, 0.7])


def test_the_mirror_average_is_the_mean_of_both_passes():
    np.testing.assert_allclose(step("mirror-averaged"), [1.0 / 3, 1.0 / 3, 1.0 / 3])


def test_the_vote_counts_faces_and_breaks_its_ties_by_the_mean():
    # One face for each class: a three-way tie, broken by the plain mean (Positive, 1.1 / 3).
    assert steps.CLASSES[int(np.argmax(step("faces' vote (share of faces per class)")))] == "Positive"
    two_sad = pd.concat([PHOTO, PHOTO.iloc[[1]]])
    np.testing.assert_allclose(steps.vote_share(two_sad), [0.25, 0.25, 0.5], atol=1e-5)


def test_the_pooled_statistics_are_mean_share_spread_max_and_the_faces():
    stats = steps.pooled_statistics(PHOTO)
    valence = np.stack(PHOTO.valence)
    np.testing.assert_allclose(stats, np.concatenate([valence.mean(0), [1 / 3] * 3, valence.std(0),
                                                      valence.max(0), [np.log(3)]]))


@pytest.mark.parametrize("name", list(steps.STEPS))
def test_a_photo_of_one_face_gets_that_face_s_class_from_every_step(name):
    sad = PHOTO.iloc[[1]]  # the same valence mirrored, so every step must say Negative
    assert steps.CLASSES[int(np.argmax(steps.STEPS[name](sad)))] == "Negative"
