"""The classifier zoo of the paper's Table 2, and an evaluation that reports the spread.

Section 2.5: "we implemented most popular classifiers including Logistic Regression, Support
Vector Regression, Gradient Boosting Trees and Random Forest"; Table 2 adds a Multi-Layered
Perceptron with one hidden layer. Random Forest won and became every member of the final
ensemble. ``make_classifier(name)`` builds each as a scikit-learn Pipeline (standardisation
first where the method cares about feature scales: not for trees), seeds fixed.

The authors' forests (their code, github.com/arassadin/emotiw2017, release.ipynb):
``OneVsRestClassifier(RandomForestClassifier(n))``, one forest per class, with n = 5000 trees on
the landmark distances and 5000 / 1000 / 1000 / 5000 on VGGFace BGR-avgpool / BGR-fc7 /
RGB-avgpool / RGB-fc7, and no random seed. Thousands of trees are slow on a 2-core machine,
so the number is a parameter whose default (``DEFAULT_TREES``) is small.

One validation split gives one number; with a few hundred photos that number moves by several
points from one split to another. ``evaluate`` therefore repeats the split (stratified by
class, or grouped by person so that one person's faces are never on both sides) and returns
every accuracy; ``table2`` lays out mean +- sd beside the paper's own number.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.model_selection import StratifiedGroupKFold, StratifiedShuffleSplit
from sklearn.multiclass import OneVsRestClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from tqdm import tqdm

from . import config
from .registry import Registry

__all__ = ["CLASSIFIERS", "DEFAULT_TREES", "MODEL_LABELS", "MODEL_NAMES", "PAPER_COLUMN", "PAPER_TABLE2",
           "class_indices", "evaluate", "make_classifier", "paper_accuracy", "probabilities_in_class_order",
           "random_forest", "repeated_splits", "svm_with_probabilities", "table2"]

DEFAULT_TREES = 300  # per forest; small enough for CI and the 2-core machine


# ---------------------------------------------------------------------------------------------
# Labels and probabilities in one fixed class order
# ---------------------------------------------------------------------------------------------

def class_indices(labels, classes: tuple[str, ...] = config.CLASSES) -> np.ndarray:
    """Class names ("Positive", ...) -> their indices in ``classes``; integer labels pass through."""
    labels = np.asarray(labels)
    if labels.dtype.kind in "iu":
        if labels.size and (labels.min() < 0 or labels.max() >= len(classes)):
            raise ValueError(f"integer labels must be indices 0..{len(classes) - 1} into {classes}")
        return labels.astype(np.int64)
    lookup = {name: index for index, name in enumerate(classes)}
    unknown = sorted({str(label) for label in labels if label not in lookup})
    if unknown:
        raise ValueError(f"unknown labels {unknown}; expected one of {classes}")
    return np.array([lookup[label] for label in labels], dtype=np.int64)


def probabilities_in_class_order(model, X, classes: tuple[str, ...] = config.CLASSES) -> np.ndarray:
    """``model.predict_proba(X)`` with its columns put in ``classes`` order: (n, len(classes)).

    scikit-learn orders the columns by ``model.classes_``, which is SORTED (Negative, Neutral,
    Positive for names), not our order. A class the model never saw gets probability 0.
    """
    raw = model.predict_proba(X)
    ordered = np.zeros((raw.shape[0], len(classes)))
    for column, label in enumerate(model.classes_):
        index = int(label) if np.issubdtype(type(label), np.integer) else classes.index(label)
        ordered[:, index] = raw[:, column]
    return ordered


# ---------------------------------------------------------------------------------------------
# The zoo
# ---------------------------------------------------------------------------------------------

# The classifiers of Table 2, by short name, in the order of its columns. Each is registered
# with the name the paper gives it (its label) and built by a function of (seed, n_estimators,
# n_jobs) that returns an unfitted scikit-learn estimator; those without trees or a parallel fit
# ignore the last two. Adding a classifier is one more registered function.
CLASSIFIERS = Registry("classifier")


def svm_with_probabilities(C: float = 1.0) -> CalibratedClassifierCV:
    """An RBF support vector machine whose scores are turned into probabilities (Platt scaling).

    The sigmoid is fitted on 3-fold cross-validated decision values and the SVM itself on all the
    data: what ``SVC(probability=True)`` did, which scikit-learn 1.9 deprecates. Deterministic.
    """
    return CalibratedClassifierCV(SVC(kernel="rbf", C=C), method="sigmoid", cv=3, ensemble=False)


@CLASSIFIERS.register("logistic_regression", label="Logistic Regression",
                      about="standardised features, L2-regularised logistic regression (C=1)")
def _logistic_regression(seed: int, n_estimators: int, n_jobs: int | None) -> Pipeline:
    return Pipeline([("scale", StandardScaler()),
                     ("logistic", LogisticRegression(C=1.0, max_iter=5000, random_state=seed))])


@CLASSIFIERS.register("svm", label="SVM",
                      about="standardised features, an RBF SVM with Platt-scaled probabilities")
def _svm(seed: int, n_estimators: int, n_jobs: int | None) -> Pipeline:
    return Pipeline([("scale", StandardScaler()), ("svm", svm_with_probabilities())])


@CLASSIFIERS.register("gradient_boosting", label="Gradient Boosting Trees",
                      about="100 boosted trees, each split choosing among sqrt(d) random features")
def _gradient_boosting(seed: int, n_estimators: int, n_jobs: int | None) -> Pipeline:
    # max_features="sqrt": each split looks at a random sqrt(d) of the features, which makes a
    # fit on the 2278 landmark distances many times faster than one that looks at them all.
    boosting = GradientBoostingClassifier(n_estimators=100, max_features="sqrt", random_state=seed)
    return Pipeline([("boosting", boosting)])


@CLASSIFIERS.register("random_forest", label="Random Forest",
                      about="one Random Forest per class (one-vs-rest), n_estimators trees each",
                      paper="the authors' classifier: every member of their final ensemble")
def random_forest(n_estimators: int = DEFAULT_TREES, seed: int = config.SEED, n_jobs: int | None = None) -> Pipeline:
    """The authors' classifier: one Random Forest per class (one-vs-rest), probabilities renormalised."""
    forest = RandomForestClassifier(n_estimators=n_estimators, random_state=seed, n_jobs=n_jobs)
    return Pipeline([("forest", OneVsRestClassifier(forest))])


