"""The checks of notebook 06's exercises: `make check NB=06`, the tests and the course's test cells run them."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier

from gle_utils.checks import exercise

__all__ = ["repeated_accuracy_stratifies_the_splits", "repeated_accuracy_spread_and_determinism",
           "repeated_accuracy_leaves_out_rows_without_features",
           "repeated_accuracy_fits_a_fresh_copy_on_each_split_and_its_sd_has_ddof_1",
           "the_same_people_on_both_sides_make_a_memoriser_look_good",
           "grouped_accuracy_keeps_each_person_on_one_side",
           "grouped_accuracy_fits_a_fresh_copy_on_each_split_and_its_sd_has_ddof_1",
           "winner_shares_counts_the_best_of_each_split_and_shares_ties",
           "winner_shares_looks_at_one_feature_set_only"]


class _PersonMemoriser(ClassifierMixin, BaseEstimator):
    """Knows nothing about expressions: remembers each person's label (column 0 is the person)."""

    def fit(self, X, y):
        self.label_of_ = {row[0]: label for row, label in zip(X, y)}
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.array([self.label_of_.get(row[0], "never seen") for row in X], dtype=object)


class _Scripted(ClassifierMixin, BaseEstimator):
    """Right on a set share of the rows it predicts, whatever the split: on the k-th fit of any
    copy, the share ``shares[k]``. Column 0 of X is the true label's index (0 for "a", 1 for "b").

    An instance refuses a second fit, and the caller's own instance must stay unfitted: each
    split needs a fresh copy (``sklearn.base.clone``).
    """

    fits = 0  # fits of any copy since the check started

    def __init__(self, shares=(1.0, 0.5, 0.0)):
        self.shares = shares

    def fit(self, X, y):
        assert not hasattr(self, "share_"), "the same model was fitted twice: fit a fresh copy (clone) on each split"
        self.share_ = self.shares[type(self).fits % len(self.shares)]
        type(self).fits += 1
        self.classes_ = np.array(["a", "b"])
        return self

    def predict(self, X):
        truth = np.asarray(X)[:, 0].astype(int)
        n_right = int(round(self.share_ * len(truth)))
        answer = np.where(np.arange(len(truth)) < n_right, truth, 1 - truth)
        return self.classes_[answer]


def _fresh_copies_and_ddof_1(run) -> None:
    """``run(model)`` -> (mean, sd) over 3 splits of 100 rows: accuracies 1.0, 0.5 and 0.0."""
    _Scripted.fits = 0
    model = _Scripted()
    mean, sd = run(model)
    assert not hasattr(model, "share_"), "the model passed in was fitted: fit a fresh copy (sklearn.base.clone)"
    assert _Scripted.fits == 3, f"{_Scripted.fits} fits for 3 splits: one fresh copy per split"
    assert mean == pytest.approx(0.5, abs=0.03)
    # The sample standard deviation of 1.0, 0.5, 0.0 (ddof=1) is 0.5; np.std's default (ddof=0) gives 0.41.
    assert sd == pytest.approx(0.5, abs=0.03), "the standard deviation over the splits needs ddof=1"


_X_SCRIPTED = np.column_stack([np.arange(100) % 2, np.zeros(100)]).astype(float)
_Y_SCRIPTED = np.array(["a", "b"])[np.arange(100) % 2]


# 20 people with 10 faces each; a person's faces carry their label ("a" or "b").
_PEOPLE = np.repeat(np.arange(20), 10)
_X_PEOPLE = _PEOPLE[:, None].astype(float)
_Y_PEOPLE = np.where(_PEOPLE % 2 == 0, "a", "b")


@exercise("repeated_accuracy")
def repeated_accuracy_stratifies_the_splits(ex):
    # 60 "a" and 40 "b", features say nothing. Stratified 75/25: every test part holds 15 a and
    # 10 b, so always answering "a" scores 0.6 on every split, with no spread.
    y = np.array(["a"] * 60 + ["b"] * 40)
    X = np.random.default_rng(0).normal(size=(100, 3))
    mean, sd = ex["repeated_accuracy"](DummyClassifier(strategy="most_frequent"), X, y, n_repeats=5, seed=1)
    assert mean == pytest.approx(0.6)
    assert sd == pytest.approx(0.0, abs=1e-12)


