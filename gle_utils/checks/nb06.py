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
           "the_same_people_on_both_sides_make_a_memoriser_look_good",
           "grouped_accuracy_keeps_each_person_on_one_side",
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