@CLASSIFIERS.register("mlp", label="Multi-Layered Perceptron (1 hidden layer)",
                      about="standardised features, one hidden layer of 256 ReLU units")
def _mlp(seed: int, n_estimators: int, n_jobs: int | None) -> Pipeline:
    # tol=1e-3: training stops once the loss has not improved by 0.001 for 10 epochs, well before
    # max_iter. scikit-learn's default 1e-4 runs about twice as many epochs for mean accuracies
    # that hardly move.
    return Pipeline([("scale", StandardScaler()),
                     ("mlp", MLPClassifier(hidden_layer_sizes=(256,), alpha=1e-3, tol=1e-3, max_iter=1000,
                                           random_state=seed))])


# Short names used in code -> the names of the paper's Table 2.
MODEL_LABELS = {entry.name: entry.label for entry in CLASSIFIERS}
MODEL_NAMES = CLASSIFIERS.names()


def make_classifier(name: str, seed: int = config.SEED, n_estimators: int = DEFAULT_TREES,
                    n_jobs: int | None = None) -> Pipeline:
    """One classifier of Table 2 by its short name, unfitted.

    Parameters
    ----------
    name : str
        One of ``MODEL_NAMES`` ("logistic_regression", "svm", "gradient_boosting",
        "random_forest", "mlp").
    seed : int
        The seed of every random choice the classifier makes.
    n_estimators : int
        Trees per forest (Random Forest only).
    n_jobs : int or None
        Trees built at the same time (Random Forest only; -1 = one per core).

    Returns
    -------
    sklearn.pipeline.Pipeline
        The unfitted classifier, standardisation first where the method cares about scales.

    Raises
    ------
    ValueError
        For a name that is not in ``MODEL_NAMES``.
    """
    return CLASSIFIERS[name].part(seed=seed, n_estimators=n_estimators, n_jobs=n_jobs)


# ---------------------------------------------------------------------------------------------
# Evaluation with spread
# ---------------------------------------------------------------------------------------------