@exercise("repeated_accuracy")
def repeated_accuracy_spread_and_determinism(ex):
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(80, 2)), rng.choice(["a", "b", "c"], 80)
    first = ex["repeated_accuracy"](KNeighborsClassifier(1), X, y, n_repeats=6, seed=3)
    assert first == pytest.approx(ex["repeated_accuracy"](KNeighborsClassifier(1), X, y, n_repeats=6, seed=3))
    assert first[1] > 0                      # random labels: the accuracy moves from split to split
    assert 0 < first[0] < 0.7


@exercise("repeated_accuracy")
def repeated_accuracy_leaves_out_rows_without_features(ex):
    X = np.repeat(np.arange(4.0), 10)[:, None]
    y = np.where(X[:, 0] < 2, "a", "b")
    X[[0, 15, 33]] = np.nan                  # three photos without a face: LogisticRegression refuses NaN
    mean, sd = ex["repeated_accuracy"](LogisticRegression(), X, y, n_repeats=3, seed=0)
    assert mean == pytest.approx(1.0) and sd == pytest.approx(0.0, abs=1e-12)


@exercise("repeated_accuracy")
def repeated_accuracy_fits_a_fresh_copy_on_each_split_and_its_sd_has_ddof_1(ex):
    _fresh_copies_and_ddof_1(lambda model: ex["repeated_accuracy"](model, _X_SCRIPTED, _Y_SCRIPTED,
                                                                   n_repeats=3, seed=0))


@exercise("repeated_accuracy")
def the_same_people_on_both_sides_make_a_memoriser_look_good(ex):
    mean, _ = ex["repeated_accuracy"](_PersonMemoriser(), _X_PEOPLE, _Y_PEOPLE, n_repeats=5, seed=0)
    assert mean > 0.95


@exercise("grouped_accuracy")
def grouped_accuracy_keeps_each_person_on_one_side(ex):
    mean, sd = ex["grouped_accuracy"](_PersonMemoriser(), _X_PEOPLE, _Y_PEOPLE, _PEOPLE, n_repeats=5, seed=0)
    assert mean == pytest.approx(0.0) and sd == pytest.approx(0.0, abs=1e-12)
    # A feature that really carries the label works on unseen people too.
    X = np.column_stack([_PEOPLE % 2, np.zeros(len(_PEOPLE))]).astype(float)
    mean, _ = ex["grouped_accuracy"](KNeighborsClassifier(1), X, _Y_PEOPLE, _PEOPLE, n_repeats=4, seed=2)
    assert mean == pytest.approx(1.0)
    assert ex["grouped_accuracy"](KNeighborsClassifier(1), X, _Y_PEOPLE, _PEOPLE, n_repeats=4, seed=2) == \
        pytest.approx((mean, 0.0), abs=1e-12)


@exercise("grouped_accuracy")
def grouped_accuracy_fits_a_fresh_copy_on_each_split_and_its_sd_has_ddof_1(ex):
    people = np.arange(100) // 5          # 20 people, 5 rows each, both labels among them
    _fresh_copies_and_ddof_1(lambda model: ex["grouped_accuracy"](model, _X_SCRIPTED, _Y_SCRIPTED, people,
                                                                  n_repeats=3, seed=0))


def _results():
    rows = [("random_forest", "landmarks", 0, 0.90), ("gradient_boosting", "landmarks", 0, 0.80),
            ("svm", "landmarks", 0, 0.70),
            ("random_forest", "landmarks", 1, 0.80), ("gradient_boosting", "landmarks", 1, 0.80),  # a tie
            ("svm", "landmarks", 1, 0.60),
            ("random_forest", "landmarks", 2, 0.85), ("gradient_boosting", "landmarks", 2, 0.80),
            ("svm", "landmarks", 2, 0.50),
            ("random_forest", "centrist", 0, 0.30), ("gradient_boosting", "centrist", 0, 0.40),
            ("svm", "centrist", 0, 0.50)]
    return pd.DataFrame(rows, columns=["model", "feature_set", "repeat", "accuracy"]).sample(frac=1, random_state=0)


@exercise("winner_shares")
def winner_shares_counts_the_best_of_each_split_and_shares_ties(ex):
    shares = ex["winner_shares"](_results(), "landmarks")
    assert shares == pytest.approx({"random_forest": 2.5 / 3, "gradient_boosting": 0.5 / 3, "svm": 0.0})


@exercise("winner_shares")
def winner_shares_looks_at_one_feature_set_only(ex):
    shares = ex["winner_shares"](_results(), "centrist")
    assert shares == pytest.approx({"random_forest": 0.0, "gradient_boosting": 0.0, "svm": 1.0})
    assert sum(ex["winner_shares"](_results(), "landmarks").values()) == pytest.approx(1.0)
