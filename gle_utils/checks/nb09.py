"""The checks of notebook 09's exercises: `make check NB=09`, the tests and the course's test cells run them."""

import math

import pytest
from scipy.stats import binomtest

from gle_utils.checks import exercise
from gle_utils.checks.shortcuts import refusing

__all__ = ["wilson_interval_matches_the_formula", "wilson_interval_when_all_or_none_are_right",
           "wilson_interval_refuses_impossible_counts", "wilson_interval_is_written_without_a_library",
           "photos_needed_rounds_up", "photos_needed_refuses_what_has_no_answer"]


@exercise("wilson_interval")
def wilson_interval_matches_the_formula(ex):
    # The reference is scipy's Wilson interval; the exercise writes it by hand.
    for correct, n, z in ((116, 150, 1.96), (1523, 2020, 1.96), (7, 10, 1.96), (81, 263, 2.576)):
        expected = binomtest(correct, n).proportion_ci(confidence_level=math.erf(z / math.sqrt(2)), method="wilson")
        low, high = ex["wilson_interval"](correct, n, z)
        assert (low, high) == pytest.approx((expected.low, expected.high), abs=1e-4), (correct, n, z)
    # The default z is 1.96 (95%).
    assert ex["wilson_interval"](7, 10) == pytest.approx(ex["wilson_interval"](7, 10, 1.96))


@exercise("wilson_interval")
def wilson_interval_when_all_or_none_are_right(ex):
    # Where p +- z * sqrt(p (1 - p) / n) collapses to a point (p = 0 or 1), Wilson's interval does not.
    low, high = ex["wilson_interval"](0, 10)
    assert low == pytest.approx(0.0, abs=1e-12) and high == pytest.approx(1.96 ** 2 / (10 + 1.96 ** 2))
    low, high = ex["wilson_interval"](10, 10)
    assert low == pytest.approx(10 / (10 + 1.96 ** 2)) and high == pytest.approx(1.0, abs=1e-12)


@exercise("wilson_interval")
def wilson_interval_refuses_impossible_counts(ex):
    for correct, n in ((0, 0), (-1, 10), (11, 10)):
        with pytest.raises(ValueError):
            ex["wilson_interval"](correct, n)


@exercise("wilson_interval")
def wilson_interval_is_written_without_a_library(ex):
    function = ex["wilson_interval"]
    with refusing(function, ["scipy", "statsmodels"], ["scipy.stats.binomtest"]):
        assert function(116, 150) == pytest.approx((0.6995, 0.8322), abs=1e-3)


@exercise("photos_needed")
def photos_needed_rounds_up(ex):
    # 1.96^2 * 0.25 / 0.05^2 = 384.16: 385 photos (rounding to the nearest would give 384, too few).
    assert ex["photos_needed"](0.5, 0.05) == 385
    # 1.96^2 * 0.1875 / 0.02^2 = 1800.75 -> 1801; with z = 2.576: 2.576^2 * 0.16 / 0.03^2 = 1179.7 -> 1180.
    assert ex["photos_needed"](0.75, 0.02) == 1801
    assert ex["photos_needed"](0.8, 0.03, z=2.576) == 1180
    assert isinstance(ex["photos_needed"](0.5, 0.05), int)


@exercise("photos_needed")
def photos_needed_refuses_what_has_no_answer(ex):
    for accuracy, half_width in ((0.0, 0.05), (1.0, 0.05), (1.2, 0.05), (0.5, 0.0), (0.5, -0.1)):
        with pytest.raises(ValueError):
            ex["photos_needed"](accuracy, half_width)
