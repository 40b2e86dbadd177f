"""landmark_distances(): 2278 pairwise distances of 68 landmarks, normalised by their max or mean."""

import numpy as np
import pytest

from gle_utils.geometry import N_DISTANCES, PAIRS_I, PAIRS_J, landmark_distances, pair_names


@pytest.fixture
def face():
    """68 points spread like a face (any distinct points will do)."""
    return np.random.default_rng(0).uniform(20, 180, size=(68, 2))


def test_there_are_2278_unique_pairs_in_a_fixed_order(face):
    distances = landmark_distances(face)
    assert distances.shape == (2278,) == (N_DISTANCES,)
    assert len(set(zip(PAIRS_I.tolist(), PAIRS_J.tolist()))) == 2278
    assert (PAIRS_I < PAIRS_J).all()
    assert pair_names()[:2] == ["0-1", "0-2"] and pair_names()[-1] == "66-67"


def test_each_distance_is_the_euclidean_distance_of_its_pair(face):
    distances = landmark_distances(face) * np.linalg.norm(face[PAIRS_I] - face[PAIRS_J], axis=1).max()
    # pair (0, 1) comes first, pair (48, 54) (mouth corners) somewhere after
    assert distances[0] == pytest.approx(np.hypot(*(face[0] - face[1])))
    k = pair_names().index("48-54")
    assert distances[k] == pytest.approx(np.hypot(*(face[48] - face[54])))


def test_max_normalised_largest_distance_is_exactly_one(face):
    distances = landmark_distances(face, normalise="max")
    assert distances.max() == 1.0
    assert (distances > 0).all() and (distances <= 1).all()


def test_mean_variant_has_mean_one_and_differs_from_max(face):
    by_mean = landmark_distances(face, normalise="mean")
    assert by_mean.mean() == pytest.approx(1.0)
    assert by_mean.max() > 1
    # the two differ only by a constant factor
    ratio = by_mean / landmark_distances(face, normalise="max")
    assert np.allclose(ratio, ratio[0])


@pytest.mark.parametrize("normalise", ["max", "mean"])
def test_invariant_to_scale_and_translation(face, normalise):
    moved = 3.7 * face + np.array([250.0, -40.0])
    assert np.allclose(landmark_distances(moved, normalise), landmark_distances(face, normalise))


def test_changes_when_the_expression_changes(face):
    open_mouth = face.copy()
    open_mouth[57, 1] += 15  # lower lip moves down
    assert not np.allclose(landmark_distances(open_mouth), landmark_distances(face))


def test_bad_input_is_refused_clearly(face):
    with pytest.raises(ValueError, match="68"):
        landmark_distances(face[:5])
    with pytest.raises(ValueError, match="normalise"):
        landmark_distances(face, normalise="median")
    with pytest.raises(ValueError, match="same place"):
        landmark_distances(np.ones((68, 2)))
    nan_face = face.copy()
    nan_face[3, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        landmark_distances(nan_face)