def _drop_rows_without_features(X, y, groups=None, feature_set: str = "features", verbose: bool = True):
    """Drop the rows whose features hold NaN (photos where no face was found) and say how many.

    Face features of a faceless photo are NaN by convention; the classifiers cannot use such a
    row, so it is left out of training and of the accuracy. Returns X, y and groups
    (the rows kept) and ``keep``, the boolean mask of the rows kept.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    keep = ~np.isnan(X).any(axis=1)
    n_dropped = int((~keep).sum())
    if n_dropped and verbose:
        print(f"{feature_set}: {n_dropped} of {len(X)} photos have no features (no face found) "
              "and are left out of this evaluation")
    return X[keep], y[keep], (None if groups is None else np.asarray(groups)[keep]), keep


def repeated_splits(y, groups=None, n_repeats: int = 5, test_size: float = 0.25, seed: int = config.SEED):
    """``n_repeats`` (train, test) index pairs: stratified by class; grouped too when ``groups`` is given.

    With groups (e.g. person ids) every group lies wholly on one side of each split
    (StratifiedGroupKFold with a different shuffle per repeat; its first fold is the test part).
    """
    y = np.asarray(y)
    if groups is None:
        splitter = StratifiedShuffleSplit(n_splits=n_repeats, test_size=test_size, random_state=seed)
        return list(splitter.split(np.zeros(len(y)), y))
    n_groups = len(np.unique(groups))
    n_folds = min(max(2, round(1 / test_size)), n_groups)
    splits = []
    for repeat in range(n_repeats):
        folds = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed + repeat)
        splits.append(next(folds.split(np.zeros(len(y)), y, groups)))
    return splits


def _fit_and_score(name: str, X, y, train, test, seed: int = config.SEED,
                  n_estimators: int = DEFAULT_TREES) -> float:
    """Fit a fresh ``make_classifier(name)`` on rows ``train`` of X, y; its accuracy on rows ``test``."""
    model = make_classifier(name, seed=seed, n_estimators=n_estimators)
    model.fit(X[train], y[train])
    return accuracy_score(y[test], model.predict(X[test]))


def evaluate(X, y, groups=None, model_names=MODEL_NAMES, n_repeats: int = 5, seed: int = config.SEED,
             feature_set: str = "features", test_size: float = 0.25, n_estimators: int = DEFAULT_TREES,
             n_jobs: int | None = None, verbose: bool = True, train_test=None) -> pd.DataFrame:
    """Accuracy of each classifier over ``n_repeats`` random splits: a tidy table.

    Every fit is seeded, so the accuracies are the same for any ``n_jobs``.

    Parameters
    ----------
    X : array (n_photos, n_features) or dict {feature_set: array}
        One feature matrix (named ``feature_set``), or several with rows in the same photo
        order. Rows with NaN features (photos without a face) are dropped, and counted, per
        feature set.
    y : array of class names or indices, one per row
    groups : array or None
        One group (e.g. person) per row: each split then keeps every group on one side.
    model_names : sequence of str
        Which classifiers of ``MODEL_NAMES`` to fit.
    n_repeats : int
        Random splits (stratified by class); each classifier is fitted once per split.
    seed : int
        Seeds the splits and every classifier.
    feature_set : str
        The name of ``X`` when it is one matrix.
    test_size : float
        The share of the rows in each split's test part.
    n_estimators : int
        Trees per forest (Random Forest only).
    n_jobs : int or None
        How many fits run at the same time, each in its own thread (joblib; -1 = one per core;
        tree building and matrix products release the GIL, so the threads do use the cores).
    verbose : bool
        Say how many rows were dropped, and show a progress bar.
    train_test : (bool array, bool array) or None
        ``(train_mask, test_mask)``, one entry per row of X: that one split replaces the
        random ones, e.g. the paper's train -> val (repeat 0).

    Returns
    -------
    pandas.DataFrame
        One row per (model, feature_set, repeat), columns model, feature_set, repeat,
        accuracy, n_train, n_test; ``table.attrs["dropped"]`` holds the dropped counts per
        feature set.
    """
    feature_sets = X if isinstance(X, dict) else {feature_set: X}
    unknown = [name for name in model_names if name not in CLASSIFIERS]
    if unknown:
        raise ValueError(f"unknown classifiers {unknown}; choose from {MODEL_NAMES}")
    jobs, dropped = [], {}
    for set_name, matrix in feature_sets.items():
        X_set, y_set, groups_set, keep = _drop_rows_without_features(matrix, y, groups, set_name, verbose)
        dropped[set_name] = int((~keep).sum())
        y_set = class_indices(y_set)
        if train_test is None:
            splits = repeated_splits(y_set, groups_set, n_repeats, test_size, seed)
        else:  # the given masks, on the rows kept
            splits = [tuple(np.flatnonzero(np.asarray(mask, dtype=bool)[keep]) for mask in train_test)]
        jobs += [(set_name, repeat, name, X_set, y_set, train, test)
                 for repeat, (train, test) in enumerate(splits) for name in model_names]
    # The widest feature sets (the slowest fits) first, so that quick fits fill the cores at the end.
    order = sorted(range(len(jobs)), key=lambda index: -jobs[index][3].shape[1])
    fits = Parallel(n_jobs=n_jobs, prefer="threads", return_as="generator")(
        delayed(_fit_and_score)(name, X_set, y_set, train, test, seed, n_estimators)
        for _, _, name, X_set, y_set, train, test in (jobs[index] for index in order))
    accuracies = dict(zip(order, tqdm(fits, total=len(jobs), desc="evaluate", disable=not verbose, leave=False)))
    rows = [{"model": name, "feature_set": set_name, "repeat": repeat, "accuracy": accuracies[index],
             "n_train": len(train), "n_test": len(test)}
            for index, (set_name, repeat, name, _, _, train, test) in enumerate(jobs)]
    table = pd.DataFrame(rows, columns=["model", "feature_set", "repeat", "accuracy", "n_train", "n_test"])
    table.attrs["dropped"] = dropped
    return table


# ---------------------------------------------------------------------------------------------
# Table 2 of the paper, and our results laid out like it
# ---------------------------------------------------------------------------------------------

# The paper's Table 2: accuracy (%) on the GAF 2.0 validation set. ``model`` / ``features`` tie a
# row to our short names where there is one ("vggface" = the paper does not say which VGGFace
# features). The SVM on VGGFace features is listed twice in the paper (64.90% and 65.41%).
PAPER_TABLE2 = pd.DataFrame([
    ("CENTRIST, SVM (baseline)", "svm", "centrist", 52.97),
    ("VGG-16 (end-to-end)", None, None, 64.11),
    ("VGG-19 (end-to-end)", None, None, 27.64),
    ("VGGFace (end-to-end)", None, None, 65.42),
    ("VGGFace features, SVM", "svm", "vggface", 64.90),
    ("ResNet-50 (end-to-end)", None, None, 62.65),
    ("XCeption (end-to-end)", None, None, 60.18),
    ("VGGFace features, Logistic Regression", "logistic_regression", "vggface", 67.24),
    ("VGGFace features, SVM", "svm", "vggface", 65.41),
    ("VGGFace features, Multi-Layered Perceptron (1 hidden layer)", "mlp", "vggface", 68.09),
    ("VGGFace features (BGR, avgpool), Gradient Boosting Tree", "gradient_boosting", "vggface_bgr_avgpool", 69.53),
    ("VGGFace features (RGB, fc7), Random Forest", "random_forest", "vggface_rgb_fc7", 67.62),
    ("VGGFace features (BGR, fc7), Random Forest", "random_forest", "vggface_bgr_fc7", 68.18),
    ("VGGFace features (RGB, avgpool), Random Forest", "random_forest", "vggface_rgb_avgpool", 69.78),
    ("VGGFace features (BGR, avgpool), Random Forest", "random_forest", "vggface_bgr_avgpool", 70.11),
    ("Landmark features, Random Forest", "random_forest", "landmarks", 65.16),
    ("VGG-16 for the whole image", None, "whole_image", 65.89),
    ("Proposed ensemble (except the VGG-16 for the whole image)", None, None, 72.77),
    ("Proposed ensemble, Tiny faces", None, None, 66.51),
    ("Proposed ensemble, HOG/Viola-Jones faces", None, None, 75.39),
], columns=["method", "model", "features", "accuracy"])

PAPER_COLUMN = "paper: GAF 2.0 val (%)"


def paper_accuracy(model: str, feature_set: str) -> str:
    """The paper's Table 2 number(s) for this classifier on this feature set, as text ("" if none).

    An exact feature-set match wins; otherwise a row about unspecified "VGGFace features" counts
    for any feature set whose name starts with "vggface".
    """
    same_model = PAPER_TABLE2[PAPER_TABLE2.model == model]
    matches = same_model[same_model.features == feature_set]
    if matches.empty and feature_set.startswith("vggface"):
        matches = same_model[same_model.features == "vggface"]
    return " / ".join(f"{value:.2f}" for value in matches.accuracy)


def table2(results: pd.DataFrame) -> pd.DataFrame:
    """Lay out ``evaluate`` results like the paper's Table 2: one row per method, mean +- sd.

    The paper's number sits in its own, clearly labelled column: it was measured on GAF 2.0
    with the authors' features, not on the data these results come from.
    """
    rows = []
    for (feature_set, model), group in results.groupby(["feature_set", "model"], sort=False):
        mean, sd = 100 * group.accuracy.mean(), 100 * group.accuracy.std(ddof=1)
        rows.append({"method": f"{feature_set}, {MODEL_LABELS.get(model, model)}",
                     "accuracy here (%), mean ± sd": f"{mean:.1f} ± {sd:.1f}",
                     "mean (%)": round(mean, 2), "sd (%)": round(sd, 2), "repeats": len(group),
                     PAPER_COLUMN: paper_accuracy(model, feature_set)})
    return pd.DataFrame(rows).set_index("method")
