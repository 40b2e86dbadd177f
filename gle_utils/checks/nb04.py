"""The checks of notebook 04's exercises: `make check NB=04`, the tests and the course's test cells run them."""

import numpy as np
import pytest

from gle_utils.checks import exercise

__all__ = ["trimmed_mean_pool_trims_each_feature_on_its_own", "trimmed_mean_pool_between_mean_and_median",
           "pull_of_one_face_on_one_feature", "pull_of_one_face_is_a_distance_over_all_features",
           "paired_difference_mean_and_standard_error", "paired_difference_removes_what_the_runs_share",
           "paired_difference_refuses_unpaired_or_single_runs"]


# Five faces, two features; each feature has its outlier in another face and at another end.
_FIVE = np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0], [4.0, 40.0], [100.0, -1000.0]])


@exercise("trimmed_mean_pool")
def trimmed_mean_pool_trims_each_feature_on_its_own(ex):
    # Feature 1: drop 1 and 100, average 2, 3, 4. Feature 2: drop -1000 and 40, average 10, 20, 30.
    pooled = ex["trimmed_mean_pool"](_FIVE, 0.2)
    assert np.shape(pooled) == (2,)
    assert pooled == pytest.approx([3.0, 20.0])


@exercise("trimmed_mean_pool")
def trimmed_mean_pool_between_mean_and_median(ex):
    assert ex["trimmed_mean_pool"](_FIVE, 0.0) == pytest.approx(_FIVE.mean(axis=0))
    four = _FIVE[1:]
    assert ex["trimmed_mean_pool"](four, 0.25) == pytest.approx(np.median(four, axis=0))
    assert ex["trimmed_mean_pool"](four) == pytest.approx(np.median(four, axis=0)), "the default is 0.25"
    assert ex["trimmed_mean_pool"](_FIVE[:1], 0.25) == pytest.approx(_FIVE[0])


@exercise("pull_of_one_face")
def pull_of_one_face_on_one_feature(ex):
    # Faces 1, 2, 3 and an odd face at 100: the mean goes from 2 to 26.5, the median from 2 to 2.5.
    assert ex["pull_of_one_face"]([[1.0], [2.0], [3.0]], [100.0]) == pytest.approx((24.5, 0.5))
    # Ten times farther: the mean moves about ten times as far, the median no farther.
    mean_shift, median_shift = ex["pull_of_one_face"]([[1.0], [2.0], [3.0]], [1000.0])
    assert mean_shift == pytest.approx(249.5) and median_shift == pytest.approx(0.5)
    assert ex["pull_of_one_face"]([[1.0], [2.0], [3.0]], [2.0]) == pytest.approx((0.0, 0.0))


@exercise("pull_of_one_face")
def pull_of_one_face_is_a_distance_over_all_features(ex):
    # Mean (1, 1) -> (3.25, -1.75); element-wise median (1, 1) -> (1.5, 0.5).
    mean_shift, median_shift = ex["pull_of_one_face"]([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]], [10.0, -10.0])
    assert mean_shift == pytest.approx(np.hypot(2.25, 2.75))
    assert median_shift == pytest.approx(np.hypot(0.5, 0.5))


@exercise("paired_difference")
def paired_difference_mean_and_standard_error(ex):
    # Differences 2, 3, 4, 5: mean 3.5, standard deviation sqrt(5/3), standard error sqrt(5/3) / 2.
    assert ex["paired_difference"]([3, 5, 7, 9], [1, 2, 3, 4]) == pytest.approx((3.5, np.sqrt(5 / 3) / 2))
    assert ex["paired_difference"]([1, 2, 3, 4], [3, 5, 7, 9]) == pytest.approx((-3.5, np.sqrt(5 / 3) / 2))


@exercise("paired_difference")
def paired_difference_removes_what_the_runs_share(ex):
    # The runs differ a lot, but a always beats b by exactly 1 point: no doubt at all.
    b = np.array([0.52, 0.71, 0.60, 0.80, 0.45])
    assert ex["paired_difference"](b + 0.01, b) == pytest.approx((0.01, 0.0), abs=1e-12)


@exercise("paired_difference")
def paired_difference_refuses_unpaired_or_single_runs(ex):
    with pytest.raises(ValueError):
        ex["paired_difference"]([0.7, 0.8, 0.9], [0.7, 0.8])
    with pytest.raises(ValueError):
        ex["paired_difference"]([0.7], [0.6])
